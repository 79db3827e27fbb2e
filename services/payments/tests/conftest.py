"""Payments test fixtures: temp SQLite, settings override, inspectable in-memory bus."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from payments_service.main import create_app
from payments_service.settings import PaymentsSettings, get_settings
from platform_common.messaging import InMemoryBus
from platform_common.testing import migrated_sqlite

SERVICE_DIR = Path(__file__).resolve().parents[1]


@dataclass
class PaymentsHarness:
    client: TestClient
    settings: PaymentsSettings
    bus: InMemoryBus


@pytest.fixture(scope="session")
def payments_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("payments-template") / "template.db"


@pytest.fixture
def payments_settings(tmp_path: Path, payments_template: Path) -> PaymentsSettings:
    url = migrated_sqlite(SERVICE_DIR, payments_template, tmp_path / "payments.db")
    return PaymentsSettings(database_url=url, outbox_poll_interval_seconds=300)


@pytest.fixture
def payments(payments_settings: PaymentsSettings) -> Iterator[PaymentsHarness]:
    app = create_app()
    bus = InMemoryBus()
    app.state.buses.set(bus)
    app.dependency_overrides[get_settings] = lambda: payments_settings
    with TestClient(app) as client:
        yield PaymentsHarness(client, payments_settings, bus)
