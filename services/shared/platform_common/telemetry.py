"""Application Insights through OpenTelemetry when configured, JSON logs otherwise."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from platform_common.correlation import install_log_correlation
from platform_common.personal_data import MASKED_ATTR, install_personal_data_masking, mask_text
from platform_common.settings import ServiceSettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor

_HANDLER_NAME = "platform-json"
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {
    "message",
    "asctime",
    MASKED_ATTR,
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line so Container Apps / Log Analytics can parse fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "service": self._service,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS})
        if record.exc_info:
            # Exception texts quote values (an IntegrityError quotes the row's e-mail).
            entry["exc_info"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


# Span attributes that hold a request's URL (old and stable HTTP semantic conventions):
# `/v1/users/<id>` and `?user_id=` would reach Application Insights' request and dependency
# tables as they are.
URL_ATTRIBUTES = ("http.url", "http.target", "url.full", "url.path", "url.query")


def _masked_event(event: Any) -> Any:
    """The span event with its text attributes masked (the same event when nothing is)."""
    from opentelemetry.sdk.trace import Event

    attributes = dict(event.attributes or {})
    masked = {k: mask_text(v) if isinstance(v, str) else v for k, v in attributes.items()}
    if masked == attributes:
        return event
    return Event(event.name, masked, event.timestamp)


def personal_data_span_processor() -> SpanProcessor:
    """A span processor masking URLs, span names and exception events of every finished
    span before export.

    At `on_end`: the ASGI instrumentation sets `http.target` only as the request finishes,
    after any `on_start`. The ended span is read-only through the SDK's public API, so the
    masked values replace its attribute mapping, as Microsoft's own span-enriching example
    does (`span._attributes[...] = ...`); Azure Monitor's distro runs the processors passed
    to it before its exporter. https://learn.microsoft.com/azure/azure-monitor/app/opentelemetry-add-modify
    https://learn.microsoft.com/azure/azure-monitor/app/opentelemetry-filter
    """
    from opentelemetry.sdk.trace import SpanProcessor

    class PersonalDataSpanProcessor(SpanProcessor):
        def on_end(self, span: Any) -> None:
            attributes = dict(span.attributes or {})
            changed = False
            for key in URL_ATTRIBUTES:
                value = attributes.get(key)
                if isinstance(value, str) and (masked := mask_text(value)) != value:
                    attributes[key] = masked
                    changed = True
            if changed:
                span._attributes = attributes  # the SDK private field (see the docstring)
            if (name := mask_text(span.name)) != span.name:
                span._name = name
            # Exception events carry the error's message and stack trace (an IntegrityError
            # quotes the row's e-mail): masked like a log line's.
            events = tuple(span.events or ())
            masked_events = tuple(_masked_event(event) for event in events)
            if masked_events != events:
                span._events = masked_events  # the SDK private field, as above

    return PersonalDataSpanProcessor()


def configure_telemetry(settings: ServiceSettings, service: str) -> None:
    """Idempotent: safe when several apps are created in one process (tests)."""
    install_log_correlation()
    root = logging.getLogger()
    root.setLevel(settings.log_level)
    # At DEBUG SQLAlchemy logs every result row: tuples of personal values with no field
    # names to mask them by. Statements (INFO) stay, their parameters hidden (db.py).
    sql_log = logging.getLogger("sqlalchemy.engine")
    if sql_log.getEffectiveLevel() < logging.INFO:
        sql_log.setLevel(logging.INFO)
    if settings.applicationinsights_connection_string:
        from azure.identity import ManagedIdentityCredential
        from azure.monitor.opentelemetry import configure_azure_monitor
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource

        # The platform's Application Insights accepts Entra-authenticated telemetry only
        # (local auth off); the workload's identity holds Monitoring Metrics Publisher.
        # https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication
        credential = (
            ManagedIdentityCredential(client_id=settings.azure_client_id)
            if settings.azure_client_id
            else None
        )
        # Cloud role name in Application Insights comes from service.name.
        configure_azure_monitor(
            connection_string=settings.applicationinsights_connection_string,
            credential=credential,
            resource=Resource.create({SERVICE_NAME: service}),
            span_processors=[personal_data_span_processor()],
        )
    elif not any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        handler = logging.StreamHandler()
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(JsonFormatter(service))
        root.addHandler(handler)
    # After the handlers exist: Azure Monitor's exporter and the JSON handler both mask;
    # the record factory it installs also masks records bound for uvicorn's own handlers
    # (the access log quotes `/v1/users/<id>`), which exist before the app is created.
    install_personal_data_masking(root)
