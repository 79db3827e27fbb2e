"""Audit records: who did what to which resource, when, with what outcome.

A record is an outbox row (platform_common.outbox) addressed to the audit queue, written in
the same transaction as the change it describes: no change commits without its record, and
a rolled-back change leaves none. The outbox dispatcher publishes it like any event; the
workers append it to the immutable audit store (one blob per record, named by its id, so a
re-publish finds the blob already there).

Changes carry the fields before and after with personal fields masked
(platform_common.personal_data): the store cannot be altered, so it must never hold a
value an erasure would have to remove. The actor's id stays as it is: it is the
pseudonymous account id, and the record is kept under a legal obligation (MiFID II record
keeping; GDPR Art. 17(3)(b) exempts it from erasure).

Conventions (every route follows them; new routes too):

- One record per state-changing request (POST/PUT/PATCH/DELETE on a route). The handler
  that changes something calls `audit_change(session, resource_id=..., before=...,
  after=...)` before its commit: action = the route's permission name (the
  `authorize(PERMISSIONS, "<name>")` it declares), resource type = that name's first
  segment made singular (`orders.create` -> `order`, `me.*` -> `user`), actor = the
  forwarded caller, all read from the request (`AuditMiddleware`); pass `action=` or
  `resource_type=` only to say something else.
- Every other ending is recorded by `AuditMiddleware` in its own short transaction once
  the response status is known: 401/403 -> "denied", other 4xx (422, 409, 404, 413) ->
  "rejected", 5xx or an unhandled error -> "failed", a 2xx the handler did not record (a
  replay of an idempotent request, the same data again) -> "success" with details
  {"replay": true}. It knows whether the handler's record committed from the Session's
  `after_commit` event, fired once the database has committed (a Core connection calls
  `confirm_commit()` after its `commit()`), and the engine's rollback events
  (`track_transactions`): a record rolled back with its change (a lost race, a failed
  commit) does not count, so the request still gets exactly one.
- Reads of other people's data (a role, not ownership, answered them) call
  `audit_read(session, ...)`, which commits the record alone; own reads and reference
  data record nothing.
- An outcome the handler decides itself (a refused sign-in) is `audit_outcome(...)`,
  committed before the error is raised.
- The actor is the forwarded caller, or "anonymous" when the identity headers were missing
  or not valid. Health probes and requests that match no route are not audited.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Table, event
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from platform_common.correlation import current_correlation_id
from platform_common.errors import ProblemError
from platform_common.identity import (
    CALLER_ID_HEADER,
    CALLER_ROLES_HEADER,
    Caller,
    header_text,
    parse_roles,
)
from platform_common.outbox import insert_into
from platform_common.personal_data import mask_mapping

logger = logging.getLogger(__name__)

AUDIT_SUBJECT = "AuditRecord"
AUDIT_SCHEMA = 1
# Records about writes that never reached the handler (a 422, a 403) and reads have no
# transaction of their own to join; they get one, committed with the record alone.
Outcome = Literal["success", "denied", "rejected", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("success", "denied", "rejected", "failed")


@dataclass(frozen=True)
class AuditEntry:
    """One audited action. `before`/`after` are the changed resource's fields (unmasked
    here; masked when the body is built)."""

    action: str
    resource_type: str
    resource_id: str | None
    actor_id: str
    actor_roles: tuple[str, ...]
    outcome: Outcome = "success"
    status_code: int = 200
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    details: Mapping[str, Any] | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"audit outcome {self.outcome!r} is not one of {', '.join(OUTCOMES)}")
        if not self.action or not self.resource_type:
            raise ValueError("an audit entry needs an action and a resource type")

    @classmethod
    def by(
        cls,
        caller: Caller,
        action: str,
        resource_type: str,
        resource_id: str | None,
        **fields: Any,
    ) -> AuditEntry:
        """An entry for the caller the gateway forwarded."""
        return cls(
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            actor_id=caller.caller_id,
            actor_roles=tuple(sorted(role.value for role in caller.roles)),
            **fields,
        )

    def changes(self) -> dict[str, Any] | None:
        """Before and after, masked; only the fields that differ (all of them on create)."""
        if self.before is None and self.after is None:
            return None
        before = dict(self.before or {})
        after = dict(self.after or {})
        changed = sorted(
            key
            for key in before.keys() | after.keys()
            if before.get(key, _ABSENT) != after.get(key, _ABSENT)
        )
        return {
            "before": mask_mapping({k: before[k] for k in changed if k in before}),
            "after": mask_mapping({k: after[k] for k in changed if k in after}),
        }

    def record(self, service: str) -> dict[str, Any]:
        """The record as the audit store keeps it (schema 1)."""
        return {
            "schema": AUDIT_SCHEMA,
            "id": self.id,
            "service": service,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
            "actor": {"id": self.actor_id, "roles": list(self.actor_roles)},
            "action": self.action,
            "resource": {"type": self.resource_type, "id": self.resource_id},
            "outcome": self.outcome,
            "status_code": self.status_code,
            "correlation_id": current_correlation_id(),
            "changes": self.changes(),
            "details": mask_mapping(dict(self.details)) if self.details is not None else None,
        }

    def body(self, service: str) -> str:
        return json.dumps(self.record(service), default=str, sort_keys=True)


_ABSENT = object()


def record_audit(
    session: Session | Connection,
    outbox: Table,
    entry: AuditEntry,
    *,
    service: str,
    destination: str,
) -> None:
    """Add the entry's outbox row to the caller's transaction; nothing is committed here.

    Inside a request it also marks the request as recorded, pending that transaction's
    commit (see `track_transactions`).
    """
    body = entry.body(service)
    session.execute(
        insert_into(outbox),
        [
            {
                "message_id": entry.id,
                "destination": destination,
                "subject": AUDIT_SUBJECT,
                "body": body,
                "correlation_id": current_correlation_id() or entry.id,
                "created_at": entry.occurred_at,
                "attempts": 0,
            }
        ],
    )
    state = _request.get()
    if state is not None:
        state.pending = entry


# --- the request's audit context -------------------------------------------------------

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANONYMOUS = "anonymous"
# An action's first segment when it does not name the resource type by itself.
_RESOURCE_OF_SEGMENT = {"me": "user", "credentials": "user", "etl_runs": "etl_run"}


def resource_type_of(action: str) -> str:
    """`orders.create` -> `order`, `me.password.change` -> `user`: the action's resource."""
    segment = action.split(".", 1)[0]
    return _RESOURCE_OF_SEGMENT.get(segment, segment.removesuffix("s"))


