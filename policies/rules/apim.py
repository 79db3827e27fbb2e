"""API Management: managed identity, no legacy TLS/SSL on classic tiers, HTTPS-only APIs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core import (
    UNKNOWN,
    Finding,
    ResourceRule,
    RuleContext,
    expect,
    expect_identity,
    lookup,
    unknown,
    violation,
)

SERVICE = "azure-native:apimanagement:ApiManagementService"
API = "azure-native:apimanagement:Api"
BACKEND = "azure-native:apimanagement:Backend"
NAMED_VALUE = "azure-native:apimanagement:NamedValue"
SUBSCRIPTION = "azure-native:apimanagement:Subscription"
PRODUCT = "azure-native:apimanagement:Product"
POLICIES = (
    "azure-native:apimanagement:Policy",
    "azure-native:apimanagement:ApiPolicy",
    "azure-native:apimanagement:ApiOperationPolicy",
    "azure-native:apimanagement:ProductPolicy",
)

# Classic tiers take these custom properties; v2 tiers and Consumption do not offer the
# legacy protocols at all.
# https://learn.microsoft.com/azure/api-management/api-management-howto-manage-protocols-ciphers
CLASSIC_TIERS = frozenset({"developer", "basic", "standard", "premium"})
_SECURITY = "Microsoft.WindowsAzure.ApiManagement.Gateway.Security."
# Client-side and backend-side legacy protocols, and the one weak cipher still on by default.
LEGACY_PROTOCOL_KEYS: tuple[str, ...] = (
    *(
        f"{_SECURITY}{side}Protocols.{version}"
        for side in ("", "Backend.")
        for version in ("Tls10", "Tls11", "Ssl30")
    ),
    f"{_SECURITY}Ciphers.TripleDes168",
)
ALLOWED_API_PROTOCOLS = frozenset({"https", "wss"})


def managed_identity(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    return expect_identity(props, "the gateway reads Key Vault named values as itself")


def legacy_protocols_disabled(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Classic tiers: TLS 1.0, 1.1, SSL 3.0 (client and backend) and 3DES switched off."""
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


def backend_https(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Backends are called over HTTPS with the certificate chain and name validated."""
    findings: list[Finding] = []
    url = lookup(props, "url")
    if url is UNKNOWN:
        findings.append(unknown("url"))
    elif not (isinstance(url, str) and url.lower().startswith("https://")):
        findings.append(violation(f"url = {url!r}; call backends over https://"))
    for key in ("tls.validateCertificateChain", "tls.validateCertificateName"):
        value = lookup(props, key)
        if value is UNKNOWN:
            findings.append(unknown(key))
        elif value is False:
            findings.append(violation(f"{key} = false; backends' certificates are validated"))
    return findings


def named_value_in_key_vault(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Secret named values come from Key Vault, never a plain-text value in the config."""
    secret, vault = lookup(props, "secret"), lookup(props, "keyVault.secretIdentifier")
    if UNKNOWN in (secret, vault):
        return [unknown("secret / keyVault.secretIdentifier")]
    if isinstance(vault, str) and vault:
        return []
    if secret is not True:
        return [
            violation(
                "the named value is neither a Key Vault reference nor marked secret; store "
                "credentials in Key Vault and set keyVault.secretIdentifier"
            )
        ]
    return [violation("a secret named value holds its value in plain text; use keyVault")]


def api_requires_subscription(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    return expect(
        props,
        "subscriptionRequired",
        [True],
        "every caller presents a subscription key",
        default=True,
    )


def subscription_scope(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """A subscription is for one product or API, never for all APIs of the service."""
    scope = lookup(props, "scope")
    if scope is UNKNOWN:
        return [unknown("scope")]
    if not isinstance(scope, str) or not scope:
        return [violation("scope is not set; scope the subscription to a product or an API")]
    if scope.lower().rstrip("/").endswith("/apis"):
        return [violation(f"scope = {scope!r} grants every API; scope it to one product or API")]
    return []


def product_closed(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Products require a subscription, approved by an administrator."""
    findings = expect(
        props,
        "subscriptionRequired",
        [True],
        "an open product lets anyone call its APIs",
        default=True,
    )
    if not findings:
        findings += expect(
            props,
            "approvalRequired",
            [True],
            "subscriptions are approved before they work",
            default=False,
        )
    return findings


def cors_not_wildcard(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """No `*` in a CORS policy's allowed origins, methods or headers (Azure.APIM.CORSPolicy)."""
    value = lookup(props, "value")
    if value is UNKNOWN:
        return [unknown("value")]
    if not isinstance(value, str) or "<cors" not in value.lower():
        return []
    compact = "".join(value.split()).lower()
    wild = [tag for tag in ("origin", "method", "header") if f"<{tag}>*</{tag}>" in compact]
    if wild:
        return [violation(f"the CORS policy allows any {', '.join(wild)}; list them")]
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
    ResourceRule(
        name="apim-backend-https",
        description="API Management backends use HTTPS and validate the certificate chain "
        "and name.",
        resource_types=(BACKEND,),
        control="CKV_AZURE_215 / Azure.APIM.HTTPBackend",
        check=backend_https,
    ),
    ResourceRule(
        name="apim-named-values-key-vault",
        description="API Management named values that hold secrets come from Key Vault.",
        resource_types=(NAMED_VALUE,),
        control="Azure.APIM.EncryptValues / MCSB IM-8",
        check=named_value_in_key_vault,
    ),
    ResourceRule(
        name="apim-api-subscription-required",
        description="API Management APIs require a subscription key.",
        resource_types=(API,),
        control="MCSB IM-1",
        check=api_requires_subscription,
    ),
    ResourceRule(
        name="apim-subscription-scoped",
        description="API Management subscriptions are scoped to one product or API, never all "
        "APIs.",
        resource_types=(SUBSCRIPTION,),
        control="MCSB PA-7",
        check=subscription_scope,
    ),
    ResourceRule(
        name="apim-product-closed",
        description="API Management products require an approved subscription.",
        resource_types=(PRODUCT,),
        control="Azure.APIM.ProductSubscription / Azure.APIM.ProductApproval",
        check=product_closed,
    ),
    ResourceRule(
        name="apim-cors-no-wildcard",
        description="API Management CORS policies list origins, methods and headers (no *).",
        resource_types=POLICIES,
        control="Azure.APIM.CORSPolicy",
        check=cors_not_wildcard,
    ),
)
