"""Drives the Functions handlers from the local-file bus, as the Functions host would.

Each trigger of function_app.py has a row here (entity, subscription, handler, max delivery
count); one thread per row peek-locks the next message, hands the same plain handler a real
`azure.functions.ServiceBusMessage`, and settles the verdict through `settlement.settle`,
the function the blueprints use, so the local flow exercises the deployed code paths. A
session-enabled queue only ever hands out the head of an unlocked session, so one order's
commands run in order.

    MESSAGING_MODE=local-file LOCAL_BUS_PATH=/tmp/bus.db python -m workers_app.local_runner
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions.servicebus import ServiceBusMessage

from platform_common.local_bus import LocalFileBus, LockLostError, ReceivedMessage
from platform_common.personal_data import install_personal_data_masking
from workers_app.audit_store import ship_audit_record
from workers_app.etl_day import handle_file_request
from workers_app.events_worker import fan_out_notification, handle_event
from workers_app.notifications_worker import record_notification
from workers_app.orders_worker import handle_order_command
from workers_app.privacy import propagate_erasure
from workers_app.runtime import Runtime, build_runtime
from workers_app.settings import WorkersSettings
from workers_app.settlement import Verdict, decide, settle
from workers_app.thirdparty import handle_sync_request

logger = logging.getLogger(__name__)
Handler = Callable[[func.ServiceBusMessage], Verdict]


@dataclass(frozen=True)
class LocalTrigger:
    """One function of function_app.py: where it reads and what it calls."""

    function: str
    entity: str
    subscription: str | None
    max_delivery_count: int
    handler: Handler


def triggers(runtime: Runtime) -> tuple[LocalTrigger, ...]:
    """The blueprints' Service Bus triggers, with the same setting-named entities and handlers.

    The timers and the operator's HTTP routes are not driven locally: start a day's run with
    the operator function's handler, or put a file job on etl-queue.
    """
    s = runtime.settings
    orders, events, notes, privacy = (
        runtime.order_worker(),
        runtime.events_worker(),
        runtime.notifications_worker(),
        runtime.privacy_worker(),
    )
    return (
        LocalTrigger(
            "orders_queue_worker",
            s.servicebus_orders_queue,
            None,
            s.orders_queue_max_delivery_count,
            lambda m: handle_order_command(m, orders),
        ),
        LocalTrigger(
            "events_topic_worker",
            s.servicebus_events_topic,
            s.servicebus_events_subscription,
            s.subscription_max_delivery_count,
            lambda m: handle_event(m, events),
        ),
        LocalTrigger(
            "notifications_fan_out",
            s.servicebus_events_topic,
            s.servicebus_notify_subscription,
            s.subscription_max_delivery_count,
            lambda m: fan_out_notification(m, events),
        ),
        LocalTrigger(
            "propagate_erasure",
            s.servicebus_events_topic,
            s.servicebus_erasure_subscription,
            s.erasure_max_delivery_count,
            lambda m: propagate_erasure(m, privacy),
        ),
        LocalTrigger(
            "notifications_consumer",
            s.servicebus_notifications_topic,
            s.servicebus_notifier_subscription,
            s.subscription_max_delivery_count,
            lambda m: record_notification(m, notes),
        ),
        LocalTrigger(
            "thirdparty_sync",
            s.servicebus_thirdparty_queue,
            None,
            s.thirdparty_queue_max_delivery_count,
            lambda m: handle_sync_request(m, runtime.sync),
        ),
        LocalTrigger(
            "etl_queue_worker",
            s.servicebus_etl_queue,
            None,
            s.etl_queue_max_delivery_count,
            # A job per message, as the blueprint builds it.
            lambda m: handle_file_request(m, runtime.etl_job()),
        ),
        LocalTrigger(
            "ship_audit_record",
            s.servicebus_audit_queue,
            None,
            s.audit_queue_max_delivery_count,
            lambda m: ship_audit_record(m, runtime.audit),
        ),
    )


def functions_message(received: ReceivedMessage) -> func.ServiceBusMessage:
    """What the Functions host would bind: the message's properties and this delivery's."""
    message = received.message
    return ServiceBusMessage(
        body=message.body.encode(),
        message_id=message.message_id,
        session_id=message.session_id,
        delivery_count=received.delivery_count,
        subject=message.subject,
        label=message.subject,
        correlation_id=message.correlation_id,
        content_type=message.content_type,
        sequence_number=received.sequence_number,
        lock_token=received.lock_token,
        enqueued_time_utc=datetime.fromtimestamp(received.enqueued_time, UTC),
        locked_until=datetime.fromtimestamp(received.locked_until, UTC),
        application_properties={},
        user_properties={},
    )


@dataclass(frozen=True)
class LocalMessageActions:
    """`settlement.MessageActions` over the local bus (the SDK binding's role in Azure)."""

    bus: LocalFileBus

    def complete(self, message: Any) -> None:
        self.bus.complete(message)

    def abandon(self, message: Any) -> None:
        self.bus.abandon(message)

    def deadletter(
        self,
        message: Any,
        deadletter_reason: str | None = None,
        deadletter_error_description: str | None = None,
    ) -> None:
        self.bus.dead_letter(message, deadletter_reason or "", deadletter_error_description or "")


def run_once(bus: LocalFileBus, trigger: LocalTrigger) -> Verdict | None:
    """Handle one message of the trigger's entity; None when there was none."""
    received = bus.receive(trigger.entity, trigger.subscription)
    if received is None:
        return None
    message = functions_message(received)
    verdict = decide(trigger.handler, message, trigger.max_delivery_count)
    try:
        settle(verdict, received, LocalMessageActions(bus))
    except LockLostError as exc:
        # As in Azure: the settlement failed, the message comes back and is handled again
        # (the handlers are idempotent on the message).
        logger.warning("settlement lost", extra={"function": trigger.function, "error": str(exc)})
    logger.info(
        "message settled",
        extra={
            "function": trigger.function,
            "message_id": message.message_id,
            "verdict": type(verdict).__name__,
        },
    )
    return verdict


def serve(
    bus: LocalFileBus, runtime: Runtime, stop: threading.Event, idle_seconds: float = 0.1
) -> list[threading.Thread]:
    """One polling thread per trigger until `stop` is set."""

    def loop(trigger: LocalTrigger) -> None:
        while not stop.is_set():
            try:
                handled = run_once(bus, trigger)
            except Exception:
                logger.exception("local trigger failed", extra={"function": trigger.function})
                handled = None
            if handled is None:
                stop.wait(idle_seconds)

    threads = [
        threading.Thread(target=loop, args=(t,), name=t.function, daemon=True)
        for t in triggers(runtime)
    ]
    for thread in threads:
        thread.start()
    return threads


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    install_personal_data_masking()  # the record factory and the basicConfig handler's filter
    settings = WorkersSettings()
    if settings.messaging_mode != "local-file" or not settings.local_bus_path:
        raise SystemExit(
            "the local runner reads the local-file bus: set MESSAGING_MODE=local-file and "
            f"LOCAL_BUS_PATH (got MESSAGING_MODE={settings.messaging_mode!r})"
        )
    bus = LocalFileBus(Path(settings.local_bus_path))
    runtime = build_runtime(settings)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    threads = serve(bus, runtime, stop)
    print(f"workers: {len(threads)} triggers on {settings.local_bus_path}", flush=True)
    stop.wait()
    for thread in threads:
        thread.join(timeout=15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
