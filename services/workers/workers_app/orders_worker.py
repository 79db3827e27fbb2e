"""Queue worker on orders-queue: pre-trade risk check, then accept or reject through orders-api.

The orders-api already enforces the limits it can check at submission (notional, open
orders). The worker checks what can change while a command waits in the queue: the
instrument must still be active in the reference data, trade in the order's currency,
and a limit price must lie within the price collar around the reference price (a
fat-finger guard). It then accepts or rejects the order and publishes `OrderRiskChecked`
to events-topic.

Idempotent on the message: the order's state says whether the command was already
handled (only a NEW order is acted on), and the outcome's message id is derived from the
command's, so a redelivery after a crash re-sends the same outcome, which duplicate
detection drops.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import azure.functions as func
import httpx

from platform_common.messaging import MessageBus
from workers_app.calls import call, derived_message_id, failure, publish_event
from workers_app.settlement import (
    MALFORMED,
    UNPROCESSABLE,
    Complete,
    DeadLetter,
    Envelope,
    Retry,
    Verdict,
    parse_envelope,
)

COMMANDS = ("OrderCreated", "OrderAmended", "OrderCancelled")
OUTCOME_EVENT = "OrderRiskChecked"
DECIDED = ("ACCEPTED", "REJECTED")


@dataclass(frozen=True)
class RiskLimits:
    """The worker's own pre-trade checks (settings, not constants)."""

    price_collar_percent: Decimal


@dataclass(frozen=True)
class OrderWorker:
    """What the handler needs: the services it calls, the bus, where outcomes go."""

    orders: httpx.Client
    products: httpx.Client
    bus: MessageBus
    events_topic: str
    limits: RiskLimits


def handle_order_command(message: func.ServiceBusMessage, worker: OrderWorker) -> Verdict:
    """Risk-check, accept or reject the order a command names; never raises for bad input."""
    envelope = _command(message)
    if not isinstance(envelope, Envelope):
        return envelope
    order_id = envelope.aggregate_id
    order = _get_order(worker, order_id)
    if not isinstance(order, dict):
        return order
    status = order.get("status")
    if status in DECIDED and envelope.type == "OrderCreated":
        # Handled before (a duplicate, or a crash before the outcome was sent): re-send the
        # outcome under the same id; the bus drops it if it went out the first time.
        return _publish_outcome(worker, envelope.id, order) or Complete(
            f"order {order_id} already {status}: outcome re-sent"
        )
    if status != "NEW":
        return Complete(f"order {order_id} is {status}: no risk check needed")
    return _check_and_decide(worker, envelope.id, order)


def _check_and_decide(worker: OrderWorker, command_id: str, order: dict[str, Any]) -> Verdict:
    order_id = str(order["id"])
    reasons = _risk_reasons(worker, order)
    if not isinstance(reasons, list):
        return reasons
    if reasons:
        decided = _decide(worker, order_id, "reject", {"reason": "; ".join(reasons)[:500]})
    else:
        decided = _decide(worker, order_id, "accept", None)
    if not isinstance(decided, dict):
        return decided
    return _publish_outcome(worker, command_id, decided) or Complete(
        f"order {order_id} {decided.get('status')}"
    )


def _command(message: func.ServiceBusMessage) -> Envelope | Verdict:
    """The command to act on, or how to settle a message that carries none."""
    envelope = parse_envelope(message)
    if isinstance(envelope, DeadLetter):
        return envelope
    if message.session_id is not None and message.session_id != envelope.aggregate_id:
        return DeadLetter(
            MALFORMED,
            f"session id {message.session_id!r} is not the order id {envelope.aggregate_id!r}",
        )
    if envelope.type not in COMMANDS:
        expected = ", ".join(COMMANDS)
        return DeadLetter(
            UNPROCESSABLE, f"unknown command {envelope.type!r}; expected one of {expected}"
        )
    if envelope.type == "OrderCancelled":
        return Complete(f"order {envelope.aggregate_id} cancelled: nothing to check")
    return envelope


