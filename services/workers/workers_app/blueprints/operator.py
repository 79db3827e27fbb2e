"""Blueprint of the operator's HTTP trigger: internal only (function key, no gateway route).

API Management imports only the services' OpenAPI documents, so nothing routes to the
Functions app from outside; the function key is the second lock.
https://learn.microsoft.com/azure/azure-functions/function-keys-how-to
"""

from __future__ import annotations

from datetime import UTC, datetime

import azure.functions as func

from workers_app.operator_api import replay_dead_letters, search_audit_records, start_etl_run
from workers_app.runtime import get_runtime

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@bp.function_name("operator_start_etl_run")
@bp.route(route="operator/etl-runs", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def operator_start_etl_run(req: func.HttpRequest) -> func.HttpResponse:
    runtime = get_runtime()
    return start_etl_run(
        req,
        runtime.etl_job(),
        runtime.bus,
        runtime.settings.servicebus_etl_queue,
        datetime.now(UTC).date(),
    )


@bp.function_name("operator_replay_dead_letters")
@bp.route(
    route="operator/dead-letters/{entity}/replay",
    methods=["POST"],
    auth_level=func.AuthLevel.FUNCTION,
)
def operator_replay_dead_letters(req: func.HttpRequest) -> func.HttpResponse:
    return replay_dead_letters(req, get_runtime().replayer())


@bp.function_name("operator_search_audit_records")
@bp.route(route="operator/audit-records", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def operator_search_audit_records(req: func.HttpRequest) -> func.HttpResponse:
    return search_audit_records(req, get_runtime().audit, datetime.now(UTC))
