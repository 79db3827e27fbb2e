"""Blueprint of the topic workers on events-topic: settlements and the notification fan-out."""

from __future__ import annotations

import azure.functions as func
from azurefunctions.extensions.bindings import servicebus

from workers_app.events_worker import fan_out_notification, handle_event
from workers_app.runtime import get_runtime
from workers_app.settlement import run_trigger

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@bp.function_name("events_topic_worker")
@bp.service_bus_topic_trigger(
    arg_name="received",
    topic_name="%SERVICEBUS_EVENTS_TOPIC%",
    subscription_name="%SERVICEBUS_EVENTS_SUBSCRIPTION%",
    connection="ServiceBusConnection",
    auto_complete_messages=False,
)
def events_topic_worker(
    received: servicebus.ServiceBusReceivedMessage,
    message_actions: servicebus.ServiceBusMessageActions,
) -> None:
    runtime = get_runtime()
    worker = runtime.events_worker()
    run_trigger(
        lambda m: handle_event(m, worker),
        received,
        message_actions,
        runtime.settings.subscription_max_delivery_count,
        "events-topic",
    )


@bp.function_name("notifications_fan_out")
@bp.service_bus_topic_trigger(
    arg_name="received",
    topic_name="%SERVICEBUS_EVENTS_TOPIC%",
    subscription_name="%SERVICEBUS_NOTIFY_SUBSCRIPTION%",
    connection="ServiceBusConnection",
    auto_complete_messages=False,
)
def notifications_fan_out(
    received: servicebus.ServiceBusReceivedMessage,
    message_actions: servicebus.ServiceBusMessageActions,
) -> None:
    runtime = get_runtime()
    worker = runtime.events_worker()
    run_trigger(
        lambda m: fan_out_notification(m, worker),
        received,
        message_actions,
        runtime.settings.subscription_max_delivery_count,
        "events-topic (notifications)",
    )
