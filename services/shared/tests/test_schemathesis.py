"""Schemathesis against each service's ASGI app in-process, with its standard checks.

Bounded and derandomized so CI is fast and repeatable; SCHEMATHESIS_MAX_EXAMPLES
runs it longer (see services/README.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from orders_service.catalog import InstrumentCatalog, InstrumentRef, get_catalog
from platform_common.testing import migrated_sqlite

from .apps import SERVICES, ServiceSpec

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


# Generated caller headers mostly hold unknown roles (401/403); each case whose headers
# are valid is sent a second time as a caller holding every role, to reach the handlers.
EVERY_ROLE = {"X-Caller-Id": "fuzzer", "X-Caller-Roles": "admin,trader,risk_manager,viewer"}


def run(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(checks=CHECKS)
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        return
    case.headers.update(EVERY_ROLE)
    case.call_and_validate(checks=CHECKS)


class AnyInstrument:
    """Every well-formed ISIN is an active instrument with the finest tick, so generated
    orders get past the catalog to the risk checks, the database and the 201 schema."""

    def get(self, isin: str) -> InstrumentRef | None:
        return InstrumentRef(isin, True, "USD", Decimal("0.00000001"), Decimal(1))

    def is_ready(self) -> bool:
        return True


class FromLoopback:
    """Calls arrive from 127.0.0.1, the local gateway's address, so users-api's
    authenticate route (AUTHENTICATE_ALLOWED_CIDRS, loopback by default) is fuzzed past
    its address check instead of answering 403 to every case."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = dict(scope, client=("127.0.0.1", 50000))
        await self.app(scope, receive, send)


def _app(spec: ServiceSpec, base: Path) -> FastAPI:
    url = migrated_sqlite(spec.directory, base / "template.db", base / "db.sqlite")
    app = spec.create_app()
    service_settings = spec.settings_cls(database_url=url)
    app.dependency_overrides[spec.get_settings] = lambda: service_settings

    def catalog() -> InstrumentCatalog:
        return AnyInstrument()

    app.dependency_overrides[get_catalog] = catalog
    app.add_middleware(FromLoopback)
    return app


def _schema(name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    spec = next(s for s in SERVICES if s.name == name)
    app = _app(spec, tmp_path_factory.mktemp(f"schemathesis-{name}"))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def users_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    yield from _schema("users", tmp_path_factory)


@pytest.fixture(scope="module")
def orders_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    yield from _schema("orders", tmp_path_factory)


@pytest.fixture(scope="module")
def products_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    yield from _schema("products", tmp_path_factory)


@pytest.fixture(scope="module")
def payments_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    yield from _schema("payments", tmp_path_factory)


users = schemathesis.pytest.from_fixture("users_schema")
orders = schemathesis.pytest.from_fixture("orders_schema")
products = schemathesis.pytest.from_fixture("products_schema")
payments = schemathesis.pytest.from_fixture("payments_schema")


@users.parametrize()
@FUZZ_SETTINGS
def test_users_api(case: schemathesis.Case[Any]) -> None:
    run(case)


@orders.parametrize()
@FUZZ_SETTINGS
def test_orders_api(case: schemathesis.Case[Any]) -> None:
    run(case)


@products.parametrize()
@FUZZ_SETTINGS
def test_products_api(case: schemathesis.Case[Any]) -> None:
    run(case)


@payments.parametrize()
@FUZZ_SETTINGS
def test_payments_api(case: schemathesis.Case[Any]) -> None:
    run(case)
