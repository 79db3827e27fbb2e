"""Workers test fixtures: the real orders and products apps on SQLite, an in-memory bus."""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from azure.functions.servicebus import ServiceBusMessage
from fastapi.testclient import TestClient

import orders_service.main
import payments_service.main
import products_service.main
import users_service.main
from orders_service.catalog import HttpInstrumentCatalog, InstrumentCatalog, get_catalog
from orders_service.settings import OrdersSettings
from orders_service.settings import get_settings as orders_settings
from payments_service.orders_client import HttpOrdersClient
from payments_service.settings import PaymentsSettings
from payments_service.settings import get_settings as payments_settings
from platform_common.messaging import InMemoryBus
from platform_common.testing import caller_headers, forwarding_transport, migrated_sqlite
from products_service.settings import ProductsSettings
from products_service.settings import get_settings as products_settings
from run_platform import AZURITE, azurite_connection_string, free_port, start_azurite, wait_http
from users_service.settings import UsersSettings
from users_service.settings import get_settings as users_settings
from workers_app.calls import service_client
from workers_app.events_worker import EventsWorker
from workers_app.notifications_worker import NotificationsWorker
from workers_app.orders_worker import OrderWorker, RiskLimits
from workers_app.privacy import PrivacyWorker

SERVICES_DIR = Path(__file__).resolve().parents[2]
ADMIN = caller_headers("setup-admin", "admin")
TRADER = caller_headers("tom", "trader")
APPLE = {
    "isin": "US0378331005",
    "full_name": "Apple Inc. Common Stock",
    "cfi_code": "ESVUFR",
    "issuer_lei": "HWUPKR0MPOU8FGXBT394",
    "currency": "USD",
    "venue_mic": "XNAS",
    "tick_size": "0.01",
    "reference_price": "190.00",
}


def sb_message(
    body: bytes | str,
    *,
    message_id: str = "m-1",
    session_id: str | None = None,
    delivery_count: int = 1,
    subject: str | None = None,
) -> ServiceBusMessage:
    """A real `azure.functions.ServiceBusMessage`, as the trigger hands one to a function."""
    return ServiceBusMessage(
        body=body.encode() if isinstance(body, str) else body,
        message_id=message_id,
        session_id=session_id,
        delivery_count=delivery_count,
        subject=subject,
        application_properties={},
        user_properties={},
    )


def bus_message(bus: InMemoryBus, destination: str, index: int = 0) -> ServiceBusMessage:
    """What the local bus holds, redelivered as the trigger would hand it over."""
    sent = bus.messages[destination][index]
    return sb_message(
        sent.body, message_id=sent.message_id, session_id=sent.session_id, subject=sent.subject
    )


def body_of(bus: InMemoryBus, destination: str, index: int = 0) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(bus.messages[destination][index].body)
    return loaded


@dataclass
class Platform:
    """The real orders and products apps, as the workers reach them over HTTP."""

    orders: TestClient
    products: TestClient
    payments: TestClient
    users: TestClient
    orders_bus: InMemoryBus
    payments_bus: InMemoryBus
    worker_bus: InMemoryBus
    users_bus: InMemoryBus = field(default_factory=InMemoryBus)

    def privacy_worker(self) -> PrivacyWorker:
        """The workers' admin clients for the erasure and retention routes."""
        clients = {
            name: service_client(
                f"http://{name}-api.internal",
                "svc-workers",
                ("admin",),
                5.0,
                transport=forwarding_transport(getattr(self, name)),
            )
            for name in ("orders", "payments", "users", "products")
        }
        return PrivacyWorker(**clients)

    def events_worker(self) -> EventsWorker:
        return EventsWorker(
            payments=service_client(
                "http://payments-api.internal",
                "svc-workers",
                ("risk_manager",),
                5.0,
                transport=forwarding_transport(self.payments),
            ),
            bus=self.worker_bus,
            notifications_topic="notifications-topic",
        )

    def notifications_worker(self) -> NotificationsWorker:
        return NotificationsWorker(
            users=service_client(
                "http://users-api.internal",
                "svc-workers",
                ("admin",),
                5.0,
                transport=forwarding_transport(self.users),
            )
        )

    def order_worker(self, collar: str = "10") -> OrderWorker:
        return OrderWorker(
            orders=service_client(
                "http://orders-api.internal",
                "svc-workers",
                ("admin", "risk_manager"),
                5.0,
                transport=forwarding_transport(self.orders),
            ),
            products=service_client(
                "http://products-api.internal",
                "svc-workers",
                (),
                5.0,
                transport=forwarding_transport(self.products),
            ),
            bus=self.worker_bus,
            events_topic="events-topic",
            limits=RiskLimits(Decimal(collar)),
        )

    def create_order(self, **terms: str) -> dict[str, Any]:
        body = {
            "isin": APPLE["isin"],
            "side": "buy",
            "order_type": "limit",
            "quantity": "10",
            "limit_price": "189.50",
            **terms,
        }
        response = self.orders.post(
            "/v1/orders", json=body, headers={**TRADER, "Idempotency-Key": str(uuid.uuid4())}
        )
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        return order


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workers-templates")


