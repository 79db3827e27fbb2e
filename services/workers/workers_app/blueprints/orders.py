"""Blueprint of the queue worker: the session-aware trigger on orders-queue."""

from __future__ import annotations

import logging

import azure.functions as func
from azurefunctions.extensions.bindings import servicebus

from workers_app.orders_worker import handle_order_command
from workers_app.runtime import get_runtime
from workers_app.settlement import decide, functions_message, settle

logger = logging.getLogger(__name__)
bp = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@bp.function_name("orders_queue_worker")
@bp.service_bus_queue_trigger(
    arg_name="received",
    queue_name="%SERVICEBUS_ORDERS_QUEUE%",
    connection="ServiceBusConnection",
    # orders-queue requires sessions (one session per order id): a session-aware trigger
    # holds one order's session at a time, so its commands are handled in order.
    is_sessions_enabled=True,
    # Settled explicitly through message_actions below.
    auto_complete_messages=False,
)
def orders_queue_worker(
    received: servicebus.ServiceBusReceivedMessage,
    message_actions: servicebus.ServiceBusMessageActions,
) -> None:
    runtime = get_runtime()
    worker = runtime.order_worker()
    message = functions_message(received)
    verdict = decide(
        lambda m: handle_order_command(m, worker),
        message,
        runtime.settings.orders_queue_max_delivery_count,
    )
    logger.info(
        "orders-queue message settled",
        extra={"message_id": message.message_id, "verdict": type(verdict).__name__},
    )
    settle(verdict, received, message_actions)
