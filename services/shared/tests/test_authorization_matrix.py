"""Every route of every service, called by every combination of roles, on own and others' records.

The cases are generated from each service's permission table and its app's routes; the
expected outcome is computed here from the table's stated semantics (a caller may do
what at least one of its roles, or the grant to every identified caller, allows; an
own-only grant never reaches another user's record), not by the code under test.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from orders_service.catalog import InstrumentCatalog, InstrumentRef, get_catalog
from orders_service.permissions import PERMISSIONS as ORDERS
from orders_service.settings import OrdersSettings
from payments_service.orders_client import HttpOrdersClient
from payments_service.permissions import PERMISSIONS as PAYMENTS
from payments_service.settings import PaymentsSettings
from platform_common.authz import Authorize, PermissionTable, Public, Rule, Scope
from platform_common.erasure import new_pseudonym
from platform_common.identifiers import isin_check_digit
from platform_common.identity import Role
from platform_common.messaging import InMemoryBus
from platform_common.testing import caller_headers, forwarding_transport, migrated_sqlite
from products_service.permissions import PERMISSIONS as PRODUCTS
from products_service.settings import ProductsSettings
from users_service.permissions import PERMISSIONS as USERS
from users_service.settings import UsersSettings

from .apps import SERVICES

ME, THEM = "me", "them"
PASSWORD = "matrix test passphrase"  # noqa: S105 (the test accounts' password)
ADMIN = caller_headers("setup-admin", "admin")
APPLE = InstrumentRef("US0378331005", True, "USD", Decimal("0.01"), Decimal("190.00"))
# Only the read-only scenarios' shared orders use this one, so a list filtered by it
# holds exactly the record under test.
SIEMENS = InstrumentRef("DE0007236101", True, "EUR", Decimal("0.02"), Decimal("100.00"))
ROLE_SETS: list[frozenset[Role]] = [
    frozenset(combo) for n in range(len(Role) + 1) for combo in itertools.combinations(Role, n)
]
Target = Literal["own", "other", "none"]
Outcome = Literal["allowed", "forbidden", "hidden", "unauthenticated"]
TABLES: dict[str, PermissionTable] = {
    "users": USERS,
    "orders": ORDERS,
    "products": PRODUCTS,
    "payments": PAYMENTS,
}


# --- the oracle ------------------------------------------------------------------------


def expected(rule: Rule, roles: frozenset[Role] | None, target: Target) -> Outcome:
    """What the table says should happen; `roles` None means no identity forwarded."""
    if rule.public:
        return "allowed"
    if roles is None:
        return "unauthenticated"
    reach = {rule.grants[role] for role in roles if role in rule.grants}
    if rule.everyone is not None:
        reach.add(rule.everyone)
    if not reach:
        return "forbidden"
    if target == "other" and Scope.ALL not in reach:
        return "hidden"
    return "allowed"


def test_combinations_never_reach_past_a_single_role() -> None:
    """For each table: what a role set may do is exactly what one of its roles may do."""
    for table in TABLES.values():
        sides: tuple[Target, ...] = ("own", "other")
        for rule, roles, target in itertools.product(table.values(), ROLE_SETS, sides):
            alone = [expected(rule, frozenset({r}), target) for r in roles]
            alone.append(expected(rule, frozenset(), target))
            assert (expected(rule, roles, target) == "allowed") == ("allowed" in alone)
            scope = rule.scope_for(roles)
            assert (
                scope is None
                or any(rule.scope_for(frozenset({r})) == scope for r in roles)
                or (scope == rule.everyone)
            )


# --- the worlds the calls run in ---------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    success: int
    json: Any = None
    listed_id: str | None = None
    """For list routes: the record whose presence in the page shows access."""


@dataclass
class World:
    """One service's app (and, for payments, the orders app it verifies against)."""

    client: TestClient
    orders: TestClient | None = None
    counter: itertools.count[int] = field(default_factory=itertools.count)
    cache: dict[tuple[str, str], str] = field(default_factory=dict)

    def unique(self) -> int:
        return next(self.counter)

    # orders
    def order(
        self,
        owner: str,
        *,
        accepted: bool = False,
        client: TestClient | None = None,
        instrument: InstrumentRef = APPLE,
    ) -> str:
        api = client or self.client
        created = api.post(
            "/v1/orders",
            json={
                "isin": instrument.isin,
                "side": "buy",
                "order_type": "limit",
                "quantity": "10",
                "limit_price": "100.00",
            },
            headers=caller_headers(owner, "trader"),
        )
        assert created.status_code == 201, created.text
        order_id = created.json()["id"]
        assert isinstance(order_id, str)
        if accepted:
            assert api.post(f"/v1/orders/{order_id}/accept", headers=ADMIN).status_code == 200
        return order_id

    def shared_order(self, owner: str) -> str:
        """Reads do not change the record: one per owner serves every role set."""
        key = ("order", owner)
        if key not in self.cache:
            self.cache[key] = self.order(owner, instrument=SIEMENS)
        return self.cache[key]

    # payments
    def filled_order(self, owner: str) -> dict[str, Any]:
        assert self.orders is not None
        order_id = self.order(owner, accepted=True, client=self.orders)
        fill = {"venue_fill_id": "v1", "quantity": "10", "price": "99.50"}
        assert self.orders.post(f"/v1/orders/{order_id}/fills", json=fill, headers=ADMIN).is_success
        order = self.orders.get(f"/v1/orders/{order_id}", headers=ADMIN).json()
        assert isinstance(order, dict)
        return {
            "order_id": order["id"],
            "user_id": order["user_id"],
            "isin": order["isin"],
            "side": order["side"],
            "quantity": order["filled_quantity"],
            "price": order["average_fill_price"],
            "currency": order["currency"],
        }

    def settlement(self, owner: str) -> tuple[str, str]:
        terms = self.filled_order(owner)
        created = self.client.post("/v1/settlements", json=terms, headers=ADMIN)
        assert created.status_code == 201, created.text
        return created.json()["id"], terms["order_id"]

    def shared_settlement(self, owner: str) -> tuple[str, str]:
        key = ("settlement", owner)
        if key not in self.cache:
            self.cache[key] = "|".join(self.settlement(owner))
        settlement_id, order_id = self.cache[key].split("|")
        return settlement_id, order_id

    # users
    def known_password(self, user: str) -> str:
        """Sets the user's password (as an admin) to PASSWORD, and returns it."""
        put = self.client.put(
            f"/v1/users/{user}/password", json={"password": PASSWORD}, headers=ADMIN
        )
        assert put.status_code == 204, put.text
        return PASSWORD

    def fresh_user(self) -> str:
        """A new account (erasing one is not repeatable on the same user)."""
        user = f"gone{self.unique()}"
        body = {
            "id": user,
            "display_name": user,
            "email": f"{user}@example.com",
            "roles": ["viewer"],
        }
        assert self.client.post("/v1/users", json=body, headers=ADMIN).status_code == 201
        return user

    def erased_user(self) -> dict[str, str]:
        """One user erased by an admin, shared by the scenarios that only read or finish it."""
        if ("erased", "shared") not in self.cache:
            user = self.fresh_user()
            done = self.client.post(f"/v1/users/{user}/erasure", headers=ADMIN)
            assert done.status_code == 200, done.text
            self.cache[("erased", "shared")] = f"{user}|{done.json()['pseudonym']}"
        user, pseudonym = self.cache[("erased", "shared")].split("|")
        return {"user_id": user, "pseudonym": pseudonym}

    def newly_erased_user(self) -> dict[str, str]:
        """A user erased by an admin just now, whose erasure the workers have not finished."""
        user = self.fresh_user()
        done = self.client.post(f"/v1/users/{user}/erasure", headers=ADMIN)
        assert done.status_code == 200, done.text
        return {"user_id": user, "pseudonym": done.json()["pseudonym"]}

    def erasure_request(self) -> dict[str, str]:
        """What the workers send orders and payments: a user they never saw is fine."""
        return {"user_id": f"gone{self.unique()}", "pseudonym": new_pseudonym()}

    # products
    def instrument_body(self) -> dict[str, Any]:
        body = f"XS{self.unique():09d}"
        return {
            "isin": body + str(isin_check_digit(body)),
            "full_name": "Matrix test note",
            "cfi_code": "ESVUFR",
            "issuer_lei": "HWUPKR0MPOU8FGXBT394",
            "currency": "USD",
            "venue_mic": "XNAS",
            "tick_size": "0.01",
        }


