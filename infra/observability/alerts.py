"""Azure Monitor alerts: the action group, alert builders and this platform's alert sets.

Each layer calls the factory for its own resources, so an alert lives (and is deleted)
with the resource it watches. Metric names are the REST names from Microsoft Learn's
"supported metrics" tables:
https://learn.microsoft.com/azure/azure-monitor/reference/metrics-index
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
from pulumi_azure_native import monitor

from config.settings import AlertThresholds

Operator = Literal["Equals", "GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual"]
Aggregation = Literal["Average", "Count", "Minimum", "Maximum", "Total"]

# Action group short names appear in SMS and e-mail subjects; Azure allows 12 characters.
SHORT_NAME_MAX = 12
# Below this many gateway requests in a window, one failure is not a failure rate.
MIN_GATEWAY_REQUESTS = 20


@dataclass(frozen=True)
class AlertContext:
    """What every alert needs from the observability layer; later layers receive this."""

    resource_group_name: pulumi.Input[str]
    location: str
    workspace_id: pulumi.Input[str]
    action_group_id: pulumi.Input[str]
    thresholds: AlertThresholds


def create_action_group(
    name: str,
    *,
    action_group_name: str,
    short_name: str,
    resource_group_name: pulumi.Input[str],
    alert_emails: Sequence[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> monitor.ActionGroup:
    """Who hears about alerts and budget overruns. Created even with no e-mails, so every
    alert and budget notification has a target that receivers can be added to later."""
    if not 1 <= len(short_name) <= SHORT_NAME_MAX:
        raise ValueError(f"action group short name {short_name!r} must be 1-12 characters")
    return monitor.ActionGroup(
        name,
        action_group_name=action_group_name,
        resource_group_name=resource_group_name,
        # Action groups are global resources.
        # https://learn.microsoft.com/azure/azure-monitor/alerts/action-groups
        location="global",
        group_short_name=short_name,
        enabled=True,
        email_receivers=[
            monitor.MicrosoftCommonEmailReceiverArgs(
                name=f"email-{index}",
                email_address=address,
                # One payload shape for every alert type, which mail rules and any later
                # webhook can parse. https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-common-schema
                use_common_alert_schema=True,
            )
            for index, address in enumerate(alert_emails, start=1)
        ],
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def action_group_short_name(workload: str, environment_code: str) -> str:
    """`<workload>-<env>` cut to Azure's 12 characters, e.g. `plat-prod`."""
    return f"{workload}-{environment_code}"[:SHORT_NAME_MAX].rstrip("-")


