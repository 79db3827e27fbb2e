"""The Log Analytics workspace every resource's logs, metrics and traces land in."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import operationalinsights

from config.settings import MonitoringSettings

# Azure's value for "no daily cap" on a workspace.
UNLIMITED_DAILY_QUOTA_GB = -1.0


def daily_quota_gb(monitoring: MonitoringSettings) -> float:
    """The workspace's daily ingestion cap; settings say None for unlimited, Azure says -1."""
    if monitoring.daily_quota_gb is None:
        return UNLIMITED_DAILY_QUOTA_GB
    return float(monitoring.daily_quota_gb)


def create_workspace(
    name: str,
    *,
    workspace_name: str,
    resource_group_name: pulumi.Input[str],
    location: str,
    monitoring: MonitoringSettings,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> operationalinsights.Workspace:
    """A pay-as-you-go workspace with the environment's retention and daily cap."""
    return operationalinsights.Workspace(
        name,
        workspace_name=workspace_name,
        resource_group_name=resource_group_name,
        location=location,
        # PerGB2018 is the only SKU new workspaces can choose besides commitment tiers,
        # which start at 100 GB/day: far above these environments' volumes.
        # https://learn.microsoft.com/azure/azure-monitor/logs/cost-logs#pricing-model
        sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
        retention_in_days=monitoring.log_retention_days,
        # When the cap is reached ingestion stops until the next UTC day, so dev and qa
        # cannot run up a bill; prod is uncapped so it never loses incident data.
        # https://learn.microsoft.com/azure/azure-monitor/logs/daily-cap
        workspace_capping=operationalinsights.WorkspaceCappingArgs(
            daily_quota_gb=daily_quota_gb(monitoring)
        ),
        features=operationalinsights.WorkspaceFeaturesArgs(
            # Resource-context access: a team reading its own resource's logs needs only
            # read access on that resource, not on the whole workspace.
            # https://learn.microsoft.com/azure/azure-monitor/logs/manage-access#access-control-mode
            enable_log_access_using_only_resource_permissions=True,
        ),
        # Public ingestion and query stay on: closing them needs an Azure Monitor Private
        # Link Scope (AMPLS) with its own private endpoint and DNS zones, which this
        # platform does not deploy. Access is still Entra-authenticated and RBAC-checked.
        # https://learn.microsoft.com/azure/azure-monitor/logs/private-link-security
        public_network_access_for_ingestion="Enabled",
        public_network_access_for_query="Enabled",
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
