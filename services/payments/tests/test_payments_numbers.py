"""The largest schema-valid settlement is stored and returned exactly, with offset timestamps."""

from __future__ import annotations

from datetime import datetime

from .conftest import PaymentsHarness
from .test_payments_api import INSTRUCTION, RISK


def test_largest_valid_amount_round_trips_exactly(payments: PaymentsHarness) -> None:
    body = dict(INSTRUCTION, quantity="999999999999.999999", price="9999999999.99999999")
    created = payments.client.post("/v1/settlements", json=body, headers=RISK)
    assert created.status_code == 201, created.text
    # (10^12 - 10^-6) x (10^10 - 10^-8): 36 digits, none rounded
    exact = "9999999999999999980000.00000000000001"
    assert created.json()["amount"] == exact
    read = payments.client.get(created.headers["Location"], headers=RISK).json()
    assert (read["quantity"], read["price"], read["amount"]) == (
        "999999999999.999999",
        "9999999999.99999999",
        exact,
    )
    for field in ("created_at", "updated_at"):
        assert datetime.fromisoformat(read[field]).utcoffset() is not None, read[field]