Scenario = Callable[[World, str], Call]
"""Prepares what the call acts on (owned by the given user) and says how to call it."""


def _instrument_fields(world: World) -> dict[str, Any]:
    return {k: v for k, v in world.instrument_body().items() if k != "isin"}


SCENARIOS: dict[str, dict[str, tuple[tuple[Target, ...], Scenario]]] = {
    "orders": {
        "orders.create": (
            ("none",),
            lambda w, _o: Call(
                "POST",
                "/v1/orders",
                201,
                {
                    "isin": APPLE.isin,
                    "side": "sell",
                    "order_type": "limit",
                    "quantity": "1",
                    "limit_price": "190.00",
                },
            ),
        ),
        "orders.list": (
            ("own", "other"),
            lambda w, o: Call(
                "GET",
                f"/v1/orders?user_id={o}&isin={SIEMENS.isin}",
                200,
                listed_id=w.shared_order(o),
            ),
        ),
        "orders.read": (
            ("own", "other"),
            lambda w, o: Call("GET", f"/v1/orders/{w.shared_order(o)}", 200),
        ),
        "orders.fills.list": (
            ("own", "other"),
            lambda w, o: Call("GET", f"/v1/orders/{w.shared_order(o)}/fills", 200),
        ),
        "orders.amend": (
            ("own", "other"),
            lambda w, o: Call("PATCH", f"/v1/orders/{w.order(o)}", 200, {"quantity": "12"}),
        ),
        "orders.cancel": (
            ("own", "other"),
            lambda w, o: Call("POST", f"/v1/orders/{w.order(o)}/cancel", 200),
        ),
        "orders.accept": (
            ("own", "other"),
            lambda w, o: Call("POST", f"/v1/orders/{w.order(o)}/accept", 200),
        ),
        "orders.reject": (
            ("own", "other"),
            lambda w, o: Call("POST", f"/v1/orders/{w.order(o)}/reject", 200, {"reason": "risk"}),
        ),
        "orders.fill": (
            ("own", "other"),
            lambda w, o: Call(
                "POST",
                f"/v1/orders/{w.order(o, accepted=True)}/fills",
                200,
                {"venue_fill_id": "x1", "quantity": "4", "price": "99.00"},
            ),
        ),
        # The workers' internal routes; the world pins WORKERS_CALLER_ID to ME.
        "erasures.apply": (
            ("none",),
            lambda w, _o: Call("POST", "/internal/v1/erasures", 200, w.erasure_request()),
        ),
        "retention.purge": (
            ("none",),
            lambda w, _o: Call("POST", "/internal/v1/retention/purge", 200),
        ),
    },
    "payments": {
        "settlements.create": (
            ("own", "other"),
            lambda w, o: Call("POST", "/v1/settlements", 201, w.filled_order(o)),
        ),
        "settlements.list": (
            ("own", "other"),
            lambda w, o: Call(
                "GET",
                f"/v1/settlements?order_id={w.shared_settlement(o)[1]}",
                200,
                listed_id=w.shared_settlement(o)[0],
            ),
        ),
        "settlements.read": (
            ("own", "other"),
            lambda w, o: Call("GET", f"/v1/settlements/{w.shared_settlement(o)[0]}", 200),
        ),
        "settlements.settle": (
            ("own", "other"),
            lambda w, o: Call("POST", f"/v1/settlements/{w.settlement(o)[0]}/settle", 200),
        ),
        "settlements.fail": (
            ("own", "other"),
            lambda w, o: Call(
                "POST", f"/v1/settlements/{w.settlement(o)[0]}/fail", 200, {"reason": "no SSI"}
            ),
        ),
        # The workers' internal routes; the world pins WORKERS_CALLER_ID to ME.
        "erasures.apply": (
            ("none",),
            lambda w, _o: Call("POST", "/internal/v1/erasures", 200, w.erasure_request()),
        ),
        "retention.purge": (
            ("none",),
            lambda w, _o: Call("POST", "/internal/v1/retention/purge", 200),
        ),
    },
    "users": {
        "me.read": (("own",), lambda w, _o: Call("GET", "/v1/me", 200)),
        "users.create": (
            ("none",),
            lambda w, _o: Call(
                "POST",
                "/v1/users",
                201,
                {
                    "id": f"new{w.unique()}",
                    "display_name": "New",
                    "email": f"new{w.unique()}@example.com",
                    "roles": ["viewer"],
                },
            ),
        ),
        "users.list": (("none",), lambda w, _o: Call("GET", "/v1/users", 200)),
        "users.read": (("own", "other"), lambda w, o: Call("GET", f"/v1/users/{o}", 200)),
        "users.roles.update": (
            ("own", "other"),
            lambda w, o: Call("PUT", f"/v1/users/{o}/roles", 200, {"roles": ["trader"]}),
        ),
        "users.password.set": (
            ("own", "other"),
            lambda w, o: Call("PUT", f"/v1/users/{o}/password", 204, {"password": PASSWORD}),
        ),
        "me.password.change": (
            ("own",),
            lambda w, _o: Call(
                "PUT",
                "/v1/me/password",
                204,
                {"current_password": w.known_password(ME), "new_password": PASSWORD},
            ),
        ),
        # No caller identity: the gateway presents the user's credentials (from loopback,
        # which the users world's client calls from).
        "credentials.authenticate": (
            ("none",),
            lambda w, _o: Call(
                "POST",
                "/internal/v1/authenticate",
                200,
                {"username": f"{ME}@example.com", "password": w.known_password(ME)},
            ),
        ),
        "notifications.list": (("own",), lambda w, _o: Call("GET", "/v1/me/notifications", 200)),
        # The users world pins WORKERS_CALLER_ID to ME, so this exercises the role grant;
        # users' own tests check that any other caller id is refused.
        "notifications.record": (
            ("none",),
            lambda w, _o: Call(
                "POST",
                "/internal/v1/notifications",
                201,
                {
                    "id": f"n-{w.unique()}",
                    "user_id": THEM,
                    "kind": "OrderFilled",
                    "title": "Order filled",
                    "body": "Your order was filled.",
                    "occurred_at": "2026-12-01T09:30:00Z",
                },
            ),
        ),
        "users.erase": (
            ("none",),
            lambda w, _o: Call("POST", f"/v1/users/{w.fresh_user()}/erasure", 200),
        ),
        "users.erasure.read": (
            ("none",),
            lambda w, _o: Call("GET", f"/v1/users/{w.erased_user()['user_id']}/erasure", 200),
        ),
        # Finishing an erasure is repeatable (a repeat answers the same); each call finishes
        # a new one, so it changes something and leaves its record.
        "erasures.apply": (
            ("none",),
            lambda w, _o: Call("POST", "/internal/v1/erasures", 200, w.newly_erased_user()),
        ),
        "retention.purge": (
            ("none",),
            lambda w, _o: Call("POST", "/internal/v1/retention/purge", 200),
        ),
    },
    "products": {
        "instruments.search": (("none",), lambda w, _o: Call("GET", "/v1/instruments", 200)),
        "instruments.read": (
            ("none",),
            lambda w, _o: Call("GET", f"/v1/instruments/{APPLE.isin}", 200),
        ),
        "instruments.create": (
            ("none",),
            lambda w, _o: Call("POST", "/v1/instruments", 201, w.instrument_body()),
        ),
        "instruments.update": (
            ("none",),
            lambda w, _o: Call("PUT", f"/v1/instruments/{APPLE.isin}", 200, _instrument_fields(w)),
        ),
        # Internal routes of the third-party sync (workers present admin).
        "instruments.enrichment.read": (
            ("none",),
            lambda w, _o: _enriched(
                w, Call("GET", f"/internal/v1/instruments/{APPLE.isin}/enrichment", 200)
            ),
        ),
        "instruments.enrichment.write": (
            ("none",),
            lambda w, _o: _enriched(
                w,
                Call(
                    "PUT",
                    f"/internal/v1/instruments/{APPLE.isin}/enrichment",
                    200,
                    {"ticker": f"T{w.unique()}"},
                ),
            ),
        ),
        # The products world pins WORKERS_CALLER_ID to ME (as users does); products' own
        # tests check that any other caller id is refused.
        "instruments.load": (
            ("none",),
            lambda w, _o: Call(
                "PUT",
                "/internal/v1/instruments:batch",
                200,
                {"items": [{k: v for k, v in w.instrument_body().items() if k != "tick_size"}]},
            ),
        ),
        # ETL run records: reported by the workers (caller id pinned to ME here, as for
        # loads), read by admins.
        "etl_runs.record": (
            ("none",),
            lambda w, _o: Call("POST", "/internal/v1/etl-runs", 201, _etl_run(w)),
        ),
        "etl_runs.list": (("none",), lambda w, _o: Call("GET", "/v1/etl-runs", 200)),
        "etl_runs.read": (
            ("none",),
            lambda w, _o: Call("GET", f"/v1/etl-runs/{_recorded_run(w)}", 200),
        ),
        "erasures.apply": (
            ("none",),
            lambda w, _o: Call("POST", "/internal/v1/erasures", 200, w.erasure_request()),
        ),
        "retention.purge": (
            ("none",),
            lambda w, _o: Call("POST", "/internal/v1/retention/purge", 200),
        ),
    },
}


