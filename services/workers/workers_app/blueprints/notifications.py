"""Blueprint of the notifications consumer on notifications-topic."""

from __future__ import annotations

import azure.functions as func
from azurefunctions.extensions.bindings import servicebus

from workers_app.notifications_worker import record_notification
from workers_app.runtime import get_runtime
from workers_app.settlement import decide, functions_message, settle

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
    message = functions_message(received)
    verdict = decide(
        lambda m: record_notification(m, worker),
        message,
        runtime.settings.subscription_max_delivery_count,
    )
    settle(verdict, received, message_actions)
