"""Orders read back from the database keep every digit and an RFC 3339 offset."""

from __future__ import annotations

from datetime import datetime

from .conftest import OrdersHarness
from .test_orders_api import LIMIT_BUY, TRADER


def test_read_back_order_has_exact_numbers_and_offset_timestamps(orders: OrdersHarness) -> None:
    body = dict(LIMIT_BUY, quantity="0.000001", limit_price="190.01")
    created = orders.client.post("/v1/orders", json=body, headers=TRADER)
    assert created.status_code == 201, created.text
    read = orders.client.get(created.headers["Location"], headers=TRADER).json()
    assert read["quantity"] == "0.000001"
    assert read["limit_price"] == "190.01000000"
    assert read["filled_quantity"] == "0.000000"
    for field in ("created_at", "updated_at"):
        assert datetime.fromisoformat(read[field]).utcoffset() is not None, read[field]
    assert read["created_at"] == created.json()["created_at"]
