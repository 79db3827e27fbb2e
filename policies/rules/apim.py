"""API Management: managed identity, no legacy TLS/SSL on classic tiers, HTTPS-only APIs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core import (
    UNKNOWN,
    Finding,
    ResourceRule,
    RuleContext,
    expect_identity,
    lookup,
    unknown,
    violation,
)

SERVICE = "azure-native:apimanagement:ApiManagementService"
API = "azure-native:apimanagement:Api"

# Classic tiers take these custom properties; v2 tiers and Consumption do not offer the
# legacy protocols at all.
# https://learn.microsoft.com/azure/api-management/api-management-howto-manage-protocols-ciphers
CLASSIC_TIERS = frozenset({"developer", "basic", "standard", "premium"})
_PREFIX = "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols."
LEGACY_PROTOCOL_KEYS = (f"{_PREFIX}Tls10", f"{_PREFIX}Tls11", f"{_PREFIX}Ssl30")
ALLOWED_API_PROTOCOLS = frozenset({"https", "wss"})


def managed_identity(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    return expect_identity(props, "the gateway reads Key Vault named values as itself")


def legacy_protocols_disabled(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Classic tiers: TLS 1.0, TLS 1.1 and SSL 3.0 switched off explicitly on the gateway."""
    sku = lookup(props, "sku.name")
    if sku is UNKNOWN:
        return [unknown("sku.name")]
    if not isinstance(sku, str) or sku.lower() not in CLASSIC_TIERS:
        return []
    custom = lookup(props, "customProperties")
    if custom is UNKNOWN:
        return [unknown("customProperties")]
    findings: list[Finding] = []
    for key in LEGACY_PROTOCOL_KEYS:
        value = custom.get(key) if isinstance(custom, Mapping) else None
        if value is UNKNOWN:
            findings.append(unknown(f"customProperties.{key}"))
        elif not (isinstance(value, str) and value.lower() == "false"):
            shown = "is not set" if value is None else f"= {value!r}"
            findings.append(
                violation(f'customProperties["{key}"] {shown}; set it to "false" on {sku}')
            )
    return findings


def https_only_apis(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """APIs answer on HTTPS (or WSS) only, stated explicitly."""
    protocols = lookup(props, "protocols")
    if protocols is UNKNOWN:
        return [unknown("protocols")]
    if not isinstance(protocols, list) or not protocols:
        return [violation('protocols is not set; set it to ["https"]')]
    if UNKNOWN in protocols:
        return [unknown("protocols")]
    plain = [p for p in protocols if str(p).lower() not in ALLOWED_API_PROTOCOLS]
    if plain:
        return [violation(f"protocols include {plain}; allowed: https, wss")]
    return []


RULES = (
    ResourceRule(
        name="apim-managed-identity",
        description="API Management services have a managed identity.",
        resource_types=(SERVICE,),
        control="MCSB IM-3",
        check=managed_identity,
    ),
    ResourceRule(
        name="apim-legacy-protocols-disabled",
        description="Classic-tier API Management disables TLS 1.0, TLS 1.1 and SSL 3.0.",
        resource_types=(SERVICE,),
        control="CKV_AZURE_173",
        check=legacy_protocols_disabled,
    ),
    ResourceRule(
        name="apim-api-https-only",
        description="API Management APIs accept HTTPS only.",
        resource_types=(API,),
        control="MCSB DP-3",
        check=https_only_apis,
    ),
)
