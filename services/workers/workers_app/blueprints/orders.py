"""Blueprint of the queue worker: the session-aware trigger on orders-queue."""

from __future__ import annotations

import azure.functions as func
from azurefunctions.extensions.bindings import servicebus

from workers_app.orders_worker import handle_order_command
from workers_app.runtime import get_runtime
from workers_app.settlement import run_trigger

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
    run_trigger(
        lambda m: handle_order_command(m, worker),
        received,
        message_actions,
        runtime.settings.orders_queue_max_delivery_count,
        "orders-queue",
    )
