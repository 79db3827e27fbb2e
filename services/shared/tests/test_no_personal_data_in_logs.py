"""No personal value reaches a log line, across a flow through the four services.

The flow: accounts with names and e-mails (created, read, listed, their roles changed, a
password set), sign-ins that succeed and fail (a wrong password, an unknown e-mail), a
trader's order (created, accepted, filled, listed by a risk manager filtering on the
trader's id), its settlement, a notification written for the trader, and a database error
quoting a row. The root logger runs at DEBUG; every line the services' real JSON handler
writes, and every access line uvicorn's own handler and formatter would write for these
requests, is captured. None may hold a personal value; the masked forms must be there
(the lines were written, and masked).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from uvicorn.logging import AccessFormatter

from platform_common.testing import caller_headers
from users_service.models import User

from .test_authorization_matrix import APPLE, World, _build

ALICE, BOB, ADMIN_ID = "u-alice-7f3a9c", "u-bob-22c1d0", "u-admin-5e6f70"
ALICE_EMAIL, BOB_EMAIL = "alice.liddell@example.com", "robert.marley@example.org"
UNKNOWN_EMAIL = "carol.danvers@example.net"
PASSWORD = "correct horse battery staple"  # noqa: S105 (the test accounts' password)
WRONG = "tr0ub4dor and three"
# Case-insensitive: none of these may appear in any line, whole or in part.
PERSONAL = [
    ALICE,
    BOB,
    ADMIN_ID,
    ALICE_EMAIL,
    BOB_EMAIL,
    UNKNOWN_EMAIL,
    "alice",
    "liddell",
    "robert",
    "marley",
    "danvers",
    PASSWORD,
    WRONG,
    "white rabbit",  # in the notification's body
]
ADMIN = caller_headers(ADMIN_ID, "admin")
WORKERS = caller_headers("me", "admin")  # the users and products worlds pin this id
ACCESS_FORMAT = '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'


def _json_handler() -> logging.Handler:
    return next(h for h in logging.getLogger().handlers if h.get_name() == "platform-json")


@pytest.fixture
def captured(tmp_path: Path) -> Iterator[tuple[io.StringIO, io.StringIO, dict[str, World]]]:
    """The worlds, with the JSON handler's and uvicorn's access output captured at DEBUG."""
    with ExitStack() as stack:
        worlds: dict[str, World] = {}
        for name in ("users", "products", "payments"):
            base = tmp_path / name
            (base / "upstream").mkdir(parents=True)
            worlds[name] = _build(name, stack, base)
        json_lines, access_lines = io.StringIO(), io.StringIO()
        handler = _json_handler()
        assert isinstance(handler, logging.StreamHandler)
        previous_stream = handler.setStream(json_lines)
        root = logging.getLogger()
        previous_level = root.level
        root.setLevel(logging.DEBUG)
        # uvicorn's access logger as uvicorn configures it: its own handler and formatter,
        # no propagation to the root (so the root handlers' filter never sees it).
        access = logging.getLogger("uvicorn.access")
        access_handler = logging.StreamHandler(access_lines)
        access_handler.setFormatter(AccessFormatter(ACCESS_FORMAT, use_colors=False))
        access.addHandler(access_handler)
        access.propagate, access.level = False, logging.INFO

        def log_access(response: Any) -> None:  # the test client's (httpx2) response
            request = response.request
            target = request.url.raw_path.decode("ascii")
            # The call uvicorn's h11 protocol makes for every response.
            access.info(
                '%s - "%s %s HTTP/%s" %d',
                "127.0.0.1:50000",
                request.method,
                target,
                "1.1",
                response.status_code,
            )

        clients = [w.client for w in worlds.values()]
        orders = worlds["payments"].orders
        assert orders is not None
        for client in [*clients, orders]:
            client.event_hooks = {"request": [], "response": [log_access]}
        try:
            yield json_lines, access_lines, worlds
        finally:
            access.removeHandler(access_handler)
            root.setLevel(previous_level)
            handler.setStream(previous_stream)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _flow(worlds: dict[str, World]) -> None:
    users, products, payments = (
        worlds["users"].client,
        worlds["products"].client,
        worlds["payments"],
    )
    orders = payments.orders
    assert orders is not None
    # users: accounts, reads, roles, passwords, sign-ins
    for user_id, name, email in (
        (ALICE, "Alice Liddell", ALICE_EMAIL),
        (BOB, "Robert Marley", BOB_EMAIL),
    ):
        body = {"id": user_id, "display_name": name, "email": email, "roles": ["trader"]}
        _ok(users.post("/v1/users", json=body, headers=ADMIN), 201)
        _ok(
            users.put(f"/v1/users/{user_id}/password", json={"password": PASSWORD}, headers=ADMIN),
            204,
        )
    _ok(users.post("/v1/users", json={**body, "id": "u-other-000001"}, headers=ADMIN), 409)
    _ok(users.get(f"/v1/users/{ALICE}", headers=ADMIN))
    _ok(users.get("/v1/users?role=trader", headers=caller_headers(ADMIN_ID, "risk_manager")))
    _ok(users.put(f"/v1/users/{BOB}/roles", json={"roles": ["viewer"]}, headers=ADMIN))
    _ok(users.get("/v1/me", headers=caller_headers(ALICE, "trader")))
    signed_in = _ok(
        users.post(
            "/internal/v1/authenticate", json={"username": ALICE_EMAIL, "password": PASSWORD}
        )
    )
    assert signed_in["user_id"] == ALICE
    for username, password in ((ALICE_EMAIL, WRONG), (UNKNOWN_EMAIL, PASSWORD)):
        refused = users.post(
            "/internal/v1/authenticate", json={"username": username, "password": password}
        )
        _ok(refused, 401)
    # products: reference data the order refers to
    _ok(products.get(f"/v1/instruments/{APPLE.isin}"))
    # orders: the trader's order, through its life, read by the desk
    trader = caller_headers(ALICE, "trader")
    order = {
        "isin": APPLE.isin,
        "side": "buy",
        "order_type": "limit",
        "quantity": "10",
        "limit_price": "100.00",
    }
    order_id = _ok(orders.post("/v1/orders", json=order, headers=trader), 201)["id"]
    _ok(orders.post(f"/v1/orders/{order_id}/accept", headers=ADMIN))
    fill = {"venue_fill_id": "v-1", "quantity": "10", "price": "99.50"}
    filled = _ok(orders.post(f"/v1/orders/{order_id}/fills", json=fill, headers=ADMIN))
    _ok(orders.get(f"/v1/orders?user_id={ALICE}", headers=caller_headers(ADMIN_ID, "risk_manager")))
    _ok(orders.get(f"/v1/orders/{order_id}", headers=ADMIN))
    # payments: the settlement of the filled order
    terms = {
        "order_id": order_id,
        "user_id": ALICE,
        "isin": APPLE.isin,
        "side": "buy",
        "quantity": filled["filled_quantity"],
        "price": filled["average_fill_price"],
        "currency": "USD",
    }
    settlement = _ok(payments.client.post("/v1/settlements", json=terms, headers=ADMIN), 201)
    _ok(payments.client.post(f"/v1/settlements/{settlement['id']}/settle", headers=ADMIN))
    _ok(payments.client.get(f"/v1/settlements?order_id={order_id}", headers=ADMIN))
    # notifications: written by the workers for the trader
    note = {
        "id": "n-flow-1",
        "user_id": ALICE,
        "kind": "OrderFilled",
        "title": "Alice Liddell: order filled",
        "body": f"Follow the white rabbit, {ALICE_EMAIL}: {Decimal('10')} filled.",
        "occurred_at": "2026-12-01T09:30:00Z",
    }
    _ok(users.post("/internal/v1/notifications", json=note, headers=WORKERS), 201)
    _ok(users.get("/v1/me/notifications", headers=trader))
    # a database error that quotes the row (the unique e-mail key), logged with its traceback
    app = users.app
    assert isinstance(app, FastAPI)
    engine = next(iter(app.state.engines._engines.values()))
    now = datetime.now(UTC)
    row = {
        "id": "u-alice-copy99",
        "display_name": "Alice Liddell",
        "email": ALICE_EMAIL,
        "email_key": ALICE_EMAIL,
        "roles": "trader",
        "active": True,
        "created_at": now,
        "updated_at": now,
    }
    try:
        with engine.begin() as conn:
            conn.execute(insert(User), row)
    except IntegrityError:
        logging.getLogger("platform_common.errors").exception("row refused for %s", ALICE_EMAIL)
    else:
        pytest.fail("the duplicate e-mail key was accepted")


def test_no_personal_value_reaches_any_log_line(
    captured: tuple[io.StringIO, io.StringIO, dict[str, World]],
) -> None:
    json_lines, access_lines, worlds = captured
    _flow(worlds)
    lines = json_lines.getvalue().splitlines() + access_lines.getvalue().splitlines()
    leaks = [(value, line) for line in lines for value in PERSONAL if value.lower() in line.lower()]
    assert leaks == []
    written = "\n".join(lines)
    # The lines exist, and carry the masks where the values were.
    assert "/v1/users/u-a***/password" in access_lines.getvalue()
    assert "user_id=u-a***" in access_lines.getvalue()
    assert "ali***@example.com" in written  # the quoted e-mail of the refused row
    assert "Traceback" in written
    assert "IntegrityError" in written
    assert "HTTP Request: PUT http://testserver/v1/users/u-b***/roles" in written


def test_request_telemetry_urls_are_masked_before_export(tmp_path: Path) -> None:
    """What Application Insights would receive: the instrumented app's request spans."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from platform_common.telemetry import URL_ATTRIBUTES, personal_data_span_processor

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    # The order configure_azure_monitor uses: our processors, then the exporting one.
    provider.add_span_processor(personal_data_span_processor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with ExitStack() as stack:
        (tmp_path / "upstream").mkdir()
        world = _build("users", stack, tmp_path)
        app = world.client.app
        assert isinstance(app, FastAPI)
        FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
        app.middleware_stack = app.build_middleware_stack()
        world.client.get(f"/v1/users/{ALICE}", headers=ADMIN)
        world.client.get(f"/v1/users?role=trader&email={ALICE_EMAIL}", headers=ADMIN)
    spans = exporter.get_finished_spans()
    urls = [
        str(span.attributes[key])
        for span in spans
        for key in URL_ATTRIBUTES
        if span.attributes and key in span.attributes
    ]
    assert urls, [dict(span.attributes or {}) for span in spans]
    everything = repr([(span.name, dict(span.attributes or {})) for span in spans])
    assert [value for value in PERSONAL if value.lower() in everything.lower()] == [], everything
    assert any("/v1/users/u-a***" in url for url in urls), urls


def test_exception_events_on_spans_are_masked_before_export() -> None:
    """An unhandled error's span event quotes the exception text: no e-mail leaves in it."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from platform_common.telemetry import personal_data_span_processor

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(personal_data_span_processor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("insert") as span:
        span.record_exception(ValueError(f"duplicate key ({ALICE_EMAIL})"))
        span.add_event("plain", {"count": 1})
    (finished,) = exporter.get_finished_spans()
    recorded = repr([(e.name, dict(e.attributes or {})) for e in finished.events])
    assert ALICE_EMAIL not in recorded
    assert "ali***@example.com" in recorded
    assert "'count': 1" in recorded  # events without personal text are kept as they were
