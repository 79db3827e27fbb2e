"""Blueprint of the ETL processor: the timer starts a day's run, etl-queue runs each file."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import azure.functions as func
from azurefunctions.extensions.bindings import servicebus

from workers_app.etl_day import fan_out_day, handle_file_request
from workers_app.runtime import get_runtime
from workers_app.settlement import run_trigger

logger = logging.getLogger(__name__)
bp = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@bp.function_name("etl_timer")
# The schedule is an app setting (NCRONTAB, UTC), read through a binding expression.
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#ncrontab-expressions
@bp.timer_trigger(arg_name="timer", schedule="%ETL_SCHEDULE%", run_on_startup=False)
def etl_timer(timer: func.TimerRequest) -> None:
    runtime = get_runtime()
    day = datetime.now(UTC).date()
    files = fan_out_day(runtime.etl_job(), day, runtime.bus, runtime.settings.servicebus_etl_queue)
    logger.info(
        "ETL run queued",
        extra={"day": day.isoformat(), "files": len(files), "past_due": timer.past_due},
    )


@bp.function_name("etl_queue_worker")
@bp.service_bus_queue_trigger(
    arg_name="received",
    queue_name="%SERVICEBUS_ETL_QUEUE%",
    connection="ServiceBusConnection",
    auto_complete_messages=False,
)
def etl_queue_worker(
    received: servicebus.ServiceBusReceivedMessage,
    message_actions: servicebus.ServiceBusMessageActions,
) -> None:
    runtime = get_runtime()
    job = runtime.etl_job()
    run_trigger(
        lambda m: handle_file_request(m, job),
        received,
        message_actions,
        runtime.settings.etl_queue_max_delivery_count,
        "etl-queue",
    )
