"""Every state-changing route of the four services leaves exactly one audit record.

The routes come from each app's `app.routes`; a write route missing from `WRITE_ROUTES`
fails the test, so a new route cannot ship unaudited. Each route is called the way the
authorization matrix calls it (its scenarios prepare the record acted on): a successful
call, a rejected one (bad body or unknown id), and a denied one (no grant, or no identity).
After each call exactly one new AuditRecord row is in the service's outbox, saying what
the table below says. Then: atomicity (no change without its record, no record of a change
that did not commit), replays, and reads of other people's data.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import MetaData, create_engine, select

from platform_common import audit
from platform_common.audit import AUDIT_SUBJECT, WRITE_METHODS
from platform_common.authz import Rule, Scope
from platform_common.testing import caller_headers

from .apps import SERVICES
from .test_authorization_matrix import ME, SCENARIOS, TABLES, THEM, Call, World, _build


@dataclass(frozen=True)
class Expect:
    """The record a successful call of one route leaves."""

    action: str
    resource_type: str
    # Where the resource id comes from: the path parameter, the response body's field, or
    # no single resource (a batch).
    resource_id: str  # "path" | "body:<field>" | "none"


WRITE_ROUTES: dict[tuple[str, str], Expect] = {
    # users
    ("users", "POST /v1/users"): Expect("users.create", "user", "body:id"),
    ("users", "PUT /v1/users/{user_id}/roles"): Expect("users.roles.update", "user", "path"),
    ("users", "PUT /v1/users/{user_id}/password"): Expect("users.password.set", "user", "path"),
    ("users", "PUT /v1/me/password"): Expect("me.password.change", "user", "caller"),
    ("users", "POST /internal/v1/notifications"): Expect(
        "notifications.record", "notification", "body:id"
    ),
    ("users", "POST /internal/v1/authenticate"): Expect(
        "credentials.authenticate", "user", "body:user_id"
    ),
    # An erasure's record names the account by its pseudonym: the original id is what the
    # erasure removes.
    ("users", "POST /v1/users/{user_id}/erasure"): Expect("users.erase", "user", "body:pseudonym"),
    ("users", "POST /internal/v1/erasures"): Expect("erasures.apply", "user", "body:pseudonym"),
    ("users", "POST /internal/v1/retention/purge"): Expect(
        "retention.purge", "personal_data", "none"
    ),
    # orders
    ("orders", "POST /v1/orders"): Expect("orders.create", "order", "body:id"),
    ("orders", "PATCH /v1/orders/{order_id}"): Expect("orders.amend", "order", "path"),
    ("orders", "POST /v1/orders/{order_id}/cancel"): Expect("orders.cancel", "order", "path"),
    ("orders", "POST /v1/orders/{order_id}/accept"): Expect("orders.accept", "order", "path"),
    ("orders", "POST /v1/orders/{order_id}/reject"): Expect("orders.reject", "order", "path"),
    ("orders", "POST /v1/orders/{order_id}/fills"): Expect("orders.fill", "order", "path"),
    ("orders", "POST /internal/v1/erasures"): Expect("erasures.apply", "user", "body:pseudonym"),
    ("orders", "POST /internal/v1/retention/purge"): Expect(
        "retention.purge", "personal_data", "none"
    ),
    # products
    ("products", "POST /v1/instruments"): Expect("instruments.create", "instrument", "body:isin"),
    ("products", "PUT /v1/instruments/{isin}"): Expect("instruments.update", "instrument", "path"),
    ("products", "PUT /internal/v1/instruments:batch"): Expect(
        "instruments.load", "instrument", "none"
    ),
    ("products", "PUT /internal/v1/instruments/{isin}/enrichment"): Expect(
        "instruments.enrichment.write", "instrument", "path"
    ),
    ("products", "POST /internal/v1/etl-runs"): Expect("etl_runs.record", "etl_run", "body:id"),
    ("products", "POST /internal/v1/erasures"): Expect("erasures.apply", "user", "body:pseudonym"),
    ("products", "POST /internal/v1/retention/purge"): Expect(
        "retention.purge", "personal_data", "none"
    ),
    # payments
    ("payments", "POST /v1/settlements"): Expect("settlements.create", "settlement", "body:id"),
    ("payments", "POST /v1/settlements/{settlement_id}/settle"): Expect(
        "settlements.settle", "settlement", "path"
    ),
    ("payments", "POST /v1/settlements/{settlement_id}/fail"): Expect(
        "settlements.fail", "settlement", "path"
    ),
    ("payments", "POST /internal/v1/erasures"): Expect("erasures.apply", "user", "body:pseudonym"),
    ("payments", "POST /internal/v1/retention/purge"): Expect(
        "retention.purge", "personal_data", "none"
    ),
}


def _write_routes(app: FastAPI) -> dict[str, APIRoute]:
    """`METHOD path` -> route, for every state-changing route of the app."""
    found: dict[str, APIRoute] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        for method in sorted((context.methods or set()) & WRITE_METHODS):
            found[f"{method} {context.path}"] = route
    return found


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_every_write_route_is_in_the_audit_table(spec: Any) -> None:
    routes = _write_routes(spec.create_app())
    listed = {key for service, key in WRITE_ROUTES if service == spec.name}
    assert sorted(set(routes) - listed) == [], "write routes without an audit expectation"
    assert sorted(listed - set(routes)) == [], "audit expectations for routes that do not exist"
    for key, route in routes.items():
        declared = audit.route_action(route)
        assert declared == WRITE_ROUTES[spec.name, key].action, key


# --- the worlds and their outboxes --------------------------------------------------------


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], World]]:
    built: dict[str, World] = {}
    with ExitStack() as stack:

        def world(name: str) -> World:
            if name not in built:
                base = tmp_path_factory.mktemp(f"audit-{name}")
                (base / "upstream").mkdir()
                built[name] = _build(name, stack, base)
            return built[name]

        yield world


def _database_url(name: str, world: World) -> str:
    spec = next(s for s in SERVICES if s.name == name)
    app = world.client.app
    assert isinstance(app, FastAPI)
    settings = app.dependency_overrides[spec.get_settings]()
    return str(settings.database_url)


class Outbox:
    """The audit rows of one world's database, read after a mark."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.metadata = MetaData()
        self.metadata.reflect(self.engine)
        self.table = self.metadata.tables["outbox"]
        self.mark = self._last_id()

    def _last_id(self) -> int:
        with self.engine.connect() as conn:
            ids = conn.scalars(select(self.table.c.id).order_by(self.table.c.id.desc()).limit(1))
            return next(iter(ids), 0)

    def new_records(self) -> list[dict[str, Any]]:
        t = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.body, t.c.destination, t.c.message_id)
                .where(t.c.id > self.mark, t.c.subject == AUDIT_SUBJECT)
                .order_by(t.c.id)
            ).all()
        records = []
        for row in rows:
            record = json.loads(row.body)
            assert row.destination == "audit-queue"
            assert row.message_id == record["id"]
            records.append(record)
        return records

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table but the outbox, row by row: what a change would alter."""
        with self.engine.connect() as conn:
            return {
                name: sorted(map(tuple, conn.execute(select(table)).all()), key=repr)
                for name, table in self.metadata.tables.items()
                if name not in {"outbox", "alembic_version"}
            }

    def close(self) -> None:
        self.engine.dispose()


def _allowed_roles(rule: Rule) -> tuple[str, ...]:
    """Roles that reach any record: the most privileged grant (no roles for everyone-rules)."""
    everywhere = sorted(role.value for role, scope in rule.grants.items() if scope is Scope.ALL)
    granted = everywhere or sorted(role.value for role in rule.grants)
    return (granted[0],) if granted else ()


def _prepared(name: str, key: str, world: World) -> tuple[Call, dict[str, str]]:
    action = WRITE_ROUTES[name, key].action
    targets, scenario = SCENARIOS[name][action]
    owner = THEM if "other" in targets and action != "orders.create" else ME
    call = scenario(world, owner)
    rule = TABLES[name][action]
    headers = {} if rule.public else caller_headers(ME, *_allowed_roles(rule))
    return call, headers


def _path_param(route_key: str, url: str, app: FastAPI) -> str | None:
    route = _write_routes(app)[route_key]
    match = route.path_regex.match(url.split("?", 1)[0])
    assert match is not None, (route_key, url)
    values = list(match.groupdict().values())
    return values[0] if values else None


CASES = [pytest.param(service, key, id=f"{service}:{key}") for service, key in WRITE_ROUTES]


@pytest.mark.parametrize(("service", "key"), CASES)
def test_a_successful_write_leaves_one_success_record(
    worlds: Callable[[str], World], service: str, key: str
) -> None:
    world = worlds(service)
    expect = WRITE_ROUTES[service, key]
    call, headers = _prepared(service, key, world)
    outbox = Outbox(_database_url(service, world))
    response = world.client.request(call.method, call.url, json=call.json, headers=headers)
    assert response.status_code == call.success, response.text
    records = outbox.new_records()
    outbox.close()
    assert len(records) == 1, records
    record = records[0]
    assert record["service"] == service
    assert (record["action"], record["resource"]["type"]) == (expect.action, expect.resource_type)
    assert (record["outcome"], record["status_code"]) == ("success", call.success)
    app = world.client.app
    assert isinstance(app, FastAPI)
    if expect.resource_id == "path":
        wanted = _path_param(key, call.url, app)
    elif expect.resource_id == "caller":
        wanted = ME
    elif expect.resource_id.startswith("body:"):
        wanted = response.json()[expect.resource_id.removeprefix("body:")]
    else:
        wanted = None
    assert record["resource"]["id"] == wanted
    assert record["actor"]["id"] == ME
    # What changed is in the record (a sign-in and a batch load say it in their details).
    assert record["changes"] is not None or record["details"]
    assert record["correlation_id"] == response.headers["X-Correlation-Id"]
    assert "replay" not in (record["details"] or {})


def _rejected_call(call: Call, key: str, app: FastAPI) -> tuple[Call, dict[str, Any] | None]:
    """A body of the wrong shape (422); without a body, an id that does not exist (404);
    with neither, a caller header holding control characters (400).

    The headers are None where the prepared ones serve."""
    if call.json is not None:
        return Call(call.method, call.url, 422, json=[{"not": "the expected object"}]), None
    param = _path_param(key, call.url, app)
    if param is not None:
        missing = call.url.replace(f"/{param}", "/does-not-exist", 1)
        return Call(call.method, missing, 404), None
    return Call(call.method, call.url, 400), {"X-Caller-Id": "tom\x1b[2J"}


@pytest.mark.parametrize(("service", "key"), CASES)
def test_a_rejected_write_leaves_one_rejected_record(
    worlds: Callable[[str], World], service: str, key: str
) -> None:
    world = worlds(service)
    call, headers = _prepared(service, key, world)
    app = world.client.app
    assert isinstance(app, FastAPI)
    bad, bad_headers = _rejected_call(call, key, app)
    headers = bad_headers if bad_headers is not None else headers
    outbox = Outbox(_database_url(service, world))
    before = outbox.snapshot()
    response = world.client.request(bad.method, bad.url, json=bad.json, headers=headers)
    assert response.status_code == bad.success, response.text
    records = outbox.new_records()
    assert outbox.snapshot() == before
    outbox.close()
    assert len(records) == 1, records
    record = records[0]
    assert (record["outcome"], record["status_code"]) == ("rejected", bad.success)
    assert record["action"] == WRITE_ROUTES[service, key].action
    assert record["changes"] is None
    assert record["details"]["route"] == key


@pytest.mark.parametrize(("service", "key"), CASES)
def test_a_denied_write_leaves_one_denied_record(
    worlds: Callable[[str], World], service: str, key: str
) -> None:
    world = worlds(service)
    expect = WRITE_ROUTES[service, key]
    rule = TABLES[service][expect.action]
    call, _headers = _prepared(service, key, world)
    if rule.public:  # the sign-in: wrong credentials are its denial (the handler records it)
        body = {"username": f"{ME}@example.com", "password": "not the password at all"}
        call, headers, status, actor = Call(call.method, call.url, 401, body), {}, 401, "anonymous"
    elif rule.everyone is None:  # an identified caller without the grant
        headers, status, actor = caller_headers(ME), 403, ME
    else:  # granted to everyone identified: only a missing identity is denied
        headers, status, actor = {}, 401, "anonymous"
    outbox = Outbox(_database_url(service, world))
    before = outbox.snapshot()
    response = world.client.request(call.method, call.url, json=call.json, headers=headers)
    assert response.status_code == status, response.text
    records = outbox.new_records()
    assert outbox.snapshot() == before
    outbox.close()
    assert len(records) == 1, records
    record = records[0]
    assert (record["outcome"], record["status_code"]) == ("denied", status)
    assert (record["action"], record["actor"]["id"]) == (expect.action, actor)
    if rule.public:
        assert record["details"]["username"] == "m***@example.com"
        assert call.json["password"] not in json.dumps(record)


# --- atomicity -------------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "key"), CASES)
def test_a_record_that_cannot_be_written_fails_the_change(
    worlds: Callable[[str], World], service: str, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = worlds(service)
    call, headers = _prepared(service, key, world)
    real = audit.record_audit

    def refuse_success(*args: Any, **kwargs: Any) -> None:
        if args[2].outcome == "success":
            raise RuntimeError("audit row refused")
        real(*args, **kwargs)

    monkeypatch.setattr(audit, "record_audit", refuse_success)
    outbox = Outbox(_database_url(service, world))
    before = outbox.snapshot()
    with pytest.raises(RuntimeError, match="audit row refused"):
        world.client.request(call.method, call.url, json=call.json, headers=headers)
    assert outbox.snapshot() == before, "the change committed without its record"
    records = outbox.new_records()
    outbox.close()
    assert [(r["outcome"], r["status_code"]) for r in records] == [("failed", 500)]


def test_a_change_whose_commit_fails_leaves_neither_change_nor_success_record(
    worlds: Callable[[str], World], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = worlds("users")
    app = world.client.app
    assert isinstance(app, FastAPI)
    url = _database_url("users", world)
    engine = next(e for e in app.state.engines._engines.values() if str(e.url) == url)
    dialect = engine.dialect
    real_commit = dialect.do_commit
    failed: list[bool] = []

    def commit_refused_once(dbapi_connection: Any) -> None:
        """The database gives the transaction up at COMMIT (as a deadlock victim's is)."""
        if failed:
            real_commit(dbapi_connection)
            return
        failed.append(True)
        dialect.do_rollback(dbapi_connection)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(dialect, "do_commit", commit_refused_once)
    outbox = Outbox(url)
    before = outbox.snapshot()
    response = world.client.put(
        f"/v1/users/{THEM}/roles", json={"roles": ["risk_manager"]}, headers=ADMIN_ME
    )
    assert failed
    assert response.status_code == 503, response.text
    assert outbox.snapshot() == before
    records = outbox.new_records()
    outbox.close()
    # The change's own record went with it; the middleware wrote the failure alone.
    assert [(r["outcome"], r["status_code"], r["changes"]) for r in records] == [
        ("failed", 503, None)
    ]


ADMIN_ME = caller_headers(ME, "admin")


def test_a_failure_after_the_commit_keeps_the_success_record_alone(
    worlds: Callable[[str], World], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The change and its record committed; the answer then fails (5xx). The record says
    # what happened to the data, and no second record claims the request failed.
    from sqlalchemy.orm import Session

    world = worlds("users")
    outbox = Outbox(_database_url("users", world))
    real_commit = Session.commit

    def commit_then_fail(self: Session) -> None:
        real_commit(self)
        raise RuntimeError("answer lost after the commit")

    monkeypatch.setattr(Session, "commit", commit_then_fail)
    with pytest.raises(RuntimeError, match="answer lost after the commit"):
        world.client.put(f"/v1/users/{THEM}/roles", json={"roles": ["viewer"]}, headers=ADMIN_ME)
    monkeypatch.undo()
    records = outbox.new_records()
    outbox.close()
    assert [(r["action"], r["outcome"]) for r in records] == [("users.roles.update", "success")]


def test_a_create_that_loses_its_race_leaves_one_record_and_no_change(
    worlds: Callable[[str], World], monkeypatch: pytest.MonkeyPatch
) -> None:
    # orders create on its Core connection: the key looked free, but a concurrent retry
    # with the same key committed first; the insert conflicts, the transaction (with the
    # record of the order it would have made) rolls back, and the winner's 201 is answered.
    from orders_service import api as orders_api

    world = worlds("orders")
    call, headers = _prepared("orders", "POST /v1/orders", world)
    key = {**headers, "Idempotency-Key": "lost-race"}
    first = world.client.post(call.url, json=call.json, headers=key)
    assert first.status_code == 201, first.text
    real_find = orders_api._find_replay
    looks: list[int] = []

    def misses_once(*args: Any) -> Any:
        looks.append(1)
        return None if len(looks) == 1 else real_find(*args)

    monkeypatch.setattr(orders_api, "_find_replay", misses_once)
    outbox = Outbox(_database_url("orders", world))
    before = outbox.snapshot()
    again = world.client.post(call.url, json=call.json, headers=key)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert outbox.snapshot() == before  # the loser's order is not there
    records = outbox.new_records()
    outbox.close()
    assert [(r["outcome"], r["details"]["replay"]) for r in records] == [("success", True)]


# --- replays ---------------------------------------------------------------------------------

REPLAYED = ["users:POST /internal/v1/notifications", "products:POST /internal/v1/etl-runs"]


@pytest.mark.parametrize("case", REPLAYED)
def test_a_replay_that_changes_nothing_is_one_success_record_marked_replay(
    worlds: Callable[[str], World], case: str
) -> None:
    service, key = case.split(":", 1)
    world = worlds(service)
    call, headers = _prepared(service, key, world)
    first = world.client.request(call.method, call.url, json=call.json, headers=headers)
    assert first.status_code == 201, first.text
    outbox = Outbox(_database_url(service, world))
    again = world.client.request(call.method, call.url, json=call.json, headers=headers)
    assert again.status_code == 200, again.text
    records = outbox.new_records()
    outbox.close()
    assert [(r["outcome"], r["status_code"], r["changes"]) for r in records] == [
        ("success", 200, None)
    ]
    assert records[0]["details"] == {"replay": True, "route": key}


def test_an_idempotent_order_create_replay_is_one_record(worlds: Callable[[str], World]) -> None:
    world = worlds("orders")
    call, headers = _prepared("orders", "POST /v1/orders", world)
    keyed = {**headers, "Idempotency-Key": f"audit-{world.unique()}"}
    assert world.client.post(call.url, json=call.json, headers=keyed).status_code == 201
    outbox = Outbox(_database_url("orders", world))
    again = world.client.post(call.url, json=call.json, headers=keyed)
    assert again.headers["Idempotent-Replayed"] == "true"
    records = outbox.new_records()
    outbox.close()
    assert [(r["action"], r["outcome"], r["details"]) for r in records] == [
        ("orders.create", "success", {"replay": True, "route": "POST /v1/orders"})
    ]


# --- reads of other people's data ------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    service: str
    action: str
    roles: tuple[str, ...]
    owner: str
    audited: bool


READS = [
    # a role answered: audited
    Read("orders", "orders.list", ("risk_manager",), THEM, True),
    Read("orders", "orders.read", ("admin",), THEM, True),
    Read("orders", "orders.read", ("viewer",), THEM, True),
    Read("orders", "orders.fills.list", ("risk_manager",), THEM, True),
    Read("payments", "settlements.list", ("risk_manager",), THEM, True),
    Read("payments", "settlements.read", ("admin",), THEM, True),
    Read("users", "users.list", ("admin",), THEM, True),
    Read("users", "users.read", ("risk_manager",), THEM, True),
    Read("users", "users.erasure.read", ("admin",), THEM, True),
    # own data, or not personal: nothing
    Read("orders", "orders.list", ("trader",), ME, False),
    Read("orders", "orders.read", ("trader",), ME, False),
    Read("orders", "orders.fills.list", ("trader",), ME, False),
    Read("payments", "settlements.read", ("trader",), ME, False),
    Read("payments", "settlements.list", ("trader",), ME, False),
    Read("users", "users.read", ("trader",), ME, False),
    Read("users", "me.read", ("trader",), ME, False),
    Read("users", "notifications.list", ("trader",), ME, False),
    Read("products", "instruments.search", (), ME, False),
    Read("products", "instruments.read", (), ME, False),
]


@pytest.mark.parametrize(
    "read", READS, ids=lambda r: f"{r.action}-{'+'.join(r.roles) or 'public'}-{r.owner}"
)
def test_reads_of_others_data_are_audited_and_own_reads_are_not(
    worlds: Callable[[str], World], read: Read
) -> None:
    world = worlds(read.service)
    call = SCENARIOS[read.service][read.action][1](world, read.owner)
    outbox = Outbox(_database_url(read.service, world))
    response = world.client.get(call.url, headers=caller_headers(ME, *read.roles))
    assert response.status_code == 200, response.text
    records = outbox.new_records()
    outbox.close()
    if not read.audited:
        assert records == []
        return
    assert len(records) == 1, records
    record = records[0]
    assert (record["action"], record["outcome"], record["actor"]["id"]) == (
        read.action,
        "success",
        ME,
    )
    assert record["changes"] is None
    assert record["details"] is not None or record["resource"]["id"] == read.owner


def test_every_read_action_has_a_read_case() -> None:
    """Each GET action is decided here: audited for others' data, or shown not to be."""
    reads = {
        action
        for service, table in TABLES.items()
        for action in table
        if not any(expect.action == action for expect in WRITE_ROUTES.values())
    }
    decided = {r.action for r in READS} | {
        # Operators' and workers' reads of non-personal data (ETL runs, enrichment).
        "etl_runs.list",
        "etl_runs.read",
        "instruments.enrichment.read",
    }
    assert reads <= decided, sorted(reads - decided)


def test_a_caller_header_with_control_characters_is_one_rejected_record(
    worlds: Callable[[str], World],
) -> None:
    """The third way a write is rejected (routes with neither body nor path parameter):
    a caller header holding control characters."""
    world = worlds("orders")
    order_id = world.order(ME)
    outbox = Outbox(_database_url("orders", world))
    response = world.client.post(
        f"/v1/orders/{order_id}/cancel", headers={"X-Caller-Id": "tom\x1b[2J"}
    )
    assert response.status_code == 400, response.text
    records = outbox.new_records()
    outbox.close()
    assert [(r["outcome"], r["status_code"], r["actor"]["id"]) for r in records] == [
        ("rejected", 400, "anonymous")
    ]


def test_a_body_refused_before_routing_is_one_rejected_record(
    worlds: Callable[[str], World],
) -> None:
    """The body limit answers 413 before the router runs: the record still names the route."""
    world = worlds("orders")
    outbox = Outbox(_database_url("orders", world))
    too_big = b"{" + b" " * 2_000_000 + b"}"
    response = world.client.post(
        "/v1/orders/o-1/cancel",
        content=too_big,
        headers={**caller_headers(ME, "trader"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text
    records = outbox.new_records()
    outbox.close()
    assert [
        (r["action"], r["outcome"], r["status_code"], r["resource"]["id"]) for r in records
    ] == [("orders.cancel", "rejected", 413, "o-1")]
