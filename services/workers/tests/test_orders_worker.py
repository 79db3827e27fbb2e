"""The queue worker against the real orders and products apps, with real trigger messages."""

from __future__ import annotations

import json

import httpx
import pytest

from platform_common.messaging import InMemoryBus
from workers_app.calls import service_client
from workers_app.orders_worker import OrderWorker, handle_order_command
from workers_app.settlement import (
    MALFORMED,
    RETRIES_EXHAUSTED,
    UNPROCESSABLE,
    Complete,
    DeadLetter,
    Retry,
    decide,
    settle,
)

from .conftest import ADMIN, APPLE, TRADER, Platform, body_of, bus_message, sb_message

QUEUE, TOPIC = "orders-queue", "events-topic"


def _status(platform: Platform, order_id: str) -> str:
    status: str = platform.orders.get(f"/v1/orders/{order_id}", headers=TRADER).json()["status"]
    return status


def test_happy_path_accepts_and_publishes_the_outcome(platform: Platform) -> None:
    order = platform.create_order()
    command = bus_message(platform.orders_bus, QUEUE)
    assert command.session_id == order["id"]

    verdict = handle_order_command(command, platform.order_worker())

    assert isinstance(verdict, Complete)
    assert _status(platform, order["id"]) == "ACCEPTED"
    outcome = body_of(platform.worker_bus, TOPIC)
    assert outcome["type"] == "OrderRiskChecked"
    assert outcome["data"]["outcome"] == "accepted"
    assert outcome["data"]["command_id"] == json.loads(command.get_body())["id"]
    assert platform.worker_bus.messages[TOPIC][0].session_id == order["id"]


def test_duplicate_delivery_changes_nothing_and_resends_the_same_outcome(
    platform: Platform,
) -> None:
    order = platform.create_order()
    worker = platform.order_worker()
    first = handle_order_command(bus_message(platform.orders_bus, QUEUE), worker)
    version = platform.orders.get(f"/v1/orders/{order['id']}", headers=TRADER).json()["version"]
    sent = platform.worker_bus.messages[TOPIC][0]

    again = handle_order_command(bus_message(platform.orders_bus, QUEUE), worker)

    assert isinstance(first, Complete)
    assert isinstance(again, Complete)
    assert "already ACCEPTED" in again.note
    after = platform.orders.get(f"/v1/orders/{order['id']}", headers=TRADER).json()
    assert after["version"] == version
    # Re-sent under the same id, which the bus (duplicate detection in Azure) drops.
    assert [m.message_id for m in platform.worker_bus.messages[TOPIC]] == [sent.message_id]


def test_outcome_lost_in_a_crash_is_sent_on_redelivery(platform: Platform) -> None:
    platform.create_order()
    handle_order_command(bus_message(platform.orders_bus, QUEUE), platform.order_worker())
    platform.worker_bus = InMemoryBus()  # the send never happened: the bus never saw it

    verdict = handle_order_command(bus_message(platform.orders_bus, QUEUE), platform.order_worker())

    assert isinstance(verdict, Complete)
    assert body_of(platform.worker_bus, TOPIC)["data"]["outcome"] == "accepted"


def test_limit_price_outside_the_collar_is_rejected_with_the_reason(platform: Platform) -> None:
    order = platform.create_order(limit_price="150.00")  # 21% under the 190.00 reference

    verdict = handle_order_command(bus_message(platform.orders_bus, QUEUE), platform.order_worker())

    assert isinstance(verdict, Complete)
    stored = platform.orders.get(f"/v1/orders/{order['id']}", headers=TRADER).json()
    assert stored["status"] == "REJECTED"
    assert "collar allows 10%" in stored["reject_reason"]
    outcome = body_of(platform.worker_bus, TOPIC)["data"]
    assert outcome["outcome"] == "rejected"
    assert "150.00" in outcome["reason"]


def test_the_collar_is_a_setting(platform: Platform) -> None:
    order = platform.create_order(limit_price="150.00")
    worker = platform.order_worker(collar="25")

    handle_order_command(bus_message(platform.orders_bus, QUEUE), worker)

    assert _status(platform, order["id"]) == "ACCEPTED"


def test_instrument_deactivated_while_queued_is_rejected(platform: Platform) -> None:
    order = platform.create_order()
    fields = {k: v for k, v in APPLE.items() if k != "isin"} | {"status": "inactive"}
    assert platform.products.put(
        f"/v1/instruments/{APPLE['isin']}", json=fields, headers=ADMIN
    ).is_success

    handle_order_command(bus_message(platform.orders_bus, QUEUE), platform.order_worker())

    stored = platform.orders.get(f"/v1/orders/{order['id']}", headers=TRADER).json()
    assert stored["status"] == "REJECTED"
    assert "not active" in stored["reject_reason"]


def test_order_cancelled_before_the_check_is_left_alone(platform: Platform) -> None:
    order = platform.create_order()
    assert platform.orders.post(f"/v1/orders/{order['id']}/cancel", headers=TRADER).is_success

    created = bus_message(platform.orders_bus, QUEUE, 0)
    verdict = handle_order_command(created, platform.order_worker())

    assert isinstance(verdict, Complete)
    assert _status(platform, order["id"]) == "CANCELLED"
    assert TOPIC not in platform.worker_bus.messages


