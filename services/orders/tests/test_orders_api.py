"""Orders API: lifecycle, validation, risk limits, idempotency, RBAC and outbox delivery."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from orders_service.models import Order, outbox
from platform_common.audit import AUDIT_SUBJECT
from platform_common.testing import caller_headers

from .conftest import OrdersHarness

TRADER = caller_headers("tom", "trader")
OTHER_TRADER = caller_headers("tina", "trader")
ADMIN = caller_headers("ada", "admin")
LIMIT_BUY: dict[str, Any] = {
    "isin": "US0378331005",
    "side": "buy",
    "order_type": "limit",
    "quantity": "100",
    "limit_price": "189.50",
}


def table_counts(h: OrdersHarness) -> tuple[int, int]:
    engine = create_engine(h.settings.database_url)
    with engine.connect() as conn:
        orders = conn.scalar(select(func.count()).select_from(Order)) or 0
        # Event rows: audit records (subject AuditRecord) are counted by the audit tests.
        events = select(func.count()).select_from(outbox).where(outbox.c.subject != AUDIT_SUBJECT)
        rows = conn.scalar(events) or 0
    engine.dispose()
    return int(orders), int(rows)


def create(
    h: OrdersHarness, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> str:
    response = h.client.post("/v1/orders", json=body or LIMIT_BUY, headers=headers or TRADER)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def subjects(h: OrdersHarness, destination: str) -> list[str]:
    return [m.subject for m in h.bus.messages.get(destination, [])]


def test_create_writes_order_and_outbox_and_publishes(orders: OrdersHarness) -> None:
    response = orders.client.post("/v1/orders", json=LIMIT_BUY, headers=TRADER)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "NEW"
    assert body["currency"] == "USD"
    assert body["user_id"] == "tom"
    assert response.headers["location"] == f"/v1/orders/{body['id']}"
    assert table_counts(orders) == (1, 2)  # one row for orders-queue, one for events-topic
    assert subjects(orders, "orders-queue") == ["OrderCreated"]
    assert subjects(orders, "events-topic") == ["OrderCreated"]
    event = json.loads(orders.bus.messages["events-topic"][0].body)
    assert event["aggregate_id"] == body["id"]
    assert event["data"]["isin"] == "US0378331005"


def test_full_lifecycle_to_filled(orders: OrdersHarness) -> None:
    order_id = create(orders)
    assert (
        orders.client.post(f"/v1/orders/{order_id}/accept", headers=ADMIN).json()["status"]
        == "ACCEPTED"
    )
    fill = {"venue_fill_id": "X-1", "quantity": "40", "price": "189.40"}
    partial = orders.client.post(f"/v1/orders/{order_id}/fills", json=fill, headers=ADMIN).json()
    assert partial["status"] == "PARTIALLY_FILLED"
    assert partial["filled_quantity"] == "40.000000"
    # A venue retry of the same fill changes nothing.
    retry = orders.client.post(f"/v1/orders/{order_id}/fills", json=fill, headers=ADMIN).json()
    assert retry["filled_quantity"] == "40.000000"
    assert retry["version"] == partial["version"]
    amended = orders.client.patch(f"/v1/orders/{order_id}", json={"quantity": "60"}, headers=TRADER)
    assert amended.status_code == 200
    assert amended.json()["quantity"] == "60.000000"
    final = orders.client.post(
        f"/v1/orders/{order_id}/fills",
        json={"venue_fill_id": "X-2", "quantity": "20", "price": "189.50"},
        headers=ADMIN,
    ).json()
    assert final["status"] == "FILLED"
    assert final["average_fill_price"] == "189.43333333"
    assert subjects(orders, "events-topic") == [
        "OrderCreated",
        "OrderAccepted",
        "OrderFilled",
        "OrderAmended",
        "OrderFilled",
    ]
    assert subjects(orders, "orders-queue") == ["OrderCreated", "OrderAmended"]


def test_market_order_uses_reference_price_for_risk(orders: OrdersHarness) -> None:
    body = {"isin": "US0378331005", "side": "sell", "order_type": "market", "quantity": "10"}
    assert orders.client.post("/v1/orders", json=body, headers=TRADER).status_code == 201
    too_big = dict(body, quantity="1000")  # 1000 x 190 > 100000
    response = orders.client.post("/v1/orders", json=too_big, headers=TRADER)
    assert response.status_code == 422
    assert response.json()["type"].endswith("risk-limit-exceeded")


def test_market_order_notional_is_checked_at_fill(orders: OrdersHarness) -> None:
    # 500 x the 190 reference price = 95000 passes at creation; the limit is 100000.
    body = {"isin": "US0378331005", "side": "buy", "order_type": "market", "quantity": "500"}
    order_id = create(orders, body)
    assert orders.client.post(f"/v1/orders/{order_id}/accept", headers=ADMIN).status_code == 200

    def fill(fill_id: str, quantity: str, price: str) -> Any:
        return orders.client.post(
            f"/v1/orders/{order_id}/fills",
            json={"venue_fill_id": fill_id, "quantity": quantity, "price": price},
            headers=ADMIN,
        )

    whole = fill("f0", "500", "210")  # 105000: the executed price breaks the limit
    assert whole.status_code == 422
    assert whole.json()["type"].endswith("risk-limit-exceeded")
    assert "105000" in whole.json()["detail"]
    assert fill("f1", "400", "210").status_code == 200  # 84000
    assert fill("f2", "100", "210").status_code == 422  # 84000 + 21000 over the limit
    at_limit = fill("f3", "100", "160")  # 84000 + 16000: exactly the limit is allowed
    assert at_limit.status_code == 200, at_limit.text
    assert at_limit.json()["status"] == "FILLED"
    # A limit order is bounded by its limit price at creation, so its fills are not re-checked.
    limit_id = create(orders, dict(LIMIT_BUY, quantity="500", limit_price="199.00"))
    orders.client.post(f"/v1/orders/{limit_id}/accept", headers=ADMIN)
    limit_fill = orders.client.post(
        f"/v1/orders/{limit_id}/fills",
        json={"venue_fill_id": "l1", "quantity": "500", "price": "199.00"},
        headers=ADMIN,
    )
    assert limit_fill.status_code == 200


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (dict(LIMIT_BUY, quantity="0"), "quantity"),
        (dict(LIMIT_BUY, quantity="-5"), "quantity"),
        (dict(LIMIT_BUY, side="hold"), "side"),
        (dict(LIMIT_BUY, order_type="stop"), "order_type"),
        ({k: v for k, v in LIMIT_BUY.items() if k != "limit_price"}, "body"),  # limit without price
        (dict(LIMIT_BUY, order_type="market"), "body"),  # market with price
        (dict(LIMIT_BUY, limit_price="0"), "limit_price"),
        (dict(LIMIT_BUY, isin="not-an-isin"), "isin"),
        (dict(LIMIT_BUY, extra="x"), "extra"),
    ],
)
def test_schema_validation_errors_are_422_and_write_nothing(
    orders: OrdersHarness, body: dict[str, Any], where: str
) -> None:
    response = orders.client.post("/v1/orders", json=body, headers=TRADER)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert any(where in err["loc"] for err in response.json()["errors"])
    assert table_counts(orders) == (0, 0)
    assert orders.bus.messages == {}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (dict(LIMIT_BUY, isin="US5949181045"), "Unknown instrument"),
        (dict(LIMIT_BUY, isin="GB0002634946", limit_price="100.5"), "inactive"),
        (dict(LIMIT_BUY, limit_price="189.505"), "tick size"),
        (dict(LIMIT_BUY, quantity="1000"), "per-order limit"),
        (
            {"isin": "DE0007236101", "side": "buy", "order_type": "market", "quantity": "1"},
            "reference price",
        ),
    ],
)
def test_domain_rule_violations_are_422_and_write_nothing(
    orders: OrdersHarness, body: dict[str, Any], detail: str
) -> None:
    response = orders.client.post("/v1/orders", json=body, headers=TRADER)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert table_counts(orders) == (0, 0)
    assert orders.catalog.calls == 1


def test_open_order_limit_per_user(orders: OrdersHarness) -> None:
    ids = [create(orders) for _ in range(3)]
    response = orders.client.post("/v1/orders", json=LIMIT_BUY, headers=TRADER)
    assert response.status_code == 422
    assert "Open order limit" in response.json()["detail"]
    assert create(orders, headers=OTHER_TRADER)  # the limit is per user
    orders.client.post(f"/v1/orders/{ids[0]}/cancel", headers=TRADER)
    assert create(orders)  # cancelling frees a slot


def test_idempotent_create(orders: OrdersHarness) -> None:
    headers = {**TRADER, "Idempotency-Key": "key-1"}
    first = orders.client.post("/v1/orders", json=LIMIT_BUY, headers=headers)
    second = orders.client.post("/v1/orders", json=LIMIT_BUY, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert first.headers["location"] == f"/v1/orders/{first.json()['id']}"
    assert second.headers["location"] == first.headers["location"]
    assert table_counts(orders) == (1, 2)

    conflict = orders.client.post("/v1/orders", json=dict(LIMIT_BUY, quantity="5"), headers=headers)
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == "application/problem+json"
    # Keys are scoped per caller: another trader may use the same key.
    other = orders.client.post(
        "/v1/orders", json=LIMIT_BUY, headers={**OTHER_TRADER, "Idempotency-Key": "key-1"}
    )
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]
    assert table_counts(orders) == (2, 4)


def test_illegal_transitions_are_409(orders: OrdersHarness) -> None:
    order_id = create(orders)
    fill = {"venue_fill_id": "F1", "quantity": "1", "price": "189.50"}
    not_accepted = orders.client.post(f"/v1/orders/{order_id}/fills", json=fill, headers=ADMIN)
    assert not_accepted.status_code == 409
    assert orders.client.post(f"/v1/orders/{order_id}/cancel", headers=TRADER).status_code == 200
    before = table_counts(orders)
    for path in ("cancel", "accept"):
        response = orders.client.post(f"/v1/orders/{order_id}/{path}", headers=ADMIN)
        assert response.status_code == 409
        assert response.json()["type"].endswith("illegal-transition")
    amend = orders.client.patch(f"/v1/orders/{order_id}", json={"quantity": "5"}, headers=TRADER)
    assert amend.status_code == 409
    reject = orders.client.post(
        f"/v1/orders/{order_id}/reject", json={"reason": "late"}, headers=ADMIN
    )
    assert reject.status_code == 409
    assert table_counts(orders) == before


def test_fill_rules(orders: OrdersHarness) -> None:
    order_id = create(orders)
    orders.client.post(f"/v1/orders/{order_id}/accept", headers=ADMIN)
    over = {"venue_fill_id": "F1", "quantity": "101", "price": "189.50"}
    assert (
        orders.client.post(f"/v1/orders/{order_id}/fills", json=over, headers=ADMIN).status_code
        == 422
    )
    through_limit = {"venue_fill_id": "F1", "quantity": "1", "price": "190.00"}
    assert (
        orders.client.post(
            f"/v1/orders/{order_id}/fills", json=through_limit, headers=ADMIN
        ).status_code
        == 422
    )
    ok = {"venue_fill_id": "F1", "quantity": "1", "price": "189.00"}
    assert (
        orders.client.post(f"/v1/orders/{order_id}/fills", json=ok, headers=ADMIN).status_code
        == 200
    )
    reused = dict(ok, quantity="2")
    assert (
        orders.client.post(f"/v1/orders/{order_id}/fills", json=reused, headers=ADMIN).status_code
        == 409
    )
    below_filled = orders.client.patch(
        f"/v1/orders/{order_id}", json={"quantity": "1"}, headers=TRADER
    )
    assert below_filled.status_code == 422


def test_amend_validation(orders: OrdersHarness) -> None:
    order_id = create(orders)
    assert orders.client.patch(f"/v1/orders/{order_id}", json={}, headers=TRADER).status_code == 422
    off_tick = orders.client.patch(
        f"/v1/orders/{order_id}", json={"limit_price": "1.001"}, headers=TRADER
    )
    assert off_tick.status_code == 422
    too_big = orders.client.patch(
        f"/v1/orders/{order_id}", json={"quantity": "100000"}, headers=TRADER
    )
    assert too_big.status_code == 422
    unchanged = orders.client.get(f"/v1/orders/{order_id}", headers=TRADER).json()
    assert unchanged["version"] == 1
    assert unchanged["quantity"] == "100.000000"


def test_rbac_and_ownership(orders: OrdersHarness) -> None:
    assert orders.client.post("/v1/orders", json=LIMIT_BUY).status_code == 401
    viewer = caller_headers("val", "viewer")
    assert orders.client.post("/v1/orders", json=LIMIT_BUY, headers=viewer).status_code == 403
    order_id = create(orders)
    # Another trader can neither see nor touch the order.
    assert orders.client.get(f"/v1/orders/{order_id}", headers=OTHER_TRADER).status_code == 404
    assert (
        orders.client.post(f"/v1/orders/{order_id}/cancel", headers=OTHER_TRADER).status_code == 404
    )
    assert orders.client.post(f"/v1/orders/{order_id}/accept", headers=TRADER).status_code == 403
    assert orders.client.get(f"/v1/orders/{order_id}", headers=viewer).status_code == 200
    assert orders.client.get("/v1/orders", headers=OTHER_TRADER).json()["total"] == 0
    assert orders.client.get("/v1/orders", headers=viewer).json()["total"] == 1
    listed = orders.client.get(
        "/v1/orders", headers=TRADER, params={"status": "NEW", "limit": 1}
    ).json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == order_id
