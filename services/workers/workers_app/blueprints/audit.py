"""Blueprint of the audit shipper: audit-queue into the immutable audit store."""

from __future__ import annotations

import azure.functions as func
from azurefunctions.extensions.bindings import servicebus

from workers_app.audit_store import ship_audit_record
from workers_app.runtime import get_runtime
from workers_app.settlement import run_trigger

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@bp.function_name("ship_audit_record")
@bp.service_bus_queue_trigger(
    arg_name="received",
    queue_name="%SERVICEBUS_AUDIT_QUEUE%",
    connection="ServiceBusConnection",
    auto_complete_messages=False,
)
def ship_audit_record_trigger(
    received: servicebus.ServiceBusReceivedMessage,
    message_actions: servicebus.ServiceBusMessageActions,
) -> None:
    runtime = get_runtime()
    run_trigger(
        lambda m: ship_audit_record(m, runtime.audit),
        received,
        message_actions,
        runtime.settings.audit_queue_max_delivery_count,
        "audit-queue",
    )
