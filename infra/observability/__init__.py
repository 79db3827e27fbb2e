"""Observability layer: Log Analytics, Application Insights, alerts, budget and workbook."""

from infra.observability.alerts import (
    AlertContext,
    container_app_alerts,
    function_alerts,
    gateway_alerts,
    log_alert,
    metric_alert,
    service_bus_alerts,
    sql_alerts,
)
from infra.observability.component import Observability, ObservabilityArgs
from infra.observability.diagnostics import DIAGNOSTIC_SETTING_NAME, add_diagnostic_setting

__all__ = [
    "DIAGNOSTIC_SETTING_NAME",
    "AlertContext",
    "Observability",
    "ObservabilityArgs",
    "add_diagnostic_setting",
    "container_app_alerts",
    "function_alerts",
    "gateway_alerts",
    "log_alert",
    "metric_alert",
    "service_bus_alerts",
    "sql_alerts",
]