def audit_service_name(service: str) -> str:
    """The record's `service` ("orders"), from the app's name ("orders-api")."""
    return service.removesuffix("-api")


def route_action(route: Any) -> str | None:
    """The permission name a route declares (its Authorize or Public dependency)."""
    cached = getattr(route, "_audit_action", _ABSENT)
    if cached is not _ABSENT:
        return cached if isinstance(cached, str) else None
    from platform_common.authz import Authorize, Public  # authz imports nothing from here

    action: str | None = None
    pending = list(getattr(getattr(route, "dependant", None), "dependencies", ()))
    while pending and action is None:
        dependant = pending.pop()
        if isinstance(dependant.call, Authorize | Public):
            action = dependant.call.action
        pending.extend(dependant.dependencies)
    route._audit_action = action
    return action


def _caller_from(scope: Scope) -> Caller:
    """The forwarded caller, read leniently: bad or missing headers make "anonymous"."""
    raw_id = raw_roles = None
    wanted_id = CALLER_ID_HEADER.lower().encode()
    wanted_roles = CALLER_ROLES_HEADER.lower().encode()
    for name, value in scope.get("headers", ()):
        if name == wanted_id:
            raw_id = value.decode("latin-1")
        elif name == wanted_roles:
            raw_roles = value.decode("latin-1")
    try:
        caller_id = (header_text(raw_id, CALLER_ID_HEADER) or "").strip()[:128]
        roles = parse_roles(header_text(raw_roles, CALLER_ROLES_HEADER))
    except ProblemError:
        return Caller(ANONYMOUS, frozenset())
    return Caller(caller_id, roles) if caller_id else Caller(ANONYMOUS, frozenset())


