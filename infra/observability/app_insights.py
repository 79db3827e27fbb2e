"""Workspace-based Application Insights: the services' traces, requests and dependencies."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import applicationinsights

# Retention values the Application Insights API accepts.
# https://learn.microsoft.com/azure/azure-monitor/app/data-retention-privacy#how-long-is-the-data-kept
ALLOWED_RETENTION_DAYS = (30, 60, 90, 120, 180, 270, 365, 550, 730)


def component_retention_days(log_retention_days: int) -> int:
    """The shortest retention the API accepts that keeps data at least as long as the workspace.

    For a workspace-based component the workspace's table retention governs the data; this
    value only has to be one the API accepts and not contradict the workspace.
    """
    return next(d for d in ALLOWED_RETENTION_DAYS if d >= log_retention_days)


def create_app_insights(
    name: str,
    *,
    component_name: str,
    resource_group_name: pulumi.Input[str],
    location: str,
    workspace_id: pulumi.Input[str],
    log_retention_days: int,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> applicationinsights.Component:
    """An Application Insights component that stores its telemetry in the shared workspace."""
    return applicationinsights.Component(
        name,
        resource_name_=component_name,
        resource_group_name=resource_group_name,
        location=location,
        kind="web",
        application_type="web",
        # Classic (non-workspace) Application Insights was retired on 29 Feb 2024.
        # https://learn.microsoft.com/azure/azure-monitor/app/convert-classic-resource
        ingestion_mode="LogAnalytics",
        workspace_resource_id=workspace_id,
        retention_in_days=component_retention_days(log_retention_days),
        # Only Entra-authenticated telemetry is accepted: the instrumentation key in the
        # connection string stops being a credential. The services call
        # configure_azure_monitor(credential=ManagedIdentityCredential(client_id=...)) and
        # the Functions host reads APPLICATIONINSIGHTS_AUTHENTICATION_STRING
        # ("ClientId=<id>;Authorization=AAD"); each identity needs the Monitoring Metrics
        # Publisher role on this component.
        # https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication
        disable_local_auth=True,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
