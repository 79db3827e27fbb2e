"""The platform health workbook: gateway, services, queues and database on one page.

Workbook content is the portal's JSON format ("Notebook/1.0"), built from Python data so
the KQL is reviewed like code. https://learn.microsoft.com/azure/azure-monitor/visualize/workbooks-automate
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi_azure_native import applicationinsights

# Fixed forever: the workbook's resource name is derived from it, and a shared workbook's
# name must be a GUID. Changing it would replace every stack's workbook.
WORKBOOK_NAMESPACE = uuid.UUID("30488bb3-2006-4424-af3c-b2c2106e6b75")
WORKSPACE_RESOURCE_TYPE = "microsoft.operationalinsights/workspaces"
DAY_MS = 24 * 60 * 60 * 1000

SECTIONS = ("gateway", "services", "queues", "database")

_GATEWAY_TRAFFIC = """ApiManagementGatewayLogs
| summarize Requests = count(), Failed5xx = countif(ResponseCode >= 500) by bin(TimeGenerated, 5m)
| render timechart"""

_GATEWAY_LATENCY = """ApiManagementGatewayLogs
| summarize P50 = percentile(TotalTime, 50), P95 = percentile(TotalTime, 95),
    P99 = percentile(TotalTime, 99) by bin(TimeGenerated, 5m)
| render timechart"""

_GATEWAY_FAILURES = """ApiManagementGatewayLogs
| where ResponseCode >= 500
| summarize Failures = count(), LastSeen = max(TimeGenerated) by ApiId, OperationId, ResponseCode
| top 20 by Failures"""

_SERVICE_REQUESTS = """AppRequests
| summarize Requests = sum(ItemCount), Failed = sumif(ItemCount, Success == false),
    P95Ms = percentile(DurationMs, 95) by Service = AppRoleName
| extend FailedPercent = round(100.0 * Failed / Requests, 2)
| order by FailedPercent desc"""

_SERVICE_FAILURE_RATE = """AppRequests
| summarize FailedPercent = 100.0 * sumif(ItemCount, Success == false) / sum(ItemCount)
    by bin(TimeGenerated, 5m), AppRoleName
| render timechart"""

# Container Apps writes system logs to ContainerAppSystemLogs_CL when the environment sends
# logs straight to Log Analytics, or to ContainerAppSystemLogs through diagnostic settings;
# isfuzzy skips whichever table this workspace does not have.
_SERVICE_RESTARTS = """union isfuzzy=true
    (ContainerAppSystemLogs_CL
    | project TimeGenerated, App = ContainerAppName_s, Reason = Reason_s),
    (ContainerAppSystemLogs
    | project TimeGenerated, App = ContainerAppName, Reason)
| where Reason in~ ("ContainerTerminated", "ContainerRestarted", "ProbeFailed", "BackOff",
    "ContainerBackOff", "ContainerCrashing", "OOMKilled")
| summarize Events = count() by bin(TimeGenerated, 15m), App, Reason
| render timechart"""

_SERVICE_CONSOLE_ERRORS = """union isfuzzy=true
    (ContainerAppConsoleLogs_CL | project TimeGenerated, App = ContainerAppName_s, Log = Log_s),
    (ContainerAppConsoleLogs | project TimeGenerated, App = ContainerAppName, Log)
