"""Schema-driven fuzzing: requests built from each service's OpenAPI never get a 5xx."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders_service.catalog import InstrumentCatalog, InstrumentRef, get_catalog
from payments_service.orders_client import FilledOrder, OrdersLookup, get_orders
from platform_common.identity import Caller
from platform_common.testing import migrated_sqlite

from .apps import SERVICES, ServiceSpec

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
PLAUSIBLE = st.sampled_from(
    [
        "US0378331005",
        "DE0007236101",
        "HWUPKR0MPOU8FGXBT394",
        "ESVUFR",
        "USD",
        "XNAS",
        "0.01",
        "100",
        "-1",
        "",
        "x" * 400,
    ]
)
ROLE_HEADERS = st.sampled_from(
    [
        {},
        {"X-Caller-Id": "u1"},
        {"X-Caller-Id": "u1", "X-Caller-Roles": "admin,trader,risk_manager"},
        {"X-Caller-Id": "u2", "X-Caller-Roles": "viewer"},
        {"X-Caller-Id": " ", "X-Caller-Roles": "admin"},
    ]
)


class StaticCatalog:
    def get(self, isin: str) -> InstrumentRef | None:
        if isin == "US0378331005":
            return InstrumentRef(isin, True, "USD", Decimal("0.01"), Decimal(190))
        return None

    def is_ready(self) -> bool:
        return True


class NoOrders:
    """orders-api knowing no order: settlements are refused with 422, never a 5xx."""

    def get(self, order_id: str, caller: Caller) -> FilledOrder | None:
        return None


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        resolved = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert isinstance(resolved, dict)
        return resolved
    return schema


def _value(spec: dict[str, Any], schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    schema = _resolve(spec, schema)
    options: list[st.SearchStrategy[Any]] = [JSON_VALUES, PLAUSIBLE]
    if "enum" in schema:
        options.append(st.sampled_from(schema["enum"]))
    for raw_variant in schema.get("anyOf", []):
        variant = _resolve(spec, raw_variant)
        if "enum" in variant:
            options.append(st.sampled_from(variant["enum"]))
        if variant.get("type") == "array":
            options.append(st.lists(_value(spec, variant.get("items", {})), max_size=3))
    if schema.get("type") == "array":
        options.append(st.lists(_value(spec, schema.get("items", {})), max_size=3))
    if schema.get("type") in {"number", "integer"} or "number" in str(schema.get("anyOf", "")):
        options.append(st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str))
    return st.one_of(options)


def _body(spec: dict[str, Any], operation: dict[str, Any]) -> st.SearchStrategy[Any]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return st.none()
    schema = _resolve(spec, content["schema"])
    properties = schema.get("properties", {})
    structured = st.fixed_dictionaries(
        {}, optional={k: _value(spec, v) for k, v in properties.items()}
    )
    return st.one_of(structured, JSON_VALUES)


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


@st.composite
def requests(
    draw: st.DrawFn, spec: dict[str, Any]
) -> tuple[str, str, dict[str, Any], Any, dict[str, str]]:
    method, path, operation = draw(st.sampled_from(_operations(spec)))
    url = re.sub(
        r"\{[^}]+\}",
        lambda _m: draw(PLAUSIBLE | st.text(alphabet="abcXYZ019-._~%", min_size=1, max_size=40)),
        path,
    )
    query: dict[str, Any] = {}
    for param in operation.get("parameters", []):
        if param["in"] == "query" and draw(st.booleans()):
            query[param["name"]] = draw(
                PLAUSIBLE | st.text(max_size=10) | st.integers(-5, 10**7).map(str)
            )
    headers = dict(draw(ROLE_HEADERS))
    if draw(st.booleans()):
        headers["Idempotency-Key"] = draw(st.sampled_from(["k1", "k2"]))
    return method, url, query, draw(_body(spec, operation)), headers


@pytest.fixture(params=SERVICES, ids=lambda s: s.name)
def fuzz_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    spec: ServiceSpec = request.param
    base = tmp_path_factory.mktemp(f"fuzz-{spec.name}")
    url = migrated_sqlite(spec.directory, Path(base / "template.db"), Path(base / "db.sqlite"))
    app = spec.create_app()
    service_settings = spec.settings_cls(database_url=url)
    app.dependency_overrides[spec.get_settings] = lambda: service_settings

    def catalog() -> InstrumentCatalog:
        return StaticCatalog()

    app.dependency_overrides[get_catalog] = catalog

    def orders() -> OrdersLookup:
        return NoOrders()

    app.dependency_overrides[get_orders] = orders
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_no_server_errors(fuzz_client: TestClient) -> None:
    spec = fuzz_client.get("/openapi.json").json()

    @settings(
        max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(requests(spec))
    def check(request: tuple[str, str, dict[str, Any], Any, dict[str, str]]) -> None:
        method, url, query, body, headers = request
        kwargs: dict[str, Any] = {"params": query, "headers": headers}
        if method in {"post", "put", "patch"} and body is not None:
            kwargs["json"] = body
        response = fuzz_client.request(method.upper(), url, **kwargs)
        assert response.status_code < 500, (method, url, query, body, headers, response.text)

    check()
