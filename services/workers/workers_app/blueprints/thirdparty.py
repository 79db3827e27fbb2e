"""Blueprint of the third-party sync on thirdparty-queue (egress via the NAT gateway/firewall)."""

from __future__ import annotations

import logging

import azure.functions as func
from azurefunctions.extensions.bindings import servicebus

from workers_app.runtime import get_runtime
from workers_app.settlement import decide, functions_message, settle
from workers_app.thirdparty import handle_sync_request

logger = logging.getLogger(__name__)
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
    message = functions_message(received)
    verdict = decide(
        lambda m: handle_sync_request(m, runtime.sync),
        message,
        runtime.settings.thirdparty_queue_max_delivery_count,
    )
    logger.info(
        "thirdparty-queue message settled",
        extra={"message_id": message.message_id, "verdict": type(verdict).__name__},
    )
    settle(verdict, received, message_actions)