def metric_alert(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    scope_id: pulumi.Input[str],
    metric_namespace: str,
    metric_name: str,
    operator: Operator,
    threshold: float,
    aggregation: Aggregation,
    action_group_id: pulumi.Input[str],
    severity: int,
    description: str,
    parent: pulumi.Resource,
    tags: Mapping[str, str],
    window: str = "PT5M",
    frequency: str = "PT1M",
    dimensions: Mapping[str, Sequence[str]] | None = None,
) -> monitor.MetricAlert:
    """A static-threshold metric alert on one resource, named after its logical name.

    `dimensions` maps a dimension name to the values to watch ("*" for all); each value
    is evaluated as its own time series.
    https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-types#monitor-multiple-resources-with-one-alert-rule
    """
    criterion = monitor.MetricCriteriaArgs(
        criterion_type="StaticThresholdCriterion",
        name=metric_name,
        metric_namespace=metric_namespace,
        metric_name=metric_name,
        operator=operator,
        threshold=threshold,
        time_aggregation=aggregation,
        dimensions=[
            monitor.MetricDimensionArgs(name=key, operator="Include", values=list(values))
            for key, values in (dimensions or {}).items()
        ]
        or None,
    )
    return monitor.MetricAlert(
        name,
        rule_name=name,
        resource_group_name=resource_group_name,
        # Metric alert rules are global; they read the metric from the scope's region.
        location="global",
        description=description,
        severity=severity,
        enabled=True,
        scopes=[scope_id],
        evaluation_frequency=frequency,
        window_size=window,
        criteria=monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
            odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
            all_of=[criterion],
        ),
        # Resolve the alert when the metric recovers, so on-call is not left guessing.
        auto_mitigate=True,
        actions=[monitor.MetricAlertActionArgs(action_group_id=action_group_id)],
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def log_alert(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    location: str,
    workspace_id: pulumi.Input[str],
    query: pulumi.Input[str],
    operator: Operator,
    threshold: float,
    action_group_id: pulumi.Input[str],
    severity: int,
    description: str,
    parent: pulumi.Resource,
    tags: Mapping[str, str],
    time_aggregation: Aggregation = "Count",
    metric_measure_column: str | None = None,
    dimensions: Sequence[str] = (),
    window: str = "PT5M",
    frequency: str = "PT5M",
) -> monitor.ScheduledQueryRule:
    """A log search alert: a KQL query over the workspace, evaluated every `frequency`.

    With `time_aggregation="Count"` the rule counts result rows; any other aggregation
    needs `metric_measure_column`, a numeric column of the query's result. `dimensions`
    are result columns to split by, so each value (an app, an API) alerts on its own.
    https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-create-log-alert-rule
    """
    if (time_aggregation == "Count") == (metric_measure_column is not None):
        raise ValueError(
            f"log alert {name!r}: use metric_measure_column exactly when "
            f"time_aggregation is not Count (got {time_aggregation!r})"
        )
    return monitor.ScheduledQueryRule(
        name,
        rule_name=name,
        resource_group_name=resource_group_name,
        # A log alert rule lives in its workspace's region.
        location=location,
        kind="LogAlert",
        description=description,
        display_name=name,
        severity=severity,
        enabled=True,
        scopes=[workspace_id],
        evaluation_frequency=frequency,
        window_size=window,
        criteria=monitor.ScheduledQueryRuleCriteriaArgs(
            all_of=[
                monitor.ConditionArgs(
                    query=query,
                    time_aggregation=time_aggregation,
                    metric_measure_column=metric_measure_column,
                    # The log alert API spells operators like metric alerts do; the SDK's
                    # ConditionOperator enum ("gt", ...) belongs to another resource.
                    operator=operator,
                    threshold=threshold,
                    dimensions=[
                        monitor.DimensionArgs(name=column, operator="Include", values=["*"])
                        for column in dimensions
                    ]
                    or None,
                    failing_periods=monitor.ConditionFailingPeriodsArgs(
                        number_of_evaluation_periods=1, min_failing_periods_to_alert=1
                    ),
                )
            ]
        ),
        auto_mitigate=True,
        actions=monitor.ActionsArgs(action_groups=[action_group_id]),
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def gateway_alerts(
    name: str,
    *,
    context: AlertContext,
    apim_id: pulumi.Input[str],
    parent: pulumi.Resource,
    tags: Mapping[str, str],
) -> list[pulumi.CustomResource]:
    """API Management: share of 5xx responses and gateway latency.

    The 5xx threshold is a percentage, which a metric alert on `Requests` (a count) cannot
    express, so it is a log alert over ApiManagementGatewayLogs; the gateway's diagnostic
    setting must use `log_analytics_destination_type="Dedicated"`. Latency is the platform
    metric `Duration` (overall gateway request time, ms).
    https://learn.microsoft.com/azure/api-management/monitor-api-management-reference
    """
    t = context.thresholds
    failed_percent_query = pulumi.Output.concat(
        "ApiManagementGatewayLogs\n| where _ResourceId =~ '",
        apim_id,
        "'\n| summarize Total = count(), Failed = countif(ResponseCode >= 500)"
        " by bin(TimeGenerated, 5m)\n",
        f"| where Total >= {MIN_GATEWAY_REQUESTS}\n",
        "| extend FailedPercent = 100.0 * Failed / Total",
    )
    return [
        log_alert(
            f"{name}-5xx-percent",
            resource_group_name=context.resource_group_name,
            location=context.location,
            workspace_id=context.workspace_id,
            query=failed_percent_query,
            time_aggregation="Maximum",
            metric_measure_column="FailedPercent",
            operator="GreaterThan",
            threshold=t.gateway_5xx_percent,
            action_group_id=context.action_group_id,
            severity=t.severity,
            description=f"More than {t.gateway_5xx_percent}% of gateway requests failed (5xx).",
            parent=parent,
            tags=tags,
        ),
        metric_alert(
            f"{name}-latency",
            resource_group_name=context.resource_group_name,
            scope_id=apim_id,
            metric_namespace="Microsoft.ApiManagement/service",
            metric_name="Duration",
            operator="GreaterThan",
            threshold=t.gateway_latency_ms,
            aggregation="Average",
            action_group_id=context.action_group_id,
            severity=t.severity,
            description=f"Average gateway request duration above {t.gateway_latency_ms} ms.",
            parent=parent,
            tags=tags,
        ),
    ]


def service_bus_alerts(
    name: str,
    *,
    context: AlertContext,
    namespace_id: pulumi.Input[str],
    entities: Sequence[str],
    parent: pulumi.Resource,
    tags: Mapping[str, str],
) -> list[monitor.MetricAlert]:
    """Service Bus: dead-lettered messages and active backlog, per queue or topic.

    One rule per metric with an `EntityName` dimension watches every listed entity as its
    own time series (and names the entity in the alert), rather than one rule per entity.
    Topic subscriptions report under their topic's EntityName.
    https://learn.microsoft.com/azure/service-bus-messaging/monitor-service-bus-reference
    """
    if not entities:
        raise ValueError(f"{name}: service_bus_alerts needs at least one queue or topic name")
    t = context.thresholds
    by_entity = {"EntityName": list(entities)}
    return [
        metric_alert(
            f"{name}-dead-letters",
            resource_group_name=context.resource_group_name,
            scope_id=namespace_id,
            metric_namespace="Microsoft.ServiceBus/namespaces",
            metric_name="DeadletteredMessages",
            operator="GreaterThanOrEqual",
            threshold=t.dead_letter_messages,
            aggregation="Maximum",
            dimensions=by_entity,
            action_group_id=context.action_group_id,
            severity=t.severity,
            description=f"{t.dead_letter_messages}+ messages dead-lettered on an entity.",
            parent=parent,
            tags=tags,
        ),
        metric_alert(
            f"{name}-backlog",
            resource_group_name=context.resource_group_name,
            scope_id=namespace_id,
            metric_namespace="Microsoft.ServiceBus/namespaces",
            metric_name="ActiveMessages",
            operator="GreaterThan",
            threshold=t.active_messages_backlog,
            aggregation="Average",
            dimensions=by_entity,
            window="PT15M",
            frequency="PT5M",
            action_group_id=context.action_group_id,
            severity=t.severity,
            description=f"More than {t.active_messages_backlog} active messages waiting.",
            parent=parent,
            tags=tags,
        ),
    ]


def function_alerts(
    name: str,
    *,
    context: AlertContext,
    function_app_name: pulumi.Input[str],
    parent: pulumi.Resource,
    tags: Mapping[str, str],
) -> list[monitor.ScheduledQueryRule]:
    """Functions: failed executions, from the invocations the host writes to App Insights.

    A Flex Consumption app emits only execution counts, units and instance metrics
    (OnDemandFunctionExecutionCount, AlwaysReadyFunctionExecutionCount, ...), no failure
    metric; `Http5xx` would miss the Service Bus and timer triggers these workers run on.
    Every invocation is an AppRequests row with Success and the app's name as AppRoleName.
    https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#monitoring
    """
    t = context.thresholds
    query = pulumi.Output.concat(
        "AppRequests\n| where AppRoleName =~ '",
        function_app_name,
        "' and Success == false\n",
        "| summarize Failures = sum(ItemCount) by bin(TimeGenerated, 5m), OperationName",
    )
    return [
        log_alert(
            f"{name}-failures",
            resource_group_name=context.resource_group_name,
            location=context.location,
            workspace_id=context.workspace_id,
            query=query,
            time_aggregation="Total",
            metric_measure_column="Failures",
            dimensions=("OperationName",),
            operator="GreaterThanOrEqual",
            threshold=t.function_failures,
            action_group_id=context.action_group_id,
            severity=t.severity,
            description=f"{t.function_failures}+ failed executions of one function in 5 minutes.",
            parent=parent,
            tags=tags,
        )
    ]


def container_app_alerts(
    name: str,
    *,
    context: AlertContext,
    container_app_id: pulumi.Input[str],
    parent: pulumi.Resource,
    tags: Mapping[str, str],
) -> list[monitor.MetricAlert]:
    """Container Apps: replica restarts (crash loops, failed probes, OOM kills).

    `RestartCount` is a platform metric, so the alert works whichever way the environment
    ships its logs (Log Analytics `_CL` tables or diagnostic settings).
    https://learn.microsoft.com/azure/container-apps/metrics
    """
    t = context.thresholds
    return [
        metric_alert(
            f"{name}-restarts",
            resource_group_name=context.resource_group_name,
            scope_id=container_app_id,
            metric_namespace="Microsoft.App/containerApps",
            metric_name="RestartCount",
            operator="GreaterThanOrEqual",
            threshold=t.container_restarts,
            aggregation="Total",
            window="PT15M",
            frequency="PT5M",
            action_group_id=context.action_group_id,
            severity=t.severity,
            description=f"{t.container_restarts}+ container restarts in 15 minutes.",
            parent=parent,
            tags=tags,
        )
    ]


def sql_alerts(
    name: str,
    *,
    context: AlertContext,
    database_id: pulumi.Input[str],
    parent: pulumi.Resource,
    tags: Mapping[str, str],
) -> list[monitor.MetricAlert]:
    """Azure SQL database: sustained CPU and data space used.

    https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/microsoft-sql-servers-databases-metrics
    """
    t = context.thresholds
    return [
        metric_alert(
            f"{name}-cpu",
            resource_group_name=context.resource_group_name,
            scope_id=database_id,
            metric_namespace="Microsoft.Sql/servers/databases",
            metric_name="cpu_percent",
            operator="GreaterThan",
            threshold=t.sql_cpu_percent,
            aggregation="Average",
            window="PT15M",
            frequency="PT5M",
            action_group_id=context.action_group_id,
            severity=t.severity,
            description=f"Database CPU above {t.sql_cpu_percent}% for 15 minutes.",
            parent=parent,
            tags=tags,
        ),
        metric_alert(
            f"{name}-storage",
            resource_group_name=context.resource_group_name,
            scope_id=database_id,
            metric_namespace="Microsoft.Sql/servers/databases",
            metric_name="storage_percent",
            operator="GreaterThan",
            threshold=t.sql_storage_percent,
            aggregation="Maximum",
            window="PT1H",
            frequency="PT15M",
            action_group_id=context.action_group_id,
            severity=t.severity,
            description=f"Database data space used above {t.sql_storage_percent}%.",
            parent=parent,
            tags=tags,
        ),
    ]
