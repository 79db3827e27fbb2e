"""Log Analytics: keep logs at least as long as the environment requires."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core import (
    UNKNOWN,
    Finding,
    ResourceRule,
    RuleContext,
    as_number,
    expect,
    expect_present,
    lookup,
    unknown,
    violation,
)

WORKSPACE = "azure-native:operationalinsights:Workspace"
APP_INSIGHTS = "azure-native:applicationinsights:Component"
# PerGB2018 workspaces keep 30 days unless told otherwise.
AZURE_DEFAULT_RETENTION = 30


def retention(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """retentionInDays >= the environment minimum (dev 30, qa 30, staging 60, prod 365)."""
    minimum = ctx.profile.log_retention_days
    value = lookup(props, "retentionInDays")
    if value is UNKNOWN:
        return [unknown("retentionInDays")]
    days = as_number(value)
    shown = (
        f"= {days}" if days is not None else f"is not set (Azure keeps {AZURE_DEFAULT_RETENTION})"
    )
    if (days if days is not None else AZURE_DEFAULT_RETENTION) >= minimum:
        return []
    return [
        violation(
            f"retentionInDays {shown}; {ctx.environment} keeps logs at least {minimum} days "
            "for investigations"
        )
    ]


def appinsights_workspace(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Workspace-based: telemetry lands in Log Analytics with its retention and access control."""
    return expect_present(
        props, "workspaceResourceId", "classic components keep telemetry outside the workspace"
    )


def appinsights_local_auth(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Entra-authenticated ingestion only, so the connection string is no credential."""
    return expect(
        props,
        "disableLocalAuth",
        [True],
        "with local auth anyone holding the instrumentation key can write telemetry",
        default=False,
    )


RULES = (
    ResourceRule(
        name="loganalytics-retention",
        description="Log Analytics workspaces retain logs for the environment's minimum "
        "(dev 30, qa 30, staging 60, prod 365 days).",
        resource_types=(WORKSPACE,),
        control="MCSB LT-6",
        check=retention,
    ),
    ResourceRule(
        name="appinsights-workspace-based",
        description="Application Insights components store their data in a Log Analytics "
        "workspace.",
        resource_types=(APP_INSIGHTS,),
        control="Azure.AppInsights.Workspace / MCSB LT-3",
        check=appinsights_workspace,
    ),
    ResourceRule(
        name="appinsights-local-auth-disabled",
        description="Application Insights components accept Entra-authenticated telemetry only.",
        resource_types=(APP_INSIGHTS,),
        control="MCSB IM-1",
        check=appinsights_local_auth,
    ),
)
