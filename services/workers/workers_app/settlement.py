"""How a handled message is settled: the handlers decide, the trigger adapter carries it out.

Auto-complete is off on every trigger, so nothing is settled behind the handler's back:
a message is completed, dead-lettered with a reason and description, or abandoned for a
redelivery. On its last allowed delivery a transient failure is dead-lettered with its
reason rather than abandoned, so the dead letter says why and no message is ever dropped.
https://learn.microsoft.com/azure/service-bus-messaging/message-transfers-locks-settlement
https://learn.microsoft.com/azure/service-bus-messaging/service-bus-dead-letter-queues
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import azure.functions as func

from platform_common.correlation import correlated

logger = logging.getLogger(__name__)

# Dead-letter reasons the workers set (DeadLetterReason, max 4096 chars with the description).
MALFORMED = "MalformedMessage"
UNPROCESSABLE = "Unprocessable"
RETRIES_EXHAUSTED = "RetriesExhausted"
DESCRIPTION_LIMIT = 1024


@dataclass(frozen=True)
class Complete:
    """Done (or already done before: a duplicate delivery)."""

    note: str


@dataclass(frozen=True)
class DeadLetter:
    """Poison: retrying cannot help; kept in the entity's dead-letter sub-queue."""

    reason: str
    description: str


@dataclass(frozen=True)
class Retry:
    """Transient failure (a service down, a timeout): abandon so it is delivered again."""

    reason: str


Verdict = Complete | DeadLetter | Retry


def last_chance(verdict: Verdict, delivery_count: int | None, max_delivery_count: int) -> Verdict:
    """A Retry on the last allowed delivery becomes a dead letter that says why."""
    if isinstance(verdict, Retry) and (delivery_count or 0) >= max_delivery_count:
        return DeadLetter(
            RETRIES_EXHAUSTED,
            f"gave up after {delivery_count} deliveries: {verdict.reason}"[:DESCRIPTION_LIMIT],
        )
    return verdict


def decide(
    handle: Callable[[func.ServiceBusMessage], Verdict],
    message: func.ServiceBusMessage,
    max_delivery_count: int,
) -> Verdict:
    """Run a handler; a bug in it is retried like an outage, then dead-lettered, never lost.

    The handler runs under the message's correlation id: its log lines, its calls to the
    services and the messages it publishes carry the id of the request that caused it.
    """
    try:
        with correlated(message.correlation_id):
            verdict = handle(message)
    except Exception as exc:
        logger.exception("handler failed", extra={"message_id": message.message_id})
        verdict = Retry(f"handler error: {type(exc).__name__}: {exc}")
    return last_chance(verdict, message.delivery_count, max_delivery_count)


class MessageActions(Protocol):
    """The settlement calls of the SDK-type binding's `ServiceBusMessageActions`."""

    def complete(self, message: Any) -> None: ...

    def abandon(self, message: Any) -> None: ...

    def deadletter(
        self,
        message: Any,
        deadletter_reason: str | None = None,
        deadletter_error_description: str | None = None,
    ) -> None: ...


def settle(verdict: Verdict, message: Any, actions: MessageActions) -> None:
    """Carry out the verdict on the received message (the lock the trigger holds)."""
    match verdict:
        case Complete():
            actions.complete(message)
        case DeadLetter(reason=reason, description=description):
            actions.deadletter(
                message,
                deadletter_reason=reason,
                deadletter_error_description=description[:DESCRIPTION_LIMIT],
            )
        case Retry():
            actions.abandon(message)


@dataclass(frozen=True)
class Envelope:
    """A platform event as the outbox writes it (platform_common.outbox.DomainEvent.body)."""

    type: str
    id: str
    aggregate_id: str
    aggregate_version: int
    data: Mapping[str, Any]


def parse_envelope(message: func.ServiceBusMessage) -> Envelope | DeadLetter:
    """The message's event, or a dead letter naming what is wrong with it."""
    try:
        raw = json.loads(message.get_body())
    except (ValueError, UnicodeDecodeError) as exc:
        return DeadLetter(MALFORMED, f"body is not JSON: {exc}")
    if not isinstance(raw, dict):
        return DeadLetter(MALFORMED, f"body is a JSON {type(raw).__name__}, expected an object")
    expected: dict[str, type | tuple[type, ...]] = {
        "type": str,
        "id": str,
        "aggregate_id": str,
        "aggregate_version": int,
        "data": dict,
    }
    problems = [
        f"{key} must be {kind.__name__ if isinstance(kind, type) else kind}"
        for key, kind in expected.items()
        if not isinstance(raw.get(key), kind) or isinstance(raw.get(key), bool)
    ]
    if problems:
        return DeadLetter(MALFORMED, "; ".join(problems))
    return Envelope(
        type=raw["type"],
        id=raw["id"],
        aggregate_id=raw["aggregate_id"],
        aggregate_version=raw["aggregate_version"],
        data=raw["data"],
    )


def functions_message(received: Any) -> func.ServiceBusMessage:
    """The handlers' view (`azure.functions.ServiceBusMessage`) of an SDK-type received message."""
    from azure.functions.servicebus import ServiceBusMessage

    body = b"".join(received.body) if not isinstance(received.body, bytes) else received.body
    return ServiceBusMessage(
        body=body,
        message_id=str(received.message_id),
        session_id=received.session_id,
        delivery_count=received.delivery_count,
        subject=received.subject,
        correlation_id=received.correlation_id,
        content_type=received.content_type,
        application_properties=dict(received.application_properties or {}),
        user_properties={},
    )


def run_trigger(
    handle: Callable[[func.ServiceBusMessage], Verdict],
    received: Any,
    actions: MessageActions,
    max_delivery_count: int,
    entity: str,
) -> Verdict:
    """What every Service Bus blueprint does: bind, decide, log the verdict, settle it."""
    message = functions_message(received)
    verdict = decide(handle, message, max_delivery_count)
    logger.info(
        "%s message settled",
        entity,
        extra={"message_id": message.message_id, "verdict": type(verdict).__name__},
    )
    settle(verdict, received, actions)
    return verdict
