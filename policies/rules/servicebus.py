"""Service Bus namespaces: Entra ID only, TLS 1.2, a tier with topics (and private link)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core import (
    UNKNOWN,
    Finding,
    ResourceRule,
    RuleContext,
    expect,
    tier,
    unknown,
    violation,
)

NAMESPACE = "azure-native:servicebus:Namespace"


def local_auth_disabled(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """No SAS keys: senders and receivers authenticate with managed identities."""
    return expect(
        props,
        "disableLocalAuth",
        [True],
        "SAS keys bypass Entra ID and cannot be scoped or audited",
    )


def minimum_tls(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    return expect(props, "minimumTlsVersion", ["1.2", "1.3"], "TLS 1.0 and 1.1 are retired")


def sku_tier(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Standard or Premium (Basic has no topics); Premium where private endpoints are required."""
    value = tier(props)
    if value is UNKNOWN:
        return [unknown("sku.tier")]
    allowed = ["Premium"] if ctx.profile.private_endpoints else ["Standard", "Premium"]
    if isinstance(value, str) and value.lower() in {a.lower() for a in allowed}:
        return []
    why = (
        f"{ctx.environment} needs private endpoints, which only Premium supports"
        if ctx.profile.private_endpoints
        else "Basic has no topics, duplicate detection or sessions"
    )
    shown = "not set" if not isinstance(value, str) else f'"{value}"'
    return [violation(f"sku tier {shown}; allowed: {' or '.join(allowed)}: {why}")]


def private_access(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    if not ctx.profile.private_endpoints:
        return []
    return expect(
        props,
        "publicNetworkAccess",
        ["Disabled"],
        f"{ctx.environment} reaches Service Bus through its private endpoint only",
    )


RULES = (
    ResourceRule(
        name="servicebus-local-auth-disabled",
        description="Service Bus namespaces disable local (SAS key) authentication.",
        resource_types=(NAMESPACE,),
        control="CKV_AZURE_203",
        check=local_auth_disabled,
    ),
    ResourceRule(
        name="servicebus-min-tls",
        description="Service Bus namespaces require TLS 1.2 or later.",
        resource_types=(NAMESPACE,),
        control="CKV_AZURE_205",
        check=minimum_tls,
    ),
    ResourceRule(
        name="servicebus-sku",
        description="Service Bus namespaces are Standard or Premium; Premium where private "
        "endpoints are required.",
        resource_types=(NAMESPACE,),
        control="MCSB NS-2",
        check=sku_tier,
    ),
    ResourceRule(
        name="servicebus-no-public-network",
        description="Service Bus namespaces disable public network access where private "
        "endpoints are required (staging, prod).",
        resource_types=(NAMESPACE,),
        control="CKV_AZURE_204",
        check=private_access,
    ),
)
