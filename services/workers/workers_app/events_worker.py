"""Topic workers on events-topic: settlements for filled orders, and the notification fan-out.

`handle_event` (subscription topic-worker, every event): an order that is FILLED, or
cancelled after partial fills, has payments-api create its settlement instruction;
payments verifies the terms with orders-api and answers a repeat with the same
instruction, so a redelivery is harmless.

`fan_out_notification` (subscription notifications, filtered to the events people are
told about): turns the event into one notification for its user on notifications-topic,
under a message id derived from the event's, so a redelivery is dropped as a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import azure.functions as func
import httpx

from platform_common.messaging import MessageBus
from workers_app.calls import call, derived_message_id, failure, publish_event
from workers_app.settlement import (
    UNPROCESSABLE,
    Complete,
    DeadLetter,
    Envelope,
    Retry,
    Verdict,
    parse_envelope,
)

NOTIFICATION = "Notification"


@dataclass(frozen=True)
class EventsWorker:
    payments: httpx.Client
    bus: MessageBus
    notifications_topic: str


def handle_event(message: func.ServiceBusMessage, worker: EventsWorker) -> Verdict:
    """Settle what is done trading; every other event needs nothing from this worker."""
    envelope = parse_envelope(message)
    if isinstance(envelope, DeadLetter):
        return envelope
    data = envelope.data
    settles = envelope.type == "OrderFilled" and data.get("status") == "FILLED"
    settles |= envelope.type == "OrderCancelled" and _positive(data.get("filled_quantity"))
    if not settles:
        return Complete(f"{envelope.type} needs no settlement")
    terms = _settlement_terms(envelope)
    if isinstance(terms, DeadLetter):
        return terms
    response = call(worker.payments, "POST", "/v1/settlements", json_body=terms)
    if isinstance(response, Retry):
        return response
    if response.status_code in (200, 201):
        return Complete(f"settlement {response.json().get('id')} for order {terms['order_id']}")
    return failure(response, "creating the settlement")


def _positive(value: object) -> bool:
    try:
        return float(str(value)) > 0
    except ValueError:
        return False


def _settlement_terms(envelope: Envelope) -> dict[str, Any] | DeadLetter:
    data = envelope.data
    required = (
        "id",
        "user_id",
        "isin",
        "side",
        "filled_quantity",
        "average_fill_price",
        "currency",
    )
    missing = [key for key in required if data.get(key) in (None, "")]
    if missing:
        return DeadLetter(
            UNPROCESSABLE, f"{envelope.type} {envelope.id} lacks {', '.join(missing)}"
        )
    return {
        "order_id": data["id"],
        "user_id": data["user_id"],
        "isin": data["isin"],
        "side": data["side"],
        "quantity": str(data["filled_quantity"]),
        "price": str(data["average_fill_price"]),
        "currency": data["currency"],
    }


def _num(value: object) -> str:
    """A quantity or price as people write it (10, 189.4), whatever the producer's encoding."""
    try:
        return f"{Decimal(str(value)).normalize():f}"
    except InvalidOperation:
        return str(value)


def _describe(envelope: Envelope) -> tuple[str, str, str] | None:
    """(title, body, reference) of the notification an event gives, None if it gives none."""
    data: Mapping[str, Any] = envelope.data
    order = str(data.get("order_id") or data.get("id"))
    match envelope.type:
        case "OrderFilled":
            fill = data.get("fill") or {}
            done = data.get("status") == "FILLED"
            title = "Order filled" if done else "Order partly filled"
            body = (
                f"{data.get('side')} {data.get('isin')}: {_num(fill.get('quantity'))} filled at "
                f"{_num(fill.get('price'))} ({_num(data.get('filled_quantity'))} of "
                f"{_num(data.get('quantity'))})."
            )
            return title, body, order
        case "OrderCancelled":
            return "Order cancelled", f"Order {order} on {data.get('isin')} was cancelled.", order
        case "OrderRejected":
            reason = data.get("reject_reason") or "no reason given"
            return "Order rejected", f"Order {order} was rejected: {reason}", order
        case "SettlementSettled":
            body = (
                f"Settlement of order {order} settled: {data.get('amount')} {data.get('currency')}."
            )
            return "Settlement done", body, str(data.get("id"))
        case "SettlementFailed":
            reason = data.get("failure_reason") or "no reason given"
            return (
                "Settlement failed",
                f"Settlement of order {order} failed: {reason}",
                str(data.get("id")),
            )
    return None


def fan_out_notification(message: func.ServiceBusMessage, worker: EventsWorker) -> Verdict:
    """One notification per notifiable event, for the user the event is about."""
    envelope = parse_envelope(message)
    if isinstance(envelope, DeadLetter):
        return envelope
    described = _describe(envelope)
    if described is None:
        return Complete(f"{envelope.type} is not notified")
    user_id = envelope.data.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        return DeadLetter(UNPROCESSABLE, f"{envelope.type} {envelope.id} names no user_id")
    title, body, reference = described
    notification_id = derived_message_id(NOTIFICATION, envelope.id)
    sent = publish_event(
        worker.bus,
        worker.notifications_topic,
        event_type=NOTIFICATION,
        message_id=notification_id,
        aggregate_id=user_id,
        aggregate_version=envelope.aggregate_version,
        data={
            "id": notification_id,
            "user_id": user_id,
            "kind": envelope.type,
            "title": title,
            "body": body[:1000],
            "reference": reference[:64],
            "occurred_at": envelope.data.get("updated_at"),
        },
    )
    return sent or Complete(f"notified {user_id} of {envelope.type}")