def _etl_run(world: World) -> dict[str, Any]:
    """A fresh run report (a new id each time, so each call records one)."""
    return {
        "id": str(uuid.UUID(int=world.unique() + 1)),
        "file_name": "FULINS_E_20261130_01of01.zip",
        "file_sha256": "0" * 64,
        "outcome": "loaded",
        "records": 2,
        "valid": 2,
        "written": 2,
        "rejected": 0,
        "batches": 1,
        "duration_ms": 10,
        "started_at": "2026-12-01T07:30:00Z",
        "finished_at": "2026-12-01T07:30:01Z",
    }


def _recorded_run(world: World) -> str:
    """One run recorded by the workers' identity (ME in the products world), read by all."""
    if ("etl_run", "shared") not in world.cache:
        body = _etl_run(world)
        created = world.client.post(
            "/internal/v1/etl-runs", json=body, headers=caller_headers(ME, "admin")
        )
        assert created.status_code == 201, created.text
        world.cache[("etl_run", "shared")] = body["id"]
    return world.cache[("etl_run", "shared")]


def _enriched(world: World, call: Call) -> Call:
    """APPLE has third-party data already, so a write answers 200 (first one was 201)."""
    url = f"/internal/v1/instruments/{APPLE.isin}/enrichment"
    if ("enriched", APPLE.isin) not in world.cache:
        created = world.client.put(url, json={"ticker": "AAPL"}, headers=ADMIN)
        assert created.status_code == 201, created.text
        world.cache[("enriched", APPLE.isin)] = "yes"
    return call