def test_poison_messages_are_dead_lettered_with_a_reason(platform: Platform) -> None:
    worker = platform.order_worker()
    envelope = {
        "type": "OrderCreated",
        "id": "c-1",
        "aggregate_id": "no-such-order",
        "aggregate_version": 1,
        "data": {},
    }
    cases = {
        b"\xff not json": (MALFORMED, "not JSON"),
        b"[1, 2]": (MALFORMED, "JSON list"),
        json.dumps({"type": "OrderCreated"}).encode(): (MALFORMED, "aggregate_id must be str"),
        json.dumps({**envelope, "type": "OrderExploded"}).encode(): (
            UNPROCESSABLE,
            "unknown command 'OrderExploded'",
        ),
        json.dumps(envelope).encode(): (UNPROCESSABLE, "does not exist"),
    }
    for body, (reason, text) in cases.items():
        verdict = handle_order_command(sb_message(body), worker)
        assert isinstance(verdict, DeadLetter), body
        assert verdict.reason == reason
        assert text in verdict.description, verdict.description

    wrong_session = sb_message(json.dumps(envelope), session_id="another-order")
    verdict = handle_order_command(wrong_session, worker)
    assert isinstance(verdict, DeadLetter)
    assert "session id" in verdict.description


def _with_products(platform: Platform, handler: httpx.MockTransport) -> OrderWorker:
    worker = platform.order_worker()
    products = service_client("http://products-api.internal", "svc-workers", (), 1.0, handler)
    return OrderWorker(worker.orders, products, worker.bus, worker.events_topic, worker.limits)


def test_products_outage_is_retried_then_dead_lettered_on_the_last_delivery(
    platform: Platform,
) -> None:
    order = platform.create_order()
    worker = _with_products(platform, httpx.MockTransport(lambda _r: httpx.Response(503)))
    sent = platform.orders_bus.messages[QUEUE][0]

    early = decide(
        lambda m: handle_order_command(m, worker),
        sb_message(sent.body, session_id=sent.session_id, delivery_count=1),
        max_delivery_count=5,
    )
    last = decide(
        lambda m: handle_order_command(m, worker),
        sb_message(sent.body, session_id=sent.session_id, delivery_count=5),
        max_delivery_count=5,
    )

    assert isinstance(early, Retry)
    assert "503" in early.reason
    assert isinstance(last, DeadLetter)
    assert last.reason == RETRIES_EXHAUSTED
    assert "503" in last.description
    assert _status(platform, order["id"]) == "NEW"


def test_timeout_and_throttling_are_retried(platform: Platform) -> None:
    platform.create_order()

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    for transport in (
        httpx.MockTransport(slow),
        httpx.MockTransport(lambda _r: httpx.Response(429, headers={"Retry-After": "1"})),
    ):
        worker = _with_products(platform, transport)
        verdict = handle_order_command(bus_message(platform.orders_bus, QUEUE), worker)
        assert isinstance(verdict, Retry), verdict


def test_a_handler_bug_is_retried_not_lost() -> None:
    def broken(_message: object) -> Complete:
        raise KeyError("status")

    early = decide(broken, sb_message(b"{}", delivery_count=1), max_delivery_count=3)
    last = decide(broken, sb_message(b"{}", delivery_count=3), max_delivery_count=3)

    assert isinstance(early, Retry)
    assert "KeyError" in early.reason
    assert isinstance(last, DeadLetter)
    assert last.reason == RETRIES_EXHAUSTED


class LockLostError(Exception):
    """What ServiceBusMessageActions raises when the session or message lock expired."""


class LosingActions:
    def complete(self, message: object) -> None:
        raise LockLostError("lock for the session expired")

    def abandon(self, message: object) -> None:
        raise LockLostError("lock for the session expired")

    def deadletter(
        self,
        message: object,
        deadletter_reason: str | None = None,
        deadletter_error_description: str | None = None,
    ) -> None:
        raise LockLostError("lock for the session expired")


def test_lock_lost_mid_run_fails_the_invocation_and_the_redelivery_is_a_no_op(
    platform: Platform,
) -> None:
    order = platform.create_order()
    worker = platform.order_worker()
    command = bus_message(platform.orders_bus, QUEUE)
    verdict = decide(lambda m: handle_order_command(m, worker), command, max_delivery_count=5)

    # Settling after the lock expired raises: the invocation fails and nothing is completed,
    # so Service Bus delivers the command again once the lock is gone.
    with pytest.raises(LockLostError):
        settle(verdict, command, LosingActions())

    version = platform.orders.get(f"/v1/orders/{order['id']}", headers=TRADER).json()["version"]
    again = decide(
        lambda m: handle_order_command(m, worker),
        sb_message(command.get_body(), session_id=order["id"], delivery_count=2),
        max_delivery_count=5,
    )
    assert isinstance(again, Complete)
    after = platform.orders.get(f"/v1/orders/{order['id']}", headers=TRADER).json()
    assert after["version"] == version
    assert len(platform.worker_bus.messages[TOPIC]) == 1
