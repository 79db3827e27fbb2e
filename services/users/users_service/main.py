"""Users API application factory."""

from __future__ import annotations

from fastapi import FastAPI

from platform_common.app import create_service_app
from users_service.api import gateway_router, internal_router, router
from users_service.settings import get_settings


def create_app() -> FastAPI:
    return create_service_app(
        service="users-api",
        title="Users API",
        description=(
            "Accounts and roles. Callers are identified by the X-Caller-Id / X-Caller-Roles "
            "headers that API Management sets after authenticating the request."
        ),
        get_settings=get_settings,
        routers=[router, internal_router, gateway_router],
    )
