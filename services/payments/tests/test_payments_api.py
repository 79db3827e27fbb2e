"""Payments API: idempotent creation per order, status transitions, validation and RBAC."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from payments_service.models import Settlement, outbox
from platform_common.testing import caller_headers

from .conftest import PaymentsHarness

RISK = caller_headers("rita", "risk_manager")
INSTRUCTION: dict[str, Any] = {
    "order_id": "3f0c2a1e-1111-4c55-9a43-1f1a3c8e0b7d",
    "user_id": "tom",
    "isin": "US0378331005",
    "side": "buy",
    "quantity": "60",
    "price": "189.43333333",
    "currency": "USD",
}


def counts(h: PaymentsHarness) -> tuple[int, int]:
    engine = create_engine(h.settings.database_url)
    with engine.connect() as conn:
        settlements = conn.scalar(select(func.count()).select_from(Settlement)) or 0
        rows = conn.scalar(select(func.count()).select_from(outbox)) or 0
    engine.dispose()
    return int(settlements), int(rows)


def test_create_is_idempotent_on_order_id(payments: PaymentsHarness) -> None:
    first = payments.client.post("/v1/settlements", json=INSTRUCTION, headers=RISK)
    assert first.status_code == 201
    assert first.json()["amount"] == "11365.99999980000000"
    assert first.json()["status"] == "PENDING"
    second = payments.client.post(
        "/v1/settlements", json=INSTRUCTION, headers=caller_headers("ada", "admin")
    )
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert counts(payments) == (1, 1)
    conflict = payments.client.post(
        "/v1/settlements", json=dict(INSTRUCTION, quantity="61"), headers=RISK
    )
    assert conflict.status_code == 409
    assert "quantity" in conflict.json()["detail"]
    assert [m.subject for m in payments.bus.messages["events-topic"]] == ["SettlementInstructed"]


def test_status_transitions(payments: PaymentsHarness) -> None:
    settlement_id = payments.client.post("/v1/settlements", json=INSTRUCTION, headers=RISK).json()[
        "id"
    ]
    settled = payments.client.post(f"/v1/settlements/{settlement_id}/settle", headers=RISK)
    assert settled.status_code == 200
    assert settled.json()["status"] == "SETTLED"
    again = payments.client.post(
        f"/v1/settlements/{settlement_id}/fail", json={"reason": "x"}, headers=RISK
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    fetched = payments.client.get(
        f"/v1/settlements/{settlement_id}", headers=caller_headers("val", "viewer")
    )
    assert fetched.json()["status"] == "SETTLED"
    by_status = payments.client.get(
        "/v1/settlements", params={"status": "SETTLED"}, headers=RISK
    ).json()
    assert by_status["total"] == 1
    by_order = payments.client.get(
        "/v1/settlements", params={"order_id": "nope"}, headers=RISK
    ).json()
    assert by_order["total"] == 0
    assert [m.subject for m in payments.bus.messages["events-topic"]] == [
        "SettlementInstructed",
        "SettlementSettled",
    ]


def test_fail_records_reason(payments: PaymentsHarness) -> None:
    settlement_id = payments.client.post("/v1/settlements", json=INSTRUCTION, headers=RISK).json()[
        "id"
    ]
    failed = payments.client.post(
        f"/v1/settlements/{settlement_id}/fail",
        json={"reason": "counterparty SSI missing"},
        headers=RISK,
    ).json()
    assert failed["status"] == "FAILED"
    assert failed["failure_reason"] == "counterparty SSI missing"
    assert (
        payments.client.post(f"/v1/settlements/{settlement_id}/settle", headers=RISK).status_code
        == 409
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", "0"),
        ("price", "-1"),
        ("currency", "XYZ"),
        ("side", "short"),
        ("isin", "US03783310"),
        ("order_id", ""),
    ],
)
def test_invalid_instruction_is_422_and_writes_nothing(
    payments: PaymentsHarness, field: str, value: str
) -> None:
    response = payments.client.post(
        "/v1/settlements", json=dict(INSTRUCTION, **{field: value}), headers=RISK
    )
    assert response.status_code == 422
    assert any(field in err["loc"] for err in response.json()["errors"])
    assert counts(payments) == (0, 0)


def test_rbac(payments: PaymentsHarness) -> None:
    assert payments.client.post("/v1/settlements", json=INSTRUCTION).status_code == 401
    trader = payments.client.post(
        "/v1/settlements", json=INSTRUCTION, headers=caller_headers("tom", "trader")
    )
    assert trader.status_code == 403
    assert payments.client.get("/v1/settlements/unknown", headers=RISK).status_code == 404
    assert counts(payments) == (0, 0)
