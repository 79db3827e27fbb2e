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
    lookup,
    unknown,
    violation,
)

WORKSPACE = "azure-native:operationalinsights:Workspace"
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


RULES = (
    ResourceRule(
        name="loganalytics-retention",
        description="Log Analytics workspaces retain logs for the environment's minimum "
        "(dev 30, qa 30, staging 60, prod 365 days).",
        resource_types=(WORKSPACE,),
        control="MCSB LT-6",
        check=retention,
    ),
)
