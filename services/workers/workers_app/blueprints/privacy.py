"""Blueprint of erasure and retention: UserErased on the `erasure` subscription, a daily purge."""

from __future__ import annotations

import logging

import azure.functions as func
from azurefunctions.extensions.bindings import servicebus

from workers_app.privacy import PurgeFailedError, propagate_erasure, purge_all
from workers_app.runtime import get_runtime
from workers_app.settlement import run_trigger

logger = logging.getLogger(__name__)
bp = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@bp.function_name("propagate_erasure")
@bp.service_bus_topic_trigger(
    arg_name="received",
    topic_name="%SERVICEBUS_EVENTS_TOPIC%",
    subscription_name="%SERVICEBUS_ERASURE_SUBSCRIPTION%",
    connection="ServiceBusConnection",
    auto_complete_messages=False,
)
def propagate_erasure_trigger(
    received: servicebus.ServiceBusReceivedMessage,
    message_actions: servicebus.ServiceBusMessageActions,
) -> None:
    runtime = get_runtime()
    worker = runtime.privacy_worker()
    run_trigger(
        lambda m: propagate_erasure(m, worker),
        received,
        message_actions,
        runtime.settings.erasure_max_delivery_count,
        "events-topic (erasure)",
    )


@bp.function_name("purge_personal_data")
# NCRONTAB (six fields, UTC) from an app setting, as the ETL timer's.
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#ncrontab-expressions
@bp.timer_trigger(arg_name="timer", schedule="%RETENTION_PURGE_SCHEDULE%", run_on_startup=False)
def purge_personal_data(timer: func.TimerRequest) -> None:
    outcomes = purge_all(get_runtime().privacy_worker())
    for outcome in outcomes:
        logger.info(
            "retention purge",
            extra={
                "service": outcome.service,
                "ok": outcome.ok,
                "detail": outcome.detail,
                "counts": dict(outcome.counts),
                "past_due": timer.past_due,
            },
        )
    failed = [f"{o.service}: {o.detail}" for o in outcomes if not o.ok]
    if failed:
        # After every service had its turn: the invocation shows failed, naming which.
        raise PurgeFailedError("retention purge failed in " + "; ".join(failed))
