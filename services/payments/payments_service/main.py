"""Payments API application factory."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from payments_service.api import router
from payments_service.erasure import internal_router
from payments_service.models import outbox
from payments_service.settings import PaymentsSettings, get_settings
from platform_common.app import OutboxConfig, create_service_app
from platform_common.messaging import EntityKind


def _entities(settings: Any) -> dict[str, EntityKind]:
    assert isinstance(settings, PaymentsSettings)
    return {settings.servicebus_events_topic: "topic", settings.servicebus_audit_queue: "queue"}


def create_app() -> FastAPI:
    return create_service_app(
        service="payments-api",
        title="Payments API",
        description="Settlement instructions for filled orders (idempotent per order).",
        get_settings=get_settings,
        routers=[router, internal_router],
        outbox=OutboxConfig(table=outbox, entities=_entities),
    )
