"""Orders API application factory."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from orders_service.api import router
from orders_service.catalog import products_api_probe
from orders_service.erasure import internal_router
from orders_service.models import outbox
from orders_service.settings import OrdersSettings, get_settings
from platform_common.app import OutboxConfig, create_service_app
from platform_common.messaging import EntityKind


def _entities(settings: Any) -> dict[str, EntityKind]:
    assert isinstance(settings, OrdersSettings)
    return {
        settings.servicebus_orders_queue: "queue",
        settings.servicebus_events_topic: "topic",
        settings.servicebus_audit_queue: "queue",
    }


def create_app() -> FastAPI:
    return create_service_app(
        service="orders-api",
        title="Orders API",
        description=(
            "Order lifecycle: validation, risk limits, amend/cancel, fills; events via outbox."
        ),
        get_settings=get_settings,
        routers=[router, internal_router],
        outbox=OutboxConfig(table=outbox, entities=_entities),
        readiness={"products_api": products_api_probe},
    )