class StaticCatalog:
    def get(self, isin: str) -> InstrumentRef | None:
        return {i.isin: i for i in (APPLE, SIEMENS)}.get(isin)

    def is_ready(self) -> bool:
        return True


def _orders_app(stack: ExitStack, base: Path) -> TestClient:
    from orders_service.main import create_app
    from orders_service.settings import get_settings

    directory = next(s for s in SERVICES if s.name == "orders").directory
    url = migrated_sqlite(directory, base / "orders-template.db", base / "orders.db")
    settings = OrdersSettings(
        database_url=url,
        outbox_poll_interval_seconds=300,
        orders_max_open_orders_per_user=100000,
        orders_max_notional_per_order=Decimal(10**9),
        workers_caller_id=ME,
    )
    app = create_app()
    app.state.buses.set(InMemoryBus())
    app.dependency_overrides[get_settings] = lambda: settings

    def catalog() -> InstrumentCatalog:
        return StaticCatalog()

    app.dependency_overrides[get_catalog] = catalog
    return stack.enter_context(TestClient(app))


def _build(name: str, stack: ExitStack, base: Path) -> World:
    spec = next(s for s in SERVICES if s.name == name)
    if name == "orders":
        return World(_orders_app(stack, base))
    url = migrated_sqlite(spec.directory, base / f"{name}-template.db", base / f"{name}.db")
    app: FastAPI = spec.create_app()
    if name == "payments":
        orders = _orders_app(stack, base / "upstream")
        pay = PaymentsSettings(
            database_url=url, outbox_poll_interval_seconds=300, workers_caller_id=ME
        )
        app.state.buses.set(InMemoryBus())
        app.state.orders_client = HttpOrdersClient(
            "http://orders-api.internal", 2.0, 1, transport=forwarding_transport(orders)
        )
        app.dependency_overrides[spec.get_settings] = lambda: pay
        return World(stack.enter_context(TestClient(app)), orders=orders)
    settings: UsersSettings | ProductsSettings = (
        UsersSettings(database_url=url, workers_caller_id=ME)
        if name == "users"
        else ProductsSettings(database_url=url, workers_caller_id=ME)
    )
    app.dependency_overrides[spec.get_settings] = lambda: settings
    # From loopback: the authenticate route answers AUTHENTICATE_ALLOWED_CIDRS only.
    world = World(stack.enter_context(TestClient(app, client=("127.0.0.1", 50000))))
    if name == "users":
        for user in (ME, THEM):
            body = {
                "id": user,
                "display_name": user,
                "email": f"{user}@example.com",
                "roles": ["viewer"],
            }
            assert world.client.post("/v1/users", json=body, headers=ADMIN).status_code == 201
    if name == "products":
        body = dict(world.instrument_body(), isin=APPLE.isin)
        assert world.client.post("/v1/instruments", json=body, headers=ADMIN).status_code == 201
    return world


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], World]]:
    built: dict[str, World] = {}
    with ExitStack() as stack:

        def world(name: str) -> World:
            if name not in built:
                base = tmp_path_factory.mktemp(f"authz-{name}")
                (base / "upstream").mkdir()
                built[name] = _build(name, stack, base)
            return built[name]

        yield world


