"""The observability layer: workspace, Application Insights, action group, budget, workbook."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.core.naming import ENVIRONMENT_CODES
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.observability.alerts import AlertContext, action_group_short_name, create_action_group
from infra.observability.app_insights import create_app_insights
from infra.observability.budget import budget_notifications, create_budget, first_of_month
from infra.observability.diagnostics import add_diagnostic_setting
from infra.observability.log_analytics import create_workspace
from infra.observability.workbook import create_workbook, workbook_name


@dataclass(frozen=True)
class ObservabilityArgs:
    """What the observability layer needs: where, how to name and tag, and the settings."""

    placement: Placement
    alert_emails: tuple[str, ...]
    budget_start_date: str | None = None
    """First day of a month, e.g. "2026-11-01T00:00:00Z"; None means the current month.
    Only read when the budget is created (see budget.first_of_month)."""


class Observability(pulumi.ComponentResource):
    """Where every layer sends logs, metrics and alerts, and what the platform may cost."""

    workspace_id: pulumi.Output[str]
    """ARM id of the Log Analytics workspace (diagnostic settings and log alerts target it)."""
    workspace_name: pulumi.Output[str]
    """Azure name of the workspace."""
    workspace_customer_id: pulumi.Output[str]
    """The workspace's GUID, which Container Apps environments send logs to."""
    app_insights_id: pulumi.Output[str]
    """ARM id of Application Insights (scope for Monitoring Metrics Publisher grants)."""
    app_insights_connection_string: pulumi.Output[str]
    """Where services send telemetry; secret, although local auth is off."""
    action_group_id: pulumi.Output[str]
    """ARM id of the action group every alert and budget notification goes to."""
    budget_name: pulumi.Output[str]
    """Azure name of the resource group's monthly budget."""
    workbook_id: pulumi.Output[str]
    """ARM id of the platform health workbook."""
    alert_context: AlertContext
    """What later layers pass to the alert factories in infra.observability.alerts."""

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:observability:Observability", name, None, opts)
        tags = layer_tags(args.placement.tags, "observability")
        monitoring = args.placement.env.monitoring

        workspace = create_workspace(
            f"{name}-workspace",
            workspace_name=args.placement.namer.name("log_analytics"),
            resource_group_name=args.placement.resource_group_name,
            location=args.placement.location,
            monitoring=monitoring,
            tags=tags,
            parent=self,
        )
        # The workspace's own Audit log records who queried what.
        # https://learn.microsoft.com/azure/azure-monitor/logs/query-audit
        add_diagnostic_setting(
            f"{name}-workspace-diag",
            target_resource_id=workspace.id,
            workspace_id=workspace.id,
            parent=self,
        )
        app_insights = create_app_insights(
            f"{name}-appi",
            component_name=args.placement.namer.name("app_insights"),
            resource_group_name=args.placement.resource_group_name,
            location=args.placement.location,
            workspace_id=workspace.id,
            log_retention_days=monitoring.log_retention_days,
            tags=tags,
            parent=self,
        )
        environment_code = ENVIRONMENT_CODES.get(
            args.placement.env.environment, args.placement.env.environment
        )
        action_group = create_action_group(
            f"{name}-action-group",
            action_group_name=args.placement.namer.name("action_group"),
            short_name=action_group_short_name(args.placement.namer.workload, environment_code),
            resource_group_name=args.placement.resource_group_name,
            alert_emails=args.alert_emails,
            tags=tags,
            parent=self,
        )
        budget = create_budget(
            f"{name}-budget",
            budget_name=args.placement.namer.name("budget"),
            scope=args.placement.resource_group_id,
            amount_usd=monitoring.monthly_budget_usd,
            start_date=args.budget_start_date or first_of_month(),
            notifications=budget_notifications(
                monitoring.budget_alert_thresholds_percent,
                alert_emails=args.alert_emails,
                action_group_id=action_group.id,
            ),
            parent=self,
        )
        workbook = create_workbook(
            f"{name}-workbook",
            workbook_resource_name=workbook_name(
                args.placement.namer.workload,
                args.placement.env.environment,
                args.placement.namer.region_code,
            ),
            resource_group_name=args.placement.resource_group_name,
            location=args.placement.location,
            workspace_id=workspace.id,
            environment=args.placement.env.environment,
            tags=tags,
            parent=self,
        )

        self.workspace_id = workspace.id
        self.workspace_name = workspace.name
        self.workspace_customer_id = workspace.customer_id
        self.app_insights_id = app_insights.id
        self.app_insights_connection_string = pulumi.Output.secret(app_insights.connection_string)
        self.action_group_id = action_group.id
        self.budget_name = budget.name
        self.workbook_id = workbook.id
        self.alert_context = AlertContext(
            resource_group_name=args.placement.resource_group_name,
            location=args.placement.location,
            workspace_id=workspace.id,
            action_group_id=action_group.id,
            thresholds=monitoring.alerts,
        )
        self.register_outputs(
            {
                "workspace_id": self.workspace_id,
                "workspace_name": self.workspace_name,
                "workspace_customer_id": self.workspace_customer_id,
                "app_insights_id": self.app_insights_id,
                "app_insights_connection_string": self.app_insights_connection_string,
                "action_group_id": self.action_group_id,
                "budget_name": self.budget_name,
                "workbook_id": self.workbook_id,
            }
        )
