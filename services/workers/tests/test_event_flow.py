"""Topic worker, notification fan-out and consumer, chained over the real four services."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from workers_app.calls import service_client
from workers_app.events_worker import EventsWorker, fan_out_notification, handle_event
from workers_app.notifications_worker import NotificationsWorker, record_notification
from workers_app.orders_worker import handle_order_command
from workers_app.settlement import MALFORMED, UNPROCESSABLE, Complete, DeadLetter, Retry

from .conftest import ADMIN, TRADER, Platform, bus_message, sb_message

EVENTS, NOTES = "events-topic", "notifications-topic"
# infra/messaging/entities.py NOTIFIABLE_EVENTS: the notifications subscription's SQL filter.
NOTIFIABLE = {"OrderFilled", "OrderCancelled", "OrderRejected", "SettlementSettled"}


def _filled_order(platform: Platform, quantity: str = "10") -> dict[str, Any]:
    order = platform.create_order(quantity=quantity)
    handle_order_command(bus_message(platform.orders_bus, "orders-queue"), platform.order_worker())
    fill = {"venue_fill_id": f"f-{order['id']}", "quantity": quantity, "price": "189.40"}
    answer = platform.orders.post(f"/v1/orders/{order['id']}/fills", json=fill, headers=ADMIN)
    assert answer.status_code == 200, answer.text
    return order


def _events(platform: Platform, event_type: str) -> list[Any]:
    return [
        bus_message(platform.orders_bus, EVENTS, i)
        for i, m in enumerate(platform.orders_bus.messages[EVENTS])
        if m.subject == event_type
    ]


def _deliver_all(platform: Platform) -> None:
    """Hand every event to both subscriptions and every notification to the consumer."""
    events, notes = platform.events_worker(), platform.notifications_worker()
    for index, sent in enumerate(platform.orders_bus.messages[EVENTS]):
        message = bus_message(platform.orders_bus, EVENTS, index)
        assert isinstance(handle_event(message, events), Complete)
        if sent.subject in NOTIFIABLE:
            assert isinstance(fan_out_notification(message, events), Complete)
    for index in range(len(platform.worker_bus.messages.get(NOTES, []))):
        verdict = record_notification(bus_message(platform.worker_bus, NOTES, index), notes)
        assert isinstance(verdict, Complete), verdict


def test_filled_order_is_settled_and_its_user_notified(platform: Platform) -> None:
    order = _filled_order(platform)

    _deliver_all(platform)

    settlements = platform.payments.get(
        f"/v1/settlements?order_id={order['id']}", headers=ADMIN
    ).json()
    assert settlements["total"] == 1
    assert Decimal(settlements["items"][0]["amount"]) == Decimal("1894.00")
    notes = platform.users.get("/v1/me/notifications", headers=TRADER).json()
    assert [n["title"] for n in notes["items"]] == ["Order filled"]
    assert notes["items"][0]["reference"] == order["id"]
    assert notes["items"][0]["body"] == "buy US0378331005: 10 filled at 189.4 (10 of 10)."


def test_redelivered_events_settle_and_notify_once(platform: Platform) -> None:
    order = _filled_order(platform)
    _deliver_all(platform)
    _deliver_all(platform)  # every message delivered a second time

    settlements = platform.payments.get(
        f"/v1/settlements?order_id={order['id']}", headers=ADMIN
    ).json()
    assert settlements["total"] == 1
    assert platform.users.get("/v1/me/notifications", headers=TRADER).json()["total"] == 1


def test_a_partial_fill_notifies_but_does_not_settle(platform: Platform) -> None:
    order = platform.create_order(quantity="10")
    handle_order_command(bus_message(platform.orders_bus, "orders-queue"), platform.order_worker())
    fill = {"venue_fill_id": "f-1", "quantity": "4", "price": "189.40"}
    assert platform.orders.post(f"/v1/orders/{order['id']}/fills", json=fill, headers=ADMIN)

    _deliver_all(platform)

    assert platform.payments.get("/v1/settlements", headers=ADMIN).json()["total"] == 0
    notes = platform.users.get("/v1/me/notifications", headers=TRADER).json()["items"]
    assert [n["title"] for n in notes] == ["Order partly filled"]


def test_settlement_terms_payments_refuses_are_dead_lettered(platform: Platform) -> None:
    _filled_order(platform)
    filled = _events(platform, "OrderFilled")[0]
    event = json.loads(filled.get_body())
    event["data"]["average_fill_price"] = "150.00"  # not what orders-api recorded

    verdict = handle_event(sb_message(json.dumps(event)), platform.events_worker())

    assert isinstance(verdict, DeadLetter)
    assert verdict.reason == UNPROCESSABLE
    assert "422" in verdict.description
    assert platform.payments.get("/v1/settlements", headers=ADMIN).json()["total"] == 0

    del event["data"]["isin"]
    missing = handle_event(sb_message(json.dumps(event)), platform.events_worker())
    assert isinstance(missing, DeadLetter)
    assert "lacks isin" in missing.description


def test_payments_or_users_down_is_retried(platform: Platform) -> None:
    _filled_order(platform)
    down = httpx.MockTransport(lambda _r: httpx.Response(503))
    payments = service_client("http://payments-api.internal", "svc-workers", (), 1.0, down)
    worker = EventsWorker(payments, platform.worker_bus, NOTES)
    assert isinstance(handle_event(_events(platform, "OrderFilled")[0], worker), Retry)

    assert isinstance(
        fan_out_notification(_events(platform, "OrderFilled")[0], platform.events_worker()),
        Complete,
    )
    users = NotificationsWorker(
        service_client("http://users-api.internal", "svc-workers", (), 1.0, down)
    )
    assert isinstance(record_notification(bus_message(platform.worker_bus, NOTES), users), Retry)


def test_notifications_the_users_api_refuses_are_dead_lettered(platform: Platform) -> None:
    _filled_order(platform)
    fan_out_notification(_events(platform, "OrderFilled")[0], platform.events_worker())
    note = json.loads(platform.worker_bus.messages[NOTES][0].body)
    note["data"]["user_id"] = "nobody"

    unknown = record_notification(sb_message(json.dumps(note)), platform.notifications_worker())
    wrong_type = record_notification(
        sb_message(json.dumps({**note, "type": "OrderFilled"})), platform.notifications_worker()
    )

    assert isinstance(unknown, DeadLetter)
    assert "No user nobody" in unknown.description
    assert isinstance(wrong_type, DeadLetter)
    assert wrong_type.reason == MALFORMED


def test_rejected_order_notifies_its_user(platform: Platform) -> None:
    platform.create_order(limit_price="150.00")  # outside the 10% collar
    handle_order_command(bus_message(platform.orders_bus, "orders-queue"), platform.order_worker())

    _deliver_all(platform)

    notes = platform.users.get("/v1/me/notifications", headers=TRADER).json()["items"]
    assert [n["title"] for n in notes] == ["Order rejected"]
    assert "collar" in notes[0]["body"]
