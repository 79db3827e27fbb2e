"""Orders test fixtures: temp SQLite, fake instrument catalog, inspectable in-memory bus."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from orders_service.catalog import InstrumentCatalog, InstrumentRef, get_catalog
from orders_service.main import create_app
from orders_service.settings import OrdersSettings, get_settings
from platform_common.messaging import InMemoryBus
from platform_common.testing import migrated_sqlite

SERVICE_DIR = Path(__file__).resolve().parents[1]

APPLE = InstrumentRef("US0378331005", True, "USD", Decimal("0.01"), Decimal("190.00"))
SIEMENS_NO_REF = InstrumentRef("DE0007236101", True, "EUR", Decimal("0.02"), None)
DELISTED = InstrumentRef("GB0002634946", False, "GBP", Decimal("0.5"), Decimal(100))


@dataclass
class FakeCatalog:
    """Stands in for products-api; counts calls so tests can see it was consulted."""

    instruments: dict[str, InstrumentRef]
    calls: int = 0

    def get(self, isin: str) -> InstrumentRef | None:
        self.calls += 1
        return self.instruments.get(isin)

    def is_ready(self) -> bool:
        return True


@dataclass
class OrdersHarness:
    client: TestClient
    app: FastAPI
    settings: OrdersSettings
    bus: InMemoryBus
    catalog: FakeCatalog


@pytest.fixture(scope="session")
def orders_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("orders-template") / "template.db"


@pytest.fixture
def orders_settings(tmp_path: Path, orders_template: Path) -> OrdersSettings:
    url = migrated_sqlite(SERVICE_DIR, orders_template, tmp_path / "orders.db")
    return OrdersSettings(
        database_url=url,
        orders_max_notional_per_order=Decimal(100000),
        orders_max_open_orders_per_user=3,
        outbox_poll_interval_seconds=300,
    )


@pytest.fixture
def orders(orders_settings: OrdersSettings) -> Iterator[OrdersHarness]:
    app = create_app()
    catalog = FakeCatalog({i.isin: i for i in (APPLE, SIEMENS_NO_REF, DELISTED)})
    bus = InMemoryBus()
    app.state.buses.set(bus)
    app.dependency_overrides[get_settings] = lambda: orders_settings

    def fake_catalog() -> InstrumentCatalog:
        return catalog

    app.dependency_overrides[get_catalog] = fake_catalog
    with TestClient(app) as client:
        yield OrdersHarness(client, app, orders_settings, bus, catalog)