@pytest.fixture
def platform(tmp_path: Path, templates: Path) -> Iterator[Platform]:
    products_app = products_service.main.create_app()
    products_cfg = ProductsSettings(
        database_url=migrated_sqlite(
            SERVICES_DIR / "products", templates / "products.db", tmp_path / "products.db"
        )
    )
    products_app.dependency_overrides[products_settings] = lambda: products_cfg
    orders_app = orders_service.main.create_app()
    orders_cfg = OrdersSettings(
        database_url=migrated_sqlite(
            SERVICES_DIR / "orders", templates / "orders.db", tmp_path / "orders.db"
        ),
        outbox_poll_interval_seconds=300,
    )
    orders_app.dependency_overrides[orders_settings] = lambda: orders_cfg
    orders_bus = InMemoryBus()
    orders_app.state.buses.set(orders_bus)
    payments_app = payments_service.main.create_app()
    payments_cfg = PaymentsSettings(
        database_url=migrated_sqlite(
            SERVICES_DIR / "payments", templates / "payments.db", tmp_path / "payments.db"
        ),
        outbox_poll_interval_seconds=300,
    )
    payments_app.dependency_overrides[payments_settings] = lambda: payments_cfg
    payments_bus = InMemoryBus()
    payments_app.state.buses.set(payments_bus)
    users_app = users_service.main.create_app()
    users_cfg = UsersSettings(
        database_url=migrated_sqlite(
            SERVICES_DIR / "users", templates / "users.db", tmp_path / "users.db"
        ),
        workers_caller_id="svc-workers",
    )
    users_app.dependency_overrides[users_settings] = lambda: users_cfg
    users_bus = InMemoryBus()
    users_app.state.buses.set(users_bus)
    with (
        TestClient(products_app) as products,
        TestClient(orders_app) as orders,
        TestClient(payments_app) as payments,
        TestClient(users_app) as users,
    ):
        payments_app.state.orders_client = HttpOrdersClient(
            "http://orders-api.internal", 5.0, 1, transport=forwarding_transport(orders)
        )
        catalog = HttpInstrumentCatalog(
            "http://products-api.internal", 5.0, transport=forwarding_transport(products)
        )

        def http_catalog() -> InstrumentCatalog:
            return catalog

        orders_app.dependency_overrides[get_catalog] = http_catalog
        created = products.post("/v1/instruments", json=APPLE, headers=ADMIN)
        assert created.status_code == 201, created.text
        tom = {"id": "tom", "display_name": "Tom", "email": "tom@example.com", "roles": ["trader"]}
        assert users.post("/v1/users", json=tom, headers=ADMIN).status_code == 201
        yield Platform(
            orders, products, payments, users, orders_bus, payments_bus, InMemoryBus(), users_bus
        )


@pytest.fixture(scope="session")
def azurite() -> Iterator[str]:
    """One Azurite blob service for the session (the pinned npm package); its connection string.

    Tests isolate themselves by container name.
    """
    if not AZURITE.exists():
        pytest.fail(f"Azurite is not installed at {AZURITE}: run `npm ci` in {SERVICES_DIR}")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="azurite-") as workdir:
        process = start_azurite(port, Path(workdir))
        try:
            wait_http(f"http://127.0.0.1:{port}/devstoreaccount1?comp=list")
            yield azurite_connection_string(port)
        finally:
            process.terminate()
            process.wait(10)
