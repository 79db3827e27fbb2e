"""Health probes and problem details, checked on every service."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orders_service.catalog import InstrumentCatalog, get_catalog
from platform_common.messaging import InMemoryBus
from platform_common.testing import migrated_sqlite

from .apps import SERVICES, ServiceSpec
from .test_fuzz_no_5xx import StaticCatalog


class DownBus(InMemoryBus):
    def is_ready(self) -> bool:
        return False


def client_for(spec: ServiceSpec, database_url: str) -> TestClient:
    app = spec.create_app()
    settings = spec.settings_cls(database_url=database_url)
    app.dependency_overrides[spec.get_settings] = lambda: settings

    def catalog() -> InstrumentCatalog:
        return StaticCatalog()

    app.dependency_overrides[get_catalog] = catalog
    return TestClient(app)


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_ready_when_database_answers(spec: ServiceSpec, tmp_path: Path) -> None:
    url = migrated_sqlite(spec.directory, tmp_path / "template.db", tmp_path / "db.sqlite")
    with client_for(spec, url) as client:
        assert client.get("/health/live").json() == {"status": "ok"}
        ready = client.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["checks"]["database"] is True


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_not_ready_when_database_is_down(spec: ServiceSpec, tmp_path: Path) -> None:
    unreachable = f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}"
    with client_for(spec, unreachable) as client:
        assert client.get("/health/live").status_code == 200
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] is False


@pytest.mark.parametrize(
    "spec", [s for s in SERVICES if s.name in {"orders", "payments"}], ids=lambda s: s.name
)
def test_not_ready_when_bus_is_down(spec: ServiceSpec, tmp_path: Path) -> None:
    url = migrated_sqlite(spec.directory, tmp_path / "template.db", tmp_path / "db.sqlite")
    client = client_for(spec, url)
    client.app.state.buses.set(DownBus())  # type: ignore[attr-defined]
    with client:
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] is True
        assert ready.json()["unavailable"] == ["message_bus"]


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_errors_are_problem_details(spec: ServiceSpec, tmp_path: Path) -> None:
    url = migrated_sqlite(spec.directory, tmp_path / "template.db", tmp_path / "db.sqlite")
    with client_for(spec, url) as client:
        missing = client.get("/v2/anything")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json() == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "instance": "/v2/anything",
        }
        wrong_method = client.delete("/health/live")
        assert wrong_method.status_code == 405
        assert wrong_method.headers["content-type"] == "application/problem+json"
