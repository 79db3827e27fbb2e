"""Products API application factory."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from platform_common.app import OutboxConfig, create_service_app
from platform_common.messaging import EntityKind
from products_service.api import internal_router as load_router
from products_service.api import router
from products_service.enrichment import internal_router as enrichment_router
from products_service.etl_runs import internal_router as etl_runs_internal_router
from products_service.etl_runs import router as etl_runs_router
from products_service.models import outbox
from products_service.retention import internal_router as retention_router
from products_service.settings import ProductsSettings, get_settings


def _entities(settings: Any) -> dict[str, EntityKind]:
    assert isinstance(settings, ProductsSettings)
    return {settings.servicebus_audit_queue: "queue"}


def create_app() -> FastAPI:
    return create_service_app(
        service="products-api",
        title="Products API",
        description="Financial instrument reference data (ISIN, CFI, LEI, MIC).",
        get_settings=get_settings,
        routers=[
            router,
            load_router,
            enrichment_router,
            etl_runs_router,
            etl_runs_internal_router,
            retention_router,
        ],
        outbox=OutboxConfig(table=outbox, entities=_entities),
    )
