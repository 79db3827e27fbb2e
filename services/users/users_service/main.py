"""Users API application factory."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from platform_common.app import OutboxConfig, create_service_app
from platform_common.messaging import EntityKind
from users_service import erasure
from users_service.api import gateway_router, internal_router, router
from users_service.models import outbox
from users_service.settings import UsersSettings, get_settings


def _entities(settings: Any) -> dict[str, EntityKind]:
    assert isinstance(settings, UsersSettings)
    return {settings.servicebus_audit_queue: "queue", settings.servicebus_events_topic: "topic"}


def create_app() -> FastAPI:
    return create_service_app(
        service="users-api",
        title="Users API",
        description=(
            "Accounts and roles. Callers are identified by the X-Caller-Id / X-Caller-Roles "
            "headers that API Management sets after authenticating the request."
        ),
        get_settings=get_settings,
        routers=[router, erasure.router, internal_router, erasure.internal_router, gateway_router],
        outbox=OutboxConfig(table=outbox, entities=_entities),
    )