def _get_order(worker: OrderWorker, order_id: str) -> dict[str, Any] | Verdict:
    response = call(worker.orders, "GET", f"/v1/orders/{order_id}")
    if isinstance(response, Retry):
        return response
    if response.status_code == 404:
        return DeadLetter(UNPROCESSABLE, f"order {order_id} does not exist in orders-api")
    if not response.is_success:
        return failure(response, "reading the order")
    body = response.json()
    return (
        body if isinstance(body, dict) else DeadLetter(UNPROCESSABLE, "orders-api sent no object")
    )


def _risk_reasons(worker: OrderWorker, order: dict[str, Any]) -> list[str] | Retry | DeadLetter:
    """Why the order must be rejected (empty: it passes), or how to settle if we cannot tell."""
    isin = str(order.get("isin"))
    response = call(worker.products, "GET", f"/v1/instruments/{isin}")
    if isinstance(response, Retry):
        return response
    if response.status_code == 404:
        return [f"instrument {isin} is not in the reference data"]
    if not response.is_success:
        return failure(response, "reading the instrument")
    instrument = response.json()
    reasons: list[str] = []
    if instrument.get("status") != "active":
        reasons.append(f"instrument {isin} is {instrument.get('status')}, not active")
    if instrument.get("currency") != order.get("currency"):
        reasons.append(
            f"order currency {order.get('currency')} is not the instrument's "
            f"{instrument.get('currency')}"
        )
    collar = _outside_collar(order, instrument, worker.limits.price_collar_percent)
    if collar:
        reasons.append(collar)
    return reasons


def _outside_collar(
    order: dict[str, Any], instrument: dict[str, Any], percent: Decimal
) -> str | None:
    try:
        limit = Decimal(str(order["limit_price"])) if order.get("limit_price") else None
        reference = (
            Decimal(str(instrument["reference_price"]))
            if instrument.get("reference_price")
            else None
        )
    except InvalidOperation:
        return "limit or reference price is not a decimal"
    if limit is None or reference is None or reference <= 0:
        return None
    deviation = abs(limit - reference) / reference * 100
    if deviation > percent:
        return (
            f"limit price {limit} is {deviation.quantize(Decimal('0.01'))}% from the reference "
            f"price {reference}; the collar allows {percent}%"
        )
    return None


def _decide(
    worker: OrderWorker, order_id: str, action: str, body: dict[str, Any] | None
) -> dict[str, Any] | Verdict:
    response = call(worker.orders, "POST", f"/v1/orders/{order_id}/{action}", json_body=body)
    if isinstance(response, Retry):
        return response
    if response.status_code == 409:
        # The order moved meanwhile (cancelled, or another delivery decided it): look again.
        current = _get_order(worker, order_id)
        if not isinstance(current, dict):
            return current
        if current.get("status") == "NEW":
            return Retry(f"{action} of order {order_id} conflicted; it is still NEW")
        return Complete(f"order {order_id} became {current.get('status')} before the {action}")
    if not response.is_success:
        return failure(response, f"{action} of the order")
    decided = response.json()
    return decided if isinstance(decided, dict) else DeadLetter(UNPROCESSABLE, "no order returned")


def _publish_outcome(worker: OrderWorker, command_id: str, order: dict[str, Any]) -> Retry | None:
    order_id = str(order["id"])
    return publish_event(
        worker.bus,
        worker.events_topic,
        event_type=OUTCOME_EVENT,
        message_id=derived_message_id(OUTCOME_EVENT, order_id, command_id),
        aggregate_id=order_id,
        aggregate_version=int(order.get("version", 0)),
        data={
            "order_id": order_id,
            "user_id": order.get("user_id"),
            "outcome": str(order.get("status", "")).lower(),
            "reason": order.get("reject_reason"),
            "command_id": command_id,
        },
        session_id=order_id,
    )
