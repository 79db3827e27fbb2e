"""App factory: problem handlers, engine/bus registries on app.state, health, outbox loop.

No `from __future__ import annotations` here: FastAPI must evaluate the
Annotated[..., Depends(get_settings)] hints that close over a local name.
"""

import asyncio
import contextlib
import inspect
import logging
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Table
from starlette.concurrency import run_in_threadpool

from platform_common.audit import AuditMiddleware, AuditSink, audit_service_name
from platform_common.body_limit import BodySizeLimitMiddleware
from platform_common.correlation import CorrelationIdMiddleware
from platform_common.db import EngineRegistry, database_is_ready
from platform_common.errors import (
    BAD_HEADER_DESCRIPTION,
    MALFORMED_BODY_DESCRIPTION,
    PROBLEM_MEDIA_TYPE,
    TOO_LARGE_DESCRIPTION,
    install_problem_handlers,
)
from platform_common.identity import CALLER_ID_HEADER
from platform_common.messaging import EntityKind, MessageBus, build_bus
from platform_common.outbox import OutboxDispatcher
from platform_common.settings import MessagingSettings, ServiceSettings
from platform_common.telemetry import configure_telemetry

logger = logging.getLogger(__name__)

S = TypeVar("S", bound=ServiceSettings)

# A readiness probe is a FastAPI dependency returning the check to run, so it resolves its
# clients (and test overrides) like any route; the check itself runs guarded by `_passes`.
# Its name (a Python identifier) is the key reported in `checks` and `unavailable`.
ReadinessProbe = Callable[..., Callable[[], bool]]

# How long an after-commit kick waits before its outbox pass starts: a few milliseconds of
# publishing latency let one pass (and one commit) carry many requests' events under load.
OUTBOX_LINGER_SECONDS = 0.005

# OpenAPI extension on operations the API gateway must not publish (health probes, the
# authenticate endpoint): its importer removes them from the API it creates.
INTERNAL_OPERATION: dict[str, Any] = {"x-internal": True}


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


def _passes(name: str, check: Callable[[], bool]) -> bool:
    """A check that raises (driver missing, DNS, token) reports the dependency down, not 500."""
    try:
        return bool(check())
    except Exception:
        logger.exception("readiness check %s failed", name)
        return False


def health_router(
    get_settings: Callable[[], ServiceSettings],
    checks_bus: bool,
    probes: Mapping[str, ReadinessProbe],
) -> APIRouter:
    """Liveness says the process serves; readiness names each required dependency that is down."""
    # `x-internal`: probes answer the platform, not API clients; the gateway's importer drops
    # operations carrying it.
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live", summary="Liveness probe", openapi_extra=INTERNAL_OPERATION)
    def live() -> dict[str, str]:
        return {"status": "ok"}

    def ready(
        request: Request,
        settings: ServiceSettings,
        **resolved: Callable[[], bool],
    ) -> JSONResponse:
        engines: EngineRegistry = request.app.state.engines
        checks = {
            "database": _passes("database", lambda: database_is_ready(engines.engine(settings)))
        }
        if checks_bus:
            assert isinstance(settings, MessagingSettings)
            checks["message_bus"] = _passes(
                "message_bus", lambda: bus_for(request, settings).is_ready()
            )
        for name in probes:
            checks[name] = _passes(name, resolved[name])
        down = sorted(name for name, ok in checks.items() if not ok)
        body: dict[str, Any] = {"status": "unavailable" if down else "ok", "checks": checks}
        if down:
            body["unavailable"] = down
            body["detail"] = f"Required dependencies down: {', '.join(down)}."
        return JSONResponse(body, status_code=503 if down else 200)

    # One dependency parameter per probe, named after the dependency it checks.
    kind = inspect.Parameter.KEYWORD_ONLY
    ready.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", kind, annotation=Request),
            inspect.Parameter(
                "settings", kind, annotation=Annotated[ServiceSettings, Depends(get_settings)]
            ),
            *(
                inspect.Parameter(name, kind, annotation=Annotated[Any, Depends(probe)])
                for name, probe in probes.items()
            ),
        ],
        return_annotation=JSONResponse,
    )
    router.add_api_route(
        "/ready",
        ready,
        methods=["GET"],
        summary="Readiness probe",
        openapi_extra=INTERNAL_OPERATION,
        responses={
            503: {"description": "A required dependency is unavailable (see `unavailable`)"}
        },
    )
    return router


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def document_derived_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the statuses the shared machinery returns to the operations it applies to.

    413 and 400 (malformed body) to every operation with a request body; 400 (bad header)
    to every operation reading the caller headers.
    """
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            reads_caller = any(
                p.get("in") == "header" and p.get("name", "").lower() == CALLER_ID_HEADER.lower()
                for p in operation.get("parameters", [])
            )
            takes_body = "requestBody" in operation
            if takes_body:
                responses.setdefault("413", _problem(TOO_LARGE_DESCRIPTION))
            causes = [
                text
                for text, applies in (
                    (MALFORMED_BODY_DESCRIPTION, takes_body),
                    (BAD_HEADER_DESCRIPTION, reads_caller),
                )
                if applies
            ]
            if causes:
                responses.setdefault("400", _problem("; or ".join(causes)))
    return schema


def _install_openapi(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_derived_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_service_app(
    *,
    service: str,
    title: str,
    description: str,
    get_settings: Callable[[], ServiceSettings],
    routers: Sequence[APIRouter],
    outbox: OutboxConfig | None = None,
    readiness: Mapping[str, ReadinessProbe] | None = None,
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
    app.add_middleware(
        BodySizeLimitMiddleware,
        limit=lambda: resolve_settings(app, get_settings).max_request_body_bytes,
    )
    if outbox is not None:
        # Outside the body limit (a 413 is audited too), inside the correlation id (records
        # carry it).
        app.add_middleware(AuditMiddleware, sink=_audit_sink(service, get_settings))
    # Added last, so outermost: even a 413 or an unhandled error's 500 carries the id.
    app.add_middleware(CorrelationIdMiddleware)
    app.include_router(
        health_router(get_settings, checks_bus=outbox is not None, probes=readiness or {})
    )
    for router in routers:
        app.include_router(router)
    _install_openapi(app)
    return app


def _audit_sink(
    service: str, get_settings: Callable[[], ServiceSettings]
) -> Callable[[Any], AuditSink]:
    """Where the app's audit records go: its outbox, addressed to the audit queue."""
    name = audit_service_name(service)

    def sink(app: FastAPI) -> AuditSink:
        settings = resolve_settings(app, get_settings)
        assert isinstance(settings, MessagingSettings)
        config: OutboxConfig = app.state.outbox_config
        engines: EngineRegistry = app.state.engines
        return AuditSink(
            service=name,
            outbox=config.table,
            destination=settings.servicebus_audit_queue,
            session_factory=lambda: engines.session_factory(settings),
        )

    return sink


async def _outbox_loop(app: FastAPI, settings: MessagingSettings) -> None:
    """Retries rows the post-commit dispatch could not publish."""
    while True:
        try:
            await run_in_threadpool(dispatcher_for(app, settings).dispatch_pending)
        except Exception:
            logger.exception("outbox dispatch pass failed")
        await asyncio.sleep(settings.outbox_poll_interval_seconds)
