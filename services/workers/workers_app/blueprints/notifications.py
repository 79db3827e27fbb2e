"""Blueprint of the notifications consumer on notifications-topic."""

from __future__ import annotations

import azure.functions as func
from azurefunctions.extensions.bindings import servicebus

from workers_app.notifications_worker import record_notification
from workers_app.runtime import get_runtime
from workers_app.settlement import run_trigger

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@bp.function_name("notifications_consumer")
@bp.service_bus_topic_trigger(
    arg_name="received",
    topic_name="%SERVICEBUS_NOTIFICATIONS_TOPIC%",
    subscription_name="%SERVICEBUS_NOTIFIER_SUBSCRIPTION%",
    connection="ServiceBusConnection",
    auto_complete_messages=False,
)
def notifications_consumer(
    received: servicebus.ServiceBusReceivedMessage,
    message_actions: servicebus.ServiceBusMessageActions,
) -> None:
    runtime = get_runtime()
    worker = runtime.notifications_worker()
    run_trigger(
        lambda m: record_notification(m, worker),
        received,
        message_actions,
        runtime.settings.subscription_max_delivery_count,
        "notifications-topic",
    )