@dataclass(frozen=True)
class AuditSink:
    """Where a service's records go: its outbox table and the audit queue."""

    service: str
    outbox: Table
    destination: str
    session_factory: Callable[[], sessionmaker[Session]]


class RequestAudit:
    """One request's audit state: what it acts on, and whether its record committed.

    Mutable and shared by reference: the handler's worker thread runs in a copy of the
    request's context, which holds this same object.
    """

    __slots__ = ("_caller", "committed", "pending", "scope", "sink")

    def __init__(self, scope: Scope, sink: AuditSink) -> None:
        self.scope = scope
        self.sink = sink
        self.pending: AuditEntry | None = None
        self.committed: AuditEntry | None = None
        self._caller: Caller | None = None

    @property
    def caller(self) -> Caller:
        if self._caller is None:
            self._caller = _caller_from(self.scope)
        return self._caller

    @property
    def route(self) -> Any:
        return self.scope.get("route")

    @property
    def action(self) -> str | None:
        route = self.route
        return route_action(route) if route is not None else None

    def route_label(self) -> str:
        route = self.route
        return f"{self.scope.get('method')} {getattr(route, 'path', None) or self.scope['path']}"

    def entry(
        self,
        *,
        resource_id: str | None,
        action: str | None = None,
        resource_type: str | None = None,
        actor: Caller | None = None,
        **fields: Any,
    ) -> AuditEntry:
        name = action or self.action
        if name is None:
            raise RuntimeError(f"{self.route_label()} declares no permission to audit under")
        kind = resource_type or resource_type_of(name)
        return AuditEntry.by(actor or self.caller, name, kind, resource_id, **fields)


_request: ContextVar[RequestAudit | None] = ContextVar("request_audit", default=None)


def current_audit() -> RequestAudit:
    """The request being served; audit helpers called outside one are a programming error."""
    state = _request.get()
    if state is None:
        raise RuntimeError("audit helpers run inside a request served by AuditMiddleware")
    return state


def _record(session: Session | Connection, state: RequestAudit, entry: AuditEntry) -> AuditEntry:
    sink = state.sink
    record_audit(session, sink.outbox, entry, service=sink.service, destination=sink.destination)
    return entry


def audit_change(
    session: Session | Connection,
    *,
    resource_id: str | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    status_code: int = 200,
    details: Mapping[str, Any] | None = None,
    action: str | None = None,
    resource_type: str | None = None,
    actor: Caller | None = None,
) -> AuditEntry:
    """The success record of this request's change, in the change's transaction (commit it).

    `actor` replaces the forwarded caller only where the request identifies someone else
    (a sign-in acts as the user who signed in).
    """
    state = current_audit()
    entry = state.entry(
        resource_id=resource_id,
        action=action,
        resource_type=resource_type,
        actor=actor,
        before=before,
        after=after,
        status_code=status_code,
        details=details,
    )
    return _record(session, state, entry)


def audit_read(
    session: Session,
    *,
    resource_id: str | None,
    details: Mapping[str, Any] | None = None,
    action: str | None = None,
    resource_type: str | None = None,
) -> AuditEntry:
    """Record a read of other people's data and commit it alone (before the data leaves)."""
    state = current_audit()
    entry = state.entry(
        resource_id=resource_id, action=action, resource_type=resource_type, details=details
    )
    _record(session, state, entry)
    session.commit()
    return entry


def audit_outcome(
    session: Session,
    *,
    outcome: Outcome,
    status_code: int,
    resource_id: str | None,
    details: Mapping[str, Any] | None = None,
    actor: Caller | None = None,
    action: str | None = None,
    resource_type: str | None = None,
) -> AuditEntry:
    """A non-success outcome the handler decides (a refused sign-in), committed alone now."""
    state = current_audit()
    entry = state.entry(
        resource_id=resource_id,
        action=action,
        resource_type=resource_type,
        actor=actor,
        outcome=outcome,
        status_code=status_code,
        details=details,
    )
    _record(session, state, entry)
    session.commit()
    return entry


