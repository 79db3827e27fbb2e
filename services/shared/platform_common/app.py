"""App factory: problem handlers, engine/bus registries on app.state, health, outbox loop.

No `from __future__ import annotations` here: FastAPI must evaluate the
Annotated[..., Depends(get_settings)] hints that close over a local name.
"""

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Table
from starlette.concurrency import run_in_threadpool

from platform_common.db import EngineRegistry, database_is_ready
from platform_common.errors import install_problem_handlers
from platform_common.messaging import EntityKind, MessageBus, build_bus
from platform_common.outbox import OutboxDispatcher
from platform_common.settings import MessagingSettings, ServiceSettings
from platform_common.telemetry import configure_telemetry

logger = logging.getLogger(__name__)

S = TypeVar("S", bound=ServiceSettings)

# How long an after-commit kick waits before its outbox pass starts: a few milliseconds of
# publishing latency let one pass (and one commit) carry many requests' events under load.
OUTBOX_LINGER_SECONDS = 0.005


@dataclass(frozen=True)
class OutboxConfig:
    """What a publishing service tells the factory about its outbox."""

    table: Table
    entities: Callable[[Any], dict[str, EntityKind]]


class BusRegistry:
    """One bus per app, created on first use from the (possibly overridden) settings."""

    def __init__(self) -> None:
        self._bus: MessageBus | None = None

    def get(self, settings: MessagingSettings, entities: dict[str, EntityKind]) -> MessageBus:
        if self._bus is None:
            self._bus = build_bus(settings, entities)
        return self._bus

    def set(self, bus: MessageBus) -> None:
        """Tests and local runs may inject a bus (e.g. one that fails)."""
        self._bus = bus

    def close(self) -> None:
        if self._bus is not None:
            self._bus.close()
            self._bus = None


def resolve_settings(app: FastAPI, get_settings: Callable[[], S]) -> S:
    """Settings outside a request (lifespan), honouring dependency_overrides."""
    factory = app.dependency_overrides.get(get_settings, get_settings)
    settings = factory()
    assert isinstance(settings, ServiceSettings)
    return settings  # type: ignore[return-value]


def bus_for(request: Request, settings: MessagingSettings) -> MessageBus:
    config: OutboxConfig = request.app.state.outbox_config
    buses: BusRegistry = request.app.state.buses
    return buses.get(settings, config.entities(settings))


def dispatcher_for(app: FastAPI, settings: MessagingSettings) -> OutboxDispatcher:
    config: OutboxConfig = app.state.outbox_config
    engines: EngineRegistry = app.state.engines
    buses: BusRegistry = app.state.buses
    return OutboxDispatcher(
        engines.session_factory(settings),
        config.table,
        buses.get(settings, config.entities(settings)),
        settings.outbox_batch_size,
        app.state.outbox_lock,
        rerun=app.state.outbox_rerun,
        scheduled=app.state.outbox_scheduled,
        linger=OUTBOX_LINGER_SECONDS,
    )


def health_router(get_settings: Callable[[], ServiceSettings], checks_bus: bool) -> APIRouter:
    """Liveness says the process serves; readiness says DB (and bus) answer."""
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live", summary="Liveness probe")
    def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/ready",
        summary="Readiness probe",
        responses={503: {"description": "A dependency is unavailable"}},
    )
    def ready(
        request: Request, settings: Annotated[ServiceSettings, Depends(get_settings)]
    ) -> JSONResponse:
        engines: EngineRegistry = request.app.state.engines
        checks = {"database": database_is_ready(engines.engine(settings))}
        if checks_bus:
            assert isinstance(settings, MessagingSettings)
            checks["message_bus"] = bus_for(request, settings).is_ready()
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks},
            status_code=200 if ok else 503,
        )

    return router


def create_service_app(
    *,
    service: str,
    title: str,
    description: str,
    get_settings: Callable[[], ServiceSettings],
    routers: Sequence[APIRouter],
    outbox: OutboxConfig | None = None,
) -> FastAPI:
    """Assemble a service; resources hang off app.state, never module globals."""
    configure_telemetry(get_settings(), service)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task: asyncio.Task[None] | None = None
        if outbox is not None:
            settings = resolve_settings(app, get_settings)
            assert isinstance(settings, MessagingSettings)
            task = asyncio.create_task(_outbox_loop(app, settings))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            app.state.buses.close()
            app.state.engines.dispose()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.engines = EngineRegistry()
    app.state.buses = BusRegistry()
    app.state.outbox_config = outbox
    app.state.outbox_lock = threading.Lock()
    app.state.outbox_rerun = threading.Event()
    app.state.outbox_scheduled = threading.Event()
    install_problem_handlers(app)
    app.include_router(health_router(get_settings, checks_bus=outbox is not None))
    for router in routers:
        app.include_router(router)
    return app


async def _outbox_loop(app: FastAPI, settings: MessagingSettings) -> None:
    """Retries rows the post-commit dispatch could not publish."""
    while True:
        try:
            await run_in_threadpool(dispatcher_for(app, settings).dispatch_pending)
        except Exception:
            logger.exception("outbox dispatch pass failed")
        await asyncio.sleep(settings.outbox_poll_interval_seconds)