# --- the generated cases -----------------------------------------------------------------


def _label(roles: frozenset[Role] | None) -> str:
    if roles is None:
        return "anonymous"
    return "+".join(sorted(r.value for r in roles)) or "no-roles"


CASES = [
    pytest.param(service, action, roles, target, id=f"{action}-{_label(roles)}-{target}")
    for service, table in TABLES.items()
    for action in table
    for target in SCENARIOS[service][action][0]
    for roles in [None, *ROLE_SETS]
]


@pytest.mark.parametrize(("service", "action", "roles", "target"), CASES)
def test_route_outcome_matches_table(
    worlds: Callable[[str], World],
    service: str,
    action: str,
    roles: frozenset[Role] | None,
    target: Target,
) -> None:
    world = worlds(service)
    owner = THEM if target == "other" else ME
    call = SCENARIOS[service][action][1](world, owner)
    headers = {} if roles is None else caller_headers(ME, *sorted(r.value for r in roles))
    response = world.client.request(call.method, call.url, json=call.json, headers=headers)
    outcome = expected(TABLES[service][action], roles, target)
    listed = call.listed_id is not None
    if outcome == "unauthenticated":
        assert response.status_code == 401, response.text
    elif outcome == "forbidden":
        assert response.status_code == 403, response.text
    elif outcome == "hidden" and not listed:
        assert response.status_code == 404, response.text
    else:
        assert response.status_code == call.success, response.text
    if listed and outcome in {"allowed", "hidden"}:
        ids = [item["id"] for item in response.json()["items"]]
        assert (call.listed_id in ids) == (outcome == "allowed"), ids


# --- every route is in the table, every table entry is a route ----------------------------


def _actions(route: APIRoute) -> list[str]:
    found: list[str] = []
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, Authorize | Public):
            found.append(dependant.call.action)
        pending.extend(dependant.dependencies)
    return found


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_every_route_declares_one_table_action(spec: Any) -> None:
    app: FastAPI = spec.create_app()
    # FastAPI 0.165 keeps included routers as one entry each; this walks their routes.
    declared = {
        f"{sorted(context.methods or ())} {context.path}": _actions(context.original_route)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and (context.path or "").startswith(("/v1", "/internal/v1"))
    }
    assert declared
    assert all(len(actions) == 1 for actions in declared.values()), declared
    used = sorted(actions[0] for actions in declared.values())
    assert used == sorted(TABLES[spec.name]), "each table action is exactly one route"
    assert set(SCENARIOS[spec.name]) == set(TABLES[spec.name]), "each action has a scenario"
