"""Body size limit, malformed bodies, caller-header decoding, readiness and documented statuses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from orders_service.catalog import get_catalog
from orders_service.settings import OrdersSettings
from platform_common.app import create_service_app
from platform_common.messaging import InMemoryBus
from platform_common.settings import ServiceSettings
from platform_common.testing import caller_headers, migrated_sqlite

from .apps import SERVICES, ServiceSpec
from .test_fuzz_no_5xx import StaticCatalog

ADMIN = caller_headers("ada", "admin")
LIMIT = 4096
CHUNK = 65536
HUGE = 150 * 1024 * 1024


def _spec(name: str) -> ServiceSpec:
    return next(s for s in SERVICES if s.name == name)


def _app(name: str, tmp_path: Path, **overrides: Any) -> tuple[FastAPI, ServiceSettings]:
    spec = _spec(name)
    url = migrated_sqlite(spec.directory, tmp_path / "template.db", tmp_path / "db.sqlite")
    app = spec.create_app()
    settings = spec.settings_cls(database_url=url, **overrides)
    app.dependency_overrides[spec.get_settings] = lambda: settings
    return app, settings


@pytest.fixture
def users(tmp_path: Path) -> Iterator[TestClient]:
    app, _ = _app("users", tmp_path, max_request_body_bytes=LIMIT)
    with TestClient(app) as client:
        yield client


def _user(**extra: Any) -> dict[str, Any]:
    return {"id": "tom", "display_name": "Tom", "email": "t@x.org", "roles": ["trader"], **extra}


def test_body_over_the_limit_is_413_problem_and_nothing_is_created(users: TestClient) -> None:
    body = json.dumps(_user(display_name="x" * LIMIT))
    response = users.post(
        "/v1/users", content=body, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Content Too Large"
    assert str(LIMIT) in response.json()["detail"]
    assert users.get("/v1/users/tom", headers=ADMIN).status_code == 404
    assert users.post("/v1/users", json=_user(), headers=ADMIN).status_code == 201


def _raw(
    app: FastAPI,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    chunks: int = 0,
) -> tuple[int, bytes, int]:
    """Raw ASGI request (exact header bytes; a body of `chunks` x 64 KiB produced lazily)."""
    asked = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked += 1
        return {"type": "http.request", "body": b"{" * CHUNK, "more_body": asked < chunks}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"t"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("t", 80),
        "state": {},
    }

    async def call() -> None:
        await app(scope, receive, send)  # type: ignore[arg-type]

    anyio.run(call)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, asked


def _raw_post(app: FastAPI, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes, int]:
    """POST /v1/users as admin with a 150 MB body; returns how many chunks were asked for."""
    admin = [(b"x-caller-id", b"ada"), (b"x-caller-roles", b"admin")]
    json_type = [(b"content-type", b"application/json")]
    return _raw(app, "POST", "/v1/users", [*admin, *json_type, *headers], HUGE // CHUNK)


def test_declared_150_mb_body_is_refused_without_reading_it(tmp_path: Path) -> None:
    app, _ = _app("users", tmp_path, max_request_body_bytes=LIMIT)
    status, body, asked = _raw_post(app, [(b"content-length", str(HUGE).encode())])
    assert status == 413
    assert asked == 0
    assert (
        json.loads(body)["detail"] == f"The request body declares {HUGE} bytes; the limit is 4096."
    )


def test_chunked_150_mb_body_is_refused_at_the_first_chunk_past_the_limit(tmp_path: Path) -> None:
    app, _ = _app("users", tmp_path, max_request_body_bytes=LIMIT)
    status, body, asked = _raw_post(app, [(b"transfer-encoding", b"chunked")])
    assert status == 413
    assert asked == 1
    assert json.loads(body)["title"] == "Content Too Large"


@pytest.mark.parametrize(
    "raw",
    [b'{"id": "tom", "display_name": "To', b'{"id": "t\xffm", "display_name": "Tom"}'],
    ids=["truncated-json", "invalid-utf8"],
)
def test_malformed_bodies_share_one_400_problem_shape(users: TestClient, raw: bytes) -> None:
    response = users.post(
        "/v1/users", content=raw, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert set(problem) == {"type", "title", "status", "detail", "instance", "errors"}
    assert problem["title"] == "Malformed request body"
    assert problem["errors"][0]["loc"][0] == "body"


def test_utf8_caller_id_is_decoded_not_garbled(users: TestClient) -> None:
    response = users.get("/v1/me", headers=[(b"X-Caller-Id", "José".encode())])
    assert response.status_code == 200
    assert response.json()["caller_id"] == "José"


@pytest.mark.parametrize(
    ("value", "why"), [(b"jos\xe9", "must be UTF-8"), (b"tom\x1b[2J", "control characters")]
)
def test_caller_id_that_is_not_utf8_text_is_400(tmp_path: Path, value: bytes, why: str) -> None:
    app, _ = _app("users", tmp_path)
    status, body, _ = _raw(app, "GET", "/v1/me", [(b"x-caller-id", value)])
    assert status == 400
    assert why in json.loads(body)["detail"]


class RaisingBus(InMemoryBus):
    def is_ready(self) -> bool:
        raise OSError("name resolution failed")


def test_readiness_names_a_dependency_whose_check_raises(tmp_path: Path) -> None:
    app, _ = _app("orders", tmp_path)
    app.state.buses.set(RaisingBus())
    app.dependency_overrides[get_catalog] = StaticCatalog
    with TestClient(app) as client:
        ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["unavailable"] == ["message_bus"]
    assert ready.json()["checks"] == {
        "database": True,
        "message_bus": False,
        "products_api": True,
    }


def test_readiness_runs_the_services_own_probes(tmp_path: Path) -> None:
    url = migrated_sqlite(_spec("users").directory, tmp_path / "t.db", tmp_path / "db.sqlite")
    settings = ServiceSettings(database_url=url)

    def get_settings() -> ServiceSettings:
        return settings

    def down() -> bool:
        return False

    def catalog_probe() -> Callable[[], bool]:
        return down

    app = create_service_app(
        service="x",
        title="x",
        description="x",
        get_settings=get_settings,
        routers=[],
        readiness={"products_api": catalog_probe},
    )
    with TestClient(app) as client:
        ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["unavailable"] == ["products_api"]
    assert "products_api" in ready.json()["detail"]


def test_orders_is_not_ready_while_products_api_is_down(tmp_path: Path) -> None:
    """The real HTTP catalog, pointed at a port nothing listens on."""
    spec = _spec("orders")
    url = migrated_sqlite(spec.directory, tmp_path / "template.db", tmp_path / "db.sqlite")
    app = spec.create_app()
    settings = OrdersSettings(
        database_url=url,
        products_api_base_url="http://127.0.0.1:9",
        outbox_poll_interval_seconds=300,
    )
    app.dependency_overrides[spec.get_settings] = lambda: settings
    with TestClient(app) as client:
        ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["unavailable"] == ["products_api"]
    assert ready.json()["checks"]["database"] is True


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_openapi_documents_every_status_the_shared_machinery_returns(spec: ServiceSpec) -> None:
    schema = spec.create_app().openapi()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            where = f"{method.upper()} {path}"
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= codes, where
            if path.startswith("/v1"):
                assert {"409", "503"} <= codes, where
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if "X-Caller-Id" in headers:
                assert {"400", "401"} <= codes, where


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_a_database_that_does_not_answer_is_503_problem(spec: ServiceSpec, tmp_path: Path) -> None:
    app = spec.create_app()
    settings = spec.settings_cls(database_url=f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}")
    app.dependency_overrides[spec.get_settings] = lambda: settings
    app.dependency_overrides[get_catalog] = StaticCatalog
    path = next(p for p in app.openapi()["paths"] if p.startswith("/v1") and "{" not in p)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(path, headers=caller_headers("ada", "admin"))
    assert response.status_code == 503, (path, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
