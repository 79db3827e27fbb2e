"""Blueprint of the third-party sync on thirdparty-queue (egress via the NAT gateway/firewall)."""

from __future__ import annotations

import azure.functions as func
from azurefunctions.extensions.bindings import servicebus

from workers_app.runtime import get_runtime
from workers_app.settlement import run_trigger
from workers_app.thirdparty import handle_sync_request

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@bp.function_name("thirdparty_sync")
@bp.service_bus_queue_trigger(
    arg_name="received",
    queue_name="%SERVICEBUS_THIRDPARTY_QUEUE%",
    connection="ServiceBusConnection",
    auto_complete_messages=False,
)
def thirdparty_sync(
    received: servicebus.ServiceBusReceivedMessage,
    message_actions: servicebus.ServiceBusMessageActions,
) -> None:
    runtime = get_runtime()
    run_trigger(
        lambda m: handle_sync_request(m, runtime.sync),
        received,
        message_actions,
        runtime.settings.thirdparty_queue_max_delivery_count,
        "thirdparty-queue",
    )
