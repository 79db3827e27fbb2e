"""Application Insights through OpenTelemetry when configured, JSON logs otherwise."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from platform_common.correlation import install_log_correlation
from platform_common.personal_data import MASKED_ATTR, install_personal_data_masking, mask_text
from platform_common.settings import ServiceSettings

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


def configure_telemetry(settings: ServiceSettings, service: str) -> None:
    """Idempotent: safe when several apps are created in one process (tests)."""
    install_log_correlation()
    root = logging.getLogger()
    root.setLevel(settings.log_level)
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
        )
    elif not any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        handler = logging.StreamHandler()
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(JsonFormatter(service))
        root.addHandler(handler)
    # After the handlers exist: Azure Monitor's exporter and the JSON handler both mask.
    install_personal_data_masking(root)