| where Log has_any ("ERROR", "CRITICAL", "Traceback")
| summarize Errors = count() by bin(TimeGenerated, 15m), App
| render timechart"""

# AzureMetrics holds what diagnostic settings export: namespace totals without the
# EntityName dimension. Per-queue numbers are in the per-entity metric alerts.
_QUEUE_DEPTH = """AzureMetrics
| where ResourceProvider == "MICROSOFT.SERVICEBUS"
| where MetricName in ("ActiveMessages", "DeadletteredMessages")
| summarize Messages = max(Maximum) by bin(TimeGenerated, 5m), MetricName, Namespace = Resource
| render timechart"""

_QUEUE_THROUGHPUT = """AzureMetrics
| where ResourceProvider == "MICROSOFT.SERVICEBUS"
| where MetricName in ("IncomingMessages", "OutgoingMessages", "ServerErrors", "ThrottledRequests")
| summarize Count = sum(Total) by bin(TimeGenerated, 5m), MetricName
| render timechart"""

_DATABASE_CPU = """AzureMetrics
| where ResourceProvider == "MICROSOFT.SQL" and MetricName == "cpu_percent"
| summarize CpuPercent = avg(Average) by bin(TimeGenerated, 5m), Database = Resource
| render timechart"""

_DATABASE_STORAGE = """AzureMetrics
| where ResourceProvider == "MICROSOFT.SQL" and MetricName == "storage_percent"
| summarize StoragePercent = max(Maximum) by bin(TimeGenerated, 1h), Database = Resource
| render timechart"""


def workbook_name(workload: str, environment: str, region_code: str) -> str:
    """A GUID that is the same on every run of the same stack and differs between stacks."""
    return str(uuid.uuid5(WORKBOOK_NAMESPACE, f"{workload}/{environment}/{region_code}/health"))


def _query(name: str, title: str, query: str, visualization: str) -> dict[str, Any]:
    return {
        "type": 3,
        "name": name,
        "content": {
            "version": "KqlItem/1.0",
            "title": title,
            "query": query,
            "size": 0,
            "queryType": 0,
            "resourceType": WORKSPACE_RESOURCE_TYPE,
            "timeContextFromParameter": "TimeRange",
            "visualization": visualization,
        },
    }


def _group(name: str, title: str, note: str, *items: dict[str, Any]) -> dict[str, Any]:
    text = {"type": 1, "name": f"{name}-note", "content": {"json": note}}
    return {
        "type": 12,
        "name": name,
        "content": {
            "version": "NotebookGroup/1.0",
            "groupType": "editable",
            "title": title,
            "items": [text, *items],
        },
    }


def workbook_content(workspace_id: str, environment: str) -> dict[str, Any]:
    """The workbook definition: a time-range picker and one group per platform tier."""
    time_range = {
        "type": 9,
        "name": "parameters",
        "content": {
            "version": "KqlParameterItem/1.0",
            "style": "pills",
            "queryType": 0,
            "resourceType": WORKSPACE_RESOURCE_TYPE,
            "parameters": [
                {
                    "id": str(uuid.uuid5(WORKBOOK_NAMESPACE, "TimeRange")),
                    "version": "KqlParameterItem/1.0",
                    "name": "TimeRange",
                    "label": "Time range",
                    "type": 4,
                    "isRequired": True,
                    "value": {"durationMs": DAY_MS},
                    "typeSettings": {
                        "selectableValues": [
                            {"durationMs": ms}
                            for ms in (3_600_000, 4 * 3_600_000, DAY_MS, 7 * DAY_MS, 30 * DAY_MS)
                        ]
                    },
                }
            ],
        },
    }
    return {
        "version": "Notebook/1.0",
        "items": [
            {
                "type": 1,
                "name": "title",
                "content": {"json": f"# Platform health ({environment})"},
            },
            time_range,
            _group(
                "gateway",
                "Gateway (API Management)",
                "Requests, 5xx responses and latency from ApiManagementGatewayLogs.",
                _query("gateway-traffic", "Requests and 5xx", _GATEWAY_TRAFFIC, "timechart"),
                _query("gateway-latency", "Latency (ms)", _GATEWAY_LATENCY, "timechart"),
                _query("gateway-failures", "Top failing operations", _GATEWAY_FAILURES, "table"),
            ),
            _group(
                "services",
                "Services (Container Apps and Functions)",
                "Requests from Application Insights; restarts and errors from Container Apps logs.",
                _query("services-requests", "Requests by service", _SERVICE_REQUESTS, "table"),
                _query("services-failures", "Failed %", _SERVICE_FAILURE_RATE, "timechart"),
                _query("services-restarts", "Container restarts", _SERVICE_RESTARTS, "timechart"),
                _query("services-errors", "Console errors", _SERVICE_CONSOLE_ERRORS, "timechart"),
            ),
            _group(
                "queues",
                "Queues (Service Bus)",
                "Namespace totals from AzureMetrics.",
                _query("queues-depth", "Active and dead-lettered", _QUEUE_DEPTH, "timechart"),
                _query(
                    "queues-throughput", "Throughput and errors", _QUEUE_THROUGHPUT, "timechart"
                ),
            ),
            _group(
                "database",
                "Database (Azure SQL)",
                "CPU and data space used from AzureMetrics.",
                _query("database-cpu", "CPU %", _DATABASE_CPU, "timechart"),
                _query("database-storage", "Storage %", _DATABASE_STORAGE, "timechart"),
            ),
        ],
        "fallbackResourceIds": [workspace_id],
        "$schema": "https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json",
    }


def create_workbook(
    name: str,
    *,
    workbook_resource_name: str,
    resource_group_name: pulumi.Input[str],
    location: str,
    workspace_id: pulumi.Output[str],
    environment: str,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> applicationinsights.Workbook:
    """A shared workbook on the workspace, visible to anyone who can read the resource group."""
    return applicationinsights.Workbook(
        name,
        resource_name_=workbook_resource_name,
        resource_group_name=resource_group_name,
        location=location,
        kind="shared",
        category="workbook",
        display_name=f"Platform health ({environment})",
        source_id=workspace_id,
        serialized_data=workspace_id.apply(
            lambda ws: json.dumps(workbook_content(ws, environment), indent=2)
        ),
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
