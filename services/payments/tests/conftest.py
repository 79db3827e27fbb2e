"""Payments test fixtures: temp SQLite, in-memory bus, and a real orders app as orders-api."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from orders_service.catalog import InstrumentCatalog, InstrumentRef, get_catalog
from orders_service.main import create_app as create_orders_app
from orders_service.settings import OrdersSettings
from orders_service.settings import get_settings as get_orders_settings
from payments_service.main import create_app
from payments_service.orders_client import HttpOrdersClient
from payments_service.settings import PaymentsSettings, get_settings
from platform_common.messaging import InMemoryBus
from platform_common.testing import caller_headers, forwarding_transport, migrated_sqlite

SERVICE_DIR = Path(__file__).resolve().parent.parent
ORDERS_DIR = SERVICE_DIR.parent / "orders"
APPLE = InstrumentRef("US0378331005", True, "USD", Decimal("0.01"), Decimal("190.00"))
ORDERS_ADMIN = caller_headers("venue", "admin")


class StaticCatalog:
    def get(self, isin: str) -> InstrumentRef | None:
        return APPLE if isin == APPLE.isin else None

    def is_ready(self) -> bool:
        return True


@dataclass
class PaymentsHarness:
    client: TestClient
    app: FastAPI
    settings: PaymentsSettings
    bus: InMemoryBus
    orders: TestClient
    """The orders app payments verifies against (reached through its real HTTP client)."""

    def filled_order(
        self,
        fills: list[tuple[str, str]],
        *,
        trader: str = "tom",
        unfilled: str = "0",
        cancel: bool = False,
    ) -> dict[str, Any]:
        """A buy order for `trader`, accepted, with `fills` (quantity, price) reported.

        `unfilled` is the quantity left open after the fills; `cancel` then cancels it.
        """
        quantity = sum((Decimal(q) for q, _ in fills), Decimal(unfilled))
        created = self.orders.post(
            "/v1/orders",
            json={
                "isin": APPLE.isin,
                "side": "buy",
                "order_type": "limit",
                "quantity": str(quantity),
                "limit_price": "200.00",
            },
            headers=caller_headers(trader, "trader"),
        )
        assert created.status_code == 201, created.text
        order_id = created.json()["id"]
        assert self.orders.post(f"/v1/orders/{order_id}/accept", headers=ORDERS_ADMIN).is_success
        for n, (q, p) in enumerate(fills):
            filled = self.orders.post(
                f"/v1/orders/{order_id}/fills",
                json={"venue_fill_id": f"f{n}", "quantity": q, "price": p},
                headers=ORDERS_ADMIN,
            )
            assert filled.status_code == 200, filled.text
        if cancel:
            cancelled = self.orders.post(f"/v1/orders/{order_id}/cancel", headers=ORDERS_ADMIN)
            assert cancelled.status_code == 200, cancelled.text
        order = self.orders.get(f"/v1/orders/{order_id}", headers=ORDERS_ADMIN).json()
        assert isinstance(order, dict)
        return order


def instruction(order: dict[str, Any], **changes: str) -> dict[str, Any]:
    """The settlement terms a filled order carries, with `changes` applied."""
    terms = {
        "order_id": order["id"],
        "user_id": order["user_id"],
        "isin": order["isin"],
        "side": order["side"],
        "quantity": order["filled_quantity"] if order["average_fill_price"] else "1",
        # An order without fills has no average price; any valid price lets its state speak.
        "price": order["average_fill_price"] or "1",
        "currency": order["currency"],
    }
    return {**terms, **changes}


@pytest.fixture(scope="session")
def payments_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("payments-template") / "template.db"


@pytest.fixture(scope="session")
def payments_orders_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("payments-orders-template") / "template.db"


@pytest.fixture
def payments_settings(tmp_path: Path, payments_template: Path) -> PaymentsSettings:
    url = migrated_sqlite(SERVICE_DIR, payments_template, tmp_path / "payments.db")
    return PaymentsSettings(
        database_url=url,
        outbox_poll_interval_seconds=300,
        orders_api_base_url="http://orders-api.internal",
    )


@pytest.fixture
def orders_api(tmp_path: Path, payments_orders_template: Path) -> Iterator[TestClient]:
    """A real orders app on its own SQLite file, standing in for orders-api."""
    url = migrated_sqlite(ORDERS_DIR, payments_orders_template, tmp_path / "orders.db")
    settings = OrdersSettings(database_url=url, outbox_poll_interval_seconds=300)
    app = create_orders_app()
    app.state.buses.set(InMemoryBus())
    app.dependency_overrides[get_orders_settings] = lambda: settings

    def catalog() -> InstrumentCatalog:
        return StaticCatalog()

    app.dependency_overrides[get_catalog] = catalog
    with TestClient(app) as client:
        yield client


@pytest.fixture
def payments(
    payments_settings: PaymentsSettings, orders_api: TestClient
) -> Iterator[PaymentsHarness]:
    app = create_app()
    bus = InMemoryBus()
    app.state.buses.set(bus)
    app.state.orders_client = HttpOrdersClient(
        payments_settings.orders_api_base_url,
        payments_settings.orders_api_timeout_seconds,
        payments_settings.orders_api_attempts,
        transport=forwarding_transport(orders_api),
    )
    app.dependency_overrides[get_settings] = lambda: payments_settings
    with TestClient(app) as client:
        yield PaymentsHarness(client, app, payments_settings, bus, orders_api)
