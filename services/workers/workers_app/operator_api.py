"""The operator's HTTP actions: start an ETL run, replay dead letters, search the audit trail.

Plain functions over an `azure.functions.HttpRequest` so tests call them directly; the
blueprint (function-level key, no gateway route) only wires them.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime

import azure.functions as func

from platform_common.messaging import MessageBus
from workers_app.audit_search import QueryError, parse_query, search
from workers_app.audit_store import AuditBlobStore
from workers_app.deadletters import DeadLetterReplayer, ReplayError
from workers_app.esma import EsmaError
from workers_app.etl_day import EtlJob, fan_out_day

MAX_REPLAY = 1000


def _problem(status: int, title: str, detail: str) -> func.HttpResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return func.HttpResponse(
        json.dumps(body), status_code=status, mimetype="application/problem+json"
    )


def _json(status: int, body: object) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")


def start_etl_run(
    request: func.HttpRequest, job: EtlJob, bus: MessageBus, queue: str, today: date
) -> func.HttpResponse:
    """POST {"day": "YYYY-MM-DD"} (default today, UTC): 202 with the files queued."""
    raw = request.get_body()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return _problem(400, "Body is not JSON", 'Send {"day": "YYYY-MM-DD"} or no body.')
    if not isinstance(body, dict) or set(body) - {"day"}:
        return _problem(400, "Unexpected fields", 'The only field is "day" (YYYY-MM-DD).')
    try:
        day = date.fromisoformat(body["day"]) if "day" in body else today
    except (TypeError, ValueError):
        return _problem(400, "Invalid day", f"day {body.get('day')!r} is not YYYY-MM-DD.")
    if day > today:
        return _problem(400, "Invalid day", f"{day} is in the future; ESMA has not published it.")
    try:
        files = fan_out_day(job, day, bus, queue)
    except EsmaError as exc:
        status = 503 if exc.transient else 502
        return _problem(status, "ESMA register failed", str(exc))
    return _json(202, {"day": day.isoformat(), "queued": [f.name for f in files], "queue": queue})


def replay_dead_letters(
    request: func.HttpRequest, replayer: DeadLetterReplayer | None
) -> func.HttpResponse:
    """POST /operator/dead-letters/{entity}/replay?max=N: resend and complete N dead letters."""
    entity = request.route_params.get("entity", "")
    raw_max = request.params.get("max", "100")
    if not raw_max.isdigit() or not 1 <= int(raw_max) <= MAX_REPLAY:
        return _problem(400, "Invalid max", f"max must be an integer from 1 to {MAX_REPLAY}.")
    if replayer is None:
        return _problem(
            409,
            "No Service Bus",
            "ServiceBusConnection__fullyQualifiedNamespace is unset: the local bus keeps no "
            "dead-letter queue to replay.",
        )
    try:
        result = replayer.replay(entity, int(raw_max))
    except ReplayError as exc:
        return _problem(404, "Entity not replayable", str(exc))
    return _json(200, asdict(result))


def search_audit_records(
    request: func.HttpRequest, store: AuditBlobStore | None, now: datetime
) -> func.HttpResponse:
    """GET /operator/audit-records?from=&to=&<filters>&limit=&continuation=: newest first."""
    from azure.core.exceptions import AzureError

    try:
        query = parse_query(dict(request.params), now)
    except QueryError as exc:
        return _problem(400, exc.title, str(exc))
    if store is None:
        return _problem(
            409,
            "No audit store",
            "AUDIT_BLOB_ACCOUNT_URL (Azure) or AUDIT_BLOB_CONNECTION_STRING (Azurite) is unset.",
        )
    try:
        page = search(store, query)
    except AzureError as exc:
        return _problem(503, "Audit store unavailable", f"{type(exc).__name__}: {exc}"[:500])
    return _json(
        200,
        {
            "query": query.described(),
            "count": len(page.records),
            "items": page.records,
            "continuation": page.continuation,
        },
    )
