"""Payments API: verified creation, idempotency per order, transitions, validation, scoping."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from payments_service.models import Settlement, outbox
from payments_service.orders_client import HttpOrdersClient
from platform_common.audit import AUDIT_SUBJECT
from platform_common.testing import caller_headers, forwarding_transport

from .conftest import PaymentsHarness, instruction

RISK = caller_headers("rita", "risk_manager")
TWO_FILLS = [("20", "189.40"), ("40", "189.45")]


def counts(h: PaymentsHarness) -> tuple[int, int]:
    engine = create_engine(h.settings.database_url)
    with engine.connect() as conn:
        settlements = conn.scalar(select(func.count()).select_from(Settlement)) or 0
        # Event rows: audit records (subject AuditRecord) are counted by the audit tests.
        events = select(func.count()).select_from(outbox).where(outbox.c.subject != AUDIT_SUBJECT)
        rows = conn.scalar(events) or 0
    engine.dispose()
    return int(settlements), int(rows)


def settle_order(h: PaymentsHarness, trader: str = "tom") -> str:
    order = h.filled_order(TWO_FILLS, trader=trader)
    created = h.client.post("/v1/settlements", json=instruction(order), headers=RISK)
    assert created.status_code == 201, created.text
    settlement_id = created.json()["id"]
    assert isinstance(settlement_id, str)
    return settlement_id


def test_create_is_idempotent_on_order_id(payments: PaymentsHarness) -> None:
    order = payments.filled_order(TWO_FILLS)
    assert order["average_fill_price"] == "189.43333333"
    first = payments.client.post("/v1/settlements", json=instruction(order), headers=RISK)
    assert first.status_code == 201, first.text
    # The amount is what the fills moved (20 x 189.40 + 40 x 189.45), not quantity x the
    # rounded average price (which would be 11365.99999980).
    assert first.json()["amount"] == "11366.00000000000000"
    assert first.json()["status"] == "PENDING"
    assert first.headers["location"] == f"/v1/settlements/{first.json()['id']}"
    second = payments.client.post(
        "/v1/settlements", json=instruction(order), headers=caller_headers("ada", "admin")
    )
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert counts(payments) == (1, 1)
    conflict = payments.client.post(
        "/v1/settlements", json=instruction(order, quantity="61"), headers=RISK
    )
    assert conflict.status_code == 409
    assert "quantity" in conflict.json()["detail"]
    assert [m.subject for m in payments.bus.messages["events-topic"]] == ["SettlementInstructed"]


def test_status_transitions(payments: PaymentsHarness) -> None:
    settlement_id = settle_order(payments)
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
    settlement_id = settle_order(payments)
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


SCHEMA_VALID: dict[str, Any] = {
    "order_id": "3f0c2a1e-1111-4c55-9a43-1f1a3c8e0b7d",
    "user_id": "tom",
    "isin": "US0378331005",
    "side": "buy",
    "quantity": "60",
    "price": "189.43333333",
    "currency": "USD",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", "0"),
        ("price", "-1"),
        ("currency", "XYZ"),
        ("side", "short"),
        ("isin", "US03783310"),
        ("isin", "US0378331006"),  # right shape, wrong ISO 6166 check digit
        ("order_id", ""),
    ],
)
def test_invalid_instruction_is_422_and_writes_nothing(
    payments: PaymentsHarness, field: str, value: str
) -> None:
    response = payments.client.post(
        "/v1/settlements", json=dict(SCHEMA_VALID, **{field: value}), headers=RISK
    )
    assert response.status_code == 422
    assert any(field in err["loc"] for err in response.json()["errors"])
    assert counts(payments) == (0, 0)


def test_unknown_order_is_refused(payments: PaymentsHarness) -> None:
    response = payments.client.post("/v1/settlements", json=SCHEMA_VALID, headers=RISK)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "order_id"]
    assert "does not exist" in response.json()["detail"]
    assert counts(payments) == (0, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user_id", "mallory"),  # someone else's order
        ("isin", "DE0007236101"),  # a valid ISIN, not the order's
        ("side", "sell"),
        ("quantity", "59"),
        ("price", "189.43"),
        ("currency", "EUR"),
    ],
)
def test_terms_must_match_the_orders_fills(
    payments: PaymentsHarness, field: str, value: str
) -> None:
    order = payments.filled_order(TWO_FILLS)
    response = payments.client.post(
        "/v1/settlements", json=instruction(order, **{field: value}), headers=RISK
    )
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [["body", field]]
    assert counts(payments) == (0, 0)


def test_only_finished_orders_with_fills_settle(payments: PaymentsHarness) -> None:
    partial = [("10", "189.40")]
    for unsettleable in (
        payments.filled_order(partial, unfilled="5"),  # PARTIALLY_FILLED: more fills may come
        payments.filled_order([], unfilled="5"),  # ACCEPTED, nothing executed
        payments.filled_order([], unfilled="5", cancel=True),  # cancelled without fills
    ):
        refused = payments.client.post(
            "/v1/settlements", json=instruction(unsettleable), headers=RISK
        )
        assert refused.status_code == 409, refused.text
        assert unsettleable["status"] in refused.json()["detail"]
    # Cancelled after a partial fill: no execution can follow, so the fills settle.
    done_order = payments.filled_order(partial, unfilled="5", cancel=True)
    assert done_order["status"] == "CANCELLED"
    done = payments.client.post("/v1/settlements", json=instruction(done_order), headers=RISK)
    assert done.status_code == 201, done.text
    assert done.json()["quantity"] == "10.000000"
    assert done.json()["amount"] == "1894.00000000000000"
    assert counts(payments) == (1, 1)


def test_orders_api_down_is_503_after_retries(payments: PaymentsHarness) -> None:
    attempts: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        raise httpx.ConnectError("connection refused", request=request)

    payments.app.state.orders_client = HttpOrdersClient(
        "http://orders-api.internal", 0.5, 3, transport=httpx.MockTransport(refuse)
    )
    response = payments.client.post("/v1/settlements", json=SCHEMA_VALID, headers=RISK)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Orders API unavailable"
    assert len(attempts) == 3
    assert counts(payments) == (0, 0)


def test_orders_api_5xx_is_retried(payments: PaymentsHarness) -> None:
    order = payments.filled_order(TWO_FILLS)
    real = forwarding_transport(payments.orders)
    answers = iter([503, 502])

    def flaky(request: httpx.Request) -> httpx.Response:
        status = next(answers, None)
        if status is not None:
            return httpx.Response(status, text="upstream trouble")
        return real.handle_request(request)

    payments.app.state.orders_client = HttpOrdersClient(
        "http://orders-api.internal", 0.5, 3, transport=httpx.MockTransport(flaky)
    )
    created = payments.client.post("/v1/settlements", json=instruction(order), headers=RISK)
    assert created.status_code == 201, created.text

    always = HttpOrdersClient(
        "http://orders-api.internal",
        0.5,
        2,
        transport=httpx.MockTransport(lambda _r: httpx.Response(500)),
    )
    payments.app.state.orders_client = always
    other = payments.filled_order(TWO_FILLS)
    down = payments.client.post("/v1/settlements", json=instruction(other), headers=RISK)
    assert down.status_code == 503
    assert counts(payments) == (1, 1)


def test_reads_are_scoped_to_the_owner(payments: PaymentsHarness) -> None:
    toms = settle_order(payments, trader="tom")
    settle_order(payments, trader="tina")
    tom, tina = caller_headers("tom", "trader"), caller_headers("tina", "trader")
    assert payments.client.get(f"/v1/settlements/{toms}", headers=tom).status_code == 200
    assert payments.client.get(f"/v1/settlements/{toms}", headers=tina).status_code == 404
    assert [
        i["user_id"] for i in payments.client.get("/v1/settlements", headers=tina).json()["items"]
    ] == ["tina"]
    assert payments.client.get("/v1/settlements", headers=RISK).json()["total"] == 2


def test_rbac(payments: PaymentsHarness) -> None:
    assert payments.client.post("/v1/settlements", json=SCHEMA_VALID).status_code == 401
    trader = payments.client.post(
        "/v1/settlements", json=SCHEMA_VALID, headers=caller_headers("tom", "trader")
    )
    assert trader.status_code == 403
    assert payments.client.get("/v1/settlements/unknown", headers=RISK).status_code == 404
    assert counts(payments) == (0, 0)
