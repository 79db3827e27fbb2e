"""The long-lived clients one worker process shares across invocations (built on first use)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import httpx

from platform_common.local_bus import LocalFileBus
from platform_common.messaging import EntityKind, InMemoryBus, MessageBus, ServiceBusBus
from platform_common.settings import MessagingSettings
from workers_app.calls import service_client
from workers_app.events_worker import EventsWorker
from workers_app.notifications_worker import NotificationsWorker
from workers_app.orders_worker import OrderWorker, RiskLimits
from workers_app.settings import WorkersSettings, get_settings


@dataclass(frozen=True)
class Runtime:
    settings: WorkersSettings
    bus: MessageBus
    orders: httpx.Client
    products: httpx.Client
    payments: httpx.Client
    users: httpx.Client

    def order_worker(self) -> OrderWorker:
        return OrderWorker(
            orders=self.orders,
            products=self.products,
            bus=self.bus,
            events_topic=self.settings.servicebus_events_topic,
            limits=RiskLimits(self.settings.risk_price_collar_percent),
        )

    def events_worker(self) -> EventsWorker:
        return EventsWorker(
            payments=self.payments,
            bus=self.bus,
            notifications_topic=self.settings.servicebus_notifications_topic,
        )

    def notifications_worker(self) -> NotificationsWorker:
        return NotificationsWorker(users=self.users)


def build_bus(settings: WorkersSettings) -> MessageBus:
    """Service Bus through the workers' identity, or locally the shared file or in-memory bus."""
    mode = settings.messaging_mode or ("servicebus" if settings.servicebus_namespace else "memory")
    if mode == "local-file":
        assert settings.local_bus_path  # the settings refuse local-file without it
        return LocalFileBus(Path(settings.local_bus_path))
    if mode == "memory":
        return InMemoryBus()
    entities: dict[str, EntityKind] = {
        settings.servicebus_events_topic: "topic",
        settings.servicebus_notifications_topic: "topic",
    }
    # ServiceBusBus reads only these two fields; the services' SQL settings do not apply here.
    messaging = MessagingSettings.model_construct(
        servicebus_fully_qualified_namespace=settings.servicebus_namespace,
        azure_client_id=settings.servicebus_client_id,
    )
    return ServiceBusBus(messaging, entities)


def build_runtime(settings: WorkersSettings) -> Runtime:
    timeout = settings.http_timeout_seconds
    caller = settings.workers_caller_id
    return Runtime(
        settings=settings,
        bus=build_bus(settings),
        # Accepting needs admin and rejecting risk_manager in orders' permission table.
        orders=service_client(
            settings.orders_api_base_url, caller, ("admin", "risk_manager"), timeout
        ),
        products=service_client(settings.products_api_base_url, caller, (), timeout),
        # Creating a settlement is the back office's (risk_manager) in payments' table.
        payments=service_client(settings.payments_api_base_url, caller, ("risk_manager",), timeout),
        # users-api also pins notifications.record to this caller id.
        users=service_client(settings.users_api_base_url, caller, ("admin",), timeout),
    )


@lru_cache
def get_runtime() -> Runtime:
    return build_runtime(get_settings())
