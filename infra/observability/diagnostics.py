"""Diagnostic settings: every layer sends its resources' logs and metrics to the workspace."""

from __future__ import annotations

from typing import Literal

import pulumi
from pulumi_azure_native import monitor

# Diagnostic setting names are unique per target resource, so one fixed name serves all.
DIAGNOSTIC_SETTING_NAME = "send-to-log-analytics"


def add_diagnostic_setting(
    name: str,
    *,
    target_resource_id: pulumi.Input[str],
    workspace_id: pulumi.Input[str],
    parent: pulumi.Resource,
    logs: bool = True,
    metrics: bool = True,
    log_analytics_destination_type: Literal["Dedicated"] | None = None,
    metric_category: str = "AllMetrics",
) -> monitor.DiagnosticSetting:
    """Send all of a resource's logs and metrics to Log Analytics.

    `allLogs` follows the resource's categories as Azure adds them, so no list goes stale.
    Pass `log_analytics_destination_type="Dedicated"` only for resources whose logs have
    resource-specific tables (API Management -> ApiManagementGatewayLogs, Service Bus,
    Container Apps environments): the gateway alerts and workbook query those tables.
    Resources without them reject "Dedicated" or fall back to AzureDiagnostics.
    Storage accounts and their services reject `AllMetrics`: pass `metric_category="Transaction"`.
    https://learn.microsoft.com/azure/azure-monitor/essentials/resource-logs#send-to-log-analytics-workspace
    """
    if not (logs or metrics):
        raise ValueError(f"diagnostic setting {name!r} must send logs, metrics or both")
    return monitor.DiagnosticSetting(
        name,
        name=DIAGNOSTIC_SETTING_NAME,
        resource_uri=target_resource_id,
        workspace_id=workspace_id,
        log_analytics_destination_type=log_analytics_destination_type,
        logs=[monitor.DiagnosticsLogSettingsArgs(category_group="allLogs", enabled=True)]
        if logs
        else None,
        metrics=[monitor.DiagnosticsMetricSettingsArgs(category=metric_category, enabled=True)]
        if metrics
        else None,
        opts=pulumi.ResourceOptions(parent=parent),
    )