def outcome_of(status: int) -> Outcome:
    if status in (401, 403):
        return "denied"
    if status >= 500:
        return "failed"
    if status >= 400:
        return "rejected"
    return "success"


# --- commit tracking -------------------------------------------------------------------


def _committed(_session: Any = None) -> None:
    """The request's pending record is in the database: its transaction has committed."""
    state = _request.get()
    if state is not None and state.pending is not None:
        state.committed, state.pending = state.pending, None


def confirm_commit() -> None:
    """After a Core connection's `commit()` returned (the ORM confirms by itself)."""
    _committed()


def _rolled_back(_conn: Any) -> None:
    state = _request.get()
    if state is not None:
        state.pending = None


def track_transactions(engine: Engine) -> None:
    """A request's record counts once its transaction has committed; a rollback drops it.

    Confirmed after the database has committed, never before: the Session's `after_commit`
    event (or `confirm_commit` after a Core connection's commit), not the engine's `commit`
    event, which fires before the driver's commit and so would count a commit that then
    fails. https://docs.sqlalchemy.org/en/20/orm/events.html#sqlalchemy.orm.SessionEvents.after_commit
    Listeners are set once per engine (and once for all sessions), nothing per request.
    """
    if not event.contains(engine, "rollback", _rolled_back):
        event.listen(engine, "rollback", _rolled_back)
    if not event.contains(Session, "after_commit", _committed):
        event.listen(Session, "after_commit", _committed)


class AuditMiddleware:
    """Pure ASGI: gives each request its audit context; writes the record the handler did not.

    A change's record commits with the change, before any answer; the record of a request
    that changed nothing (denied, rejected, failed, replayed) is written once the app is
    done with the request, in its own transaction.
    """

    def __init__(self, app: ASGIApp, sink: Callable[[Any], AuditSink]) -> None:
        self.app = app
        self.sink = sink

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/health"):
            await self.app(scope, receive, send)
            return
        state = RequestAudit(scope, self.sink(scope["app"]))
        token = _request.set(state)
        status = 500  # what the client gets when the app raises before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # After the app has finished, not when the response starts: the handler's session
            # (closed on the dependency's exit, after the response) may still hold SQLite's
            # write lock until then. Only requests that changed nothing get here without a
            # committed record, so the client seeing their answer first loses no change's trace.
            try:
                if scope["method"] in WRITE_METHODS:
                    await _write_missing(state, status)
            finally:
                _request.reset(token)


def _routed_write(state: RequestAudit) -> bool:
    """A write route matched this request (not a 404/405 of the router, not a probe)."""
    if state.route is None:
        _match_route(state.scope)
    route = state.route
    if route is None:
        return False
    return state.scope["method"] in (getattr(route, "methods", None) or ())


def _match_route(scope: Scope) -> None:
    """The route a request answered before routing (a 413 by the body limit) would have had."""
    from fastapi.routing import APIRoute, iter_route_contexts  # only on this rare path
    from starlette.routing import Match

    app = scope.get("app")
    for context in iter_route_contexts(getattr(app, "routes", ())):
        route = context.original_route
        if isinstance(route, APIRoute):
            match, child = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.setdefault("path_params", child.get("path_params", {}))
                return


async def _write_missing(state: RequestAudit, status: int) -> None:
    if state.committed is not None:
        return
    if not _routed_write(state):
        return
    outcome = outcome_of(status)
    details: dict[str, Any] = {"route": state.route_label()}
    if outcome == "success":
        details["replay"] = True  # answered without a change (a repeat of a done request)
    path_params = state.scope.get("path_params") or {}
    resource_id = next((str(v) for v in path_params.values()), None)
    try:
        entry = state.entry(
            resource_id=resource_id, outcome=outcome, status_code=status, details=details
        )
        await run_in_threadpool(_write_alone, state, entry)
    except Exception:
        # The request changed nothing (its own record would have committed with a change);
        # losing this record loses no change's trace. Say so loudly.
        logger.exception("audit record of a request without change could not be written")


def _write_alone(state: RequestAudit, entry: AuditEntry) -> None:
    with state.sink.session_factory()() as session:
        _record(session, state, entry)
        session.commit()
