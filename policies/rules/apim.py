"""API Management: managed identity, no legacy TLS/SSL on classic tiers, HTTPS-only APIs,
the network shape each tier allows, and what the gateway's policies and logs must hold."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from policies.core import (
    MISSING,
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
LOGGER = "azure-native:apimanagement:Logger"
DIAGNOSTICS = (
    "azure-native:apimanagement:Diagnostic",
    "azure-native:apimanagement:ApiDiagnostic",
)
API_POLICY = "azure-native:apimanagement:ApiPolicy"
PRODUCT_POLICY = "azure-native:apimanagement:ProductPolicy"
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
# Tiers and the VNet modes Azure accepts for them: classic Developer/Premium are injected
# (External or Internal, on stv2 with a Standard public IP); Standard v2 integrates outbound
# (External); Premium v2 does either; Consumption, Basic, Standard and Basic v2 take none.
# https://learn.microsoft.com/azure/api-management/virtual-network-concepts
INJECTED_TIERS = frozenset({"developer", "premium"})
VNET_MODES: Mapping[str, frozenset[str]] = {
    "developer": frozenset({"none", "external", "internal"}),
    "premium": frozenset({"none", "external", "internal"}),
    "standardv2": frozenset({"none", "external"}),
    "premiumv2": frozenset({"none", "external", "internal"}),
}
# Common contract: the gateway asks users-api who a caller is, and sets these headers itself.
AUTHENTICATE_PATH = "/internal/v1/authenticate"
CALLER_HEADERS = ("X-Caller-Id", "X-Caller-Roles")
# Headers that carry credentials and must never be written to logs.
CREDENTIAL_HEADERS = frozenset({"authorization", "ocp-apim-subscription-key"})


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


def vnet_shape(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """The VNet mode is one the tier has; an injected classic tier brings its public IP (stv2)."""
    sku, mode = lookup(props, "sku.name"), lookup(props, "virtualNetworkType")
    if UNKNOWN in (sku, mode):
        return [unknown("sku.name / virtualNetworkType")]
    tier_name = str(sku).lower()
    mode_name = "none" if mode is MISSING else str(mode).lower()
    allowed = VNET_MODES.get(tier_name, frozenset({"none"}))
    if mode_name not in allowed:
        return [
            violation(
                f"virtualNetworkType = {mode_name} on {sku}: the tier allows "
                + ", ".join(sorted(allowed))
            )
        ]
    if tier_name in INJECTED_TIERS and mode_name != "none":
        public_ip = lookup(props, "publicIpAddressId")
        if public_ip is UNKNOWN:
            return [unknown("publicIpAddressId")]
        if not (isinstance(public_ip, str) and public_ip):
            return [
                violation(
                    f"{sku} injected in a VNet without publicIpAddressId: the stv2 platform "
                    "takes a Standard public IPv4 with a DNS label"
                )
            ]
    return []


def _policy_document(props: Mapping[str, Any]) -> ET.Element | Finding | None:
    """The policy's XML, a finding when it cannot be read, None when there is none."""
    value = lookup(props, "value")
    if value is UNKNOWN:
        return unknown("value")
    if not isinstance(value, str) or not value.strip():
        return violation("value is not set; the policy document is required")
    try:
        return ET.fromstring(value)  # noqa: S314 - the program's own policy documents
    except ET.ParseError as exc:
        return violation(f"value is not well-formed XML ({exc})")


def _header_actions(root: ET.Element, header: str) -> list[str]:
    """exists-action of each set-header naming `header`, in document order."""
    return [
        str(e.get("exists-action", "override")).lower()
        for e in root.iter("set-header")
        if str(e.get("name", "")).lower() == header.lower()
    ]


def api_policy_basic_auth(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """An API policy checks basic credentials with users-api and owns the caller headers.

    It calls the authenticate endpoint with send-request, challenges with 401 and
    WWW-Authenticate, and deletes any client-sent X-Caller-* before setting its own.
    """
    root = _policy_document(props)
    if root is None or isinstance(root, Finding):
        return [root] if root is not None else []
    findings: list[Finding] = []
    urls = [(e.findtext("set-url") or "").strip() for e in root.iter("send-request")]
    if not any(url.rstrip("/").endswith(AUTHENTICATE_PATH) for url in urls):
        findings.append(
            violation(f"no send-request to users-api's {AUTHENTICATE_PATH}: callers go unchecked")
        )
    challenges = [
        r
        for r in root.iter("return-response")
        if any(s.get("code") == "401" for s in r.iter("set-status"))
        and any(str(h.get("name", "")).lower() == "www-authenticate" for h in r.iter("set-header"))
    ]
    if not challenges:
        findings.append(violation("no 401 response with WWW-Authenticate for missing credentials"))
    for header in CALLER_HEADERS:
        actions = _header_actions(root, header)
        if not actions or actions[0] != "delete":
            findings.append(
                violation(f"{header} is not deleted before it is set: a client could forge it")
            )
        elif "override" not in actions[1:]:
            findings.append(violation(f"{header} is deleted but never set from the verdict"))
    return findings


def product_policy_limits(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """A product policy limits each subscription: rate-limit-by-key and a quota."""
    root = _policy_document(props)
    if root is None or isinstance(root, Finding):
        return [root] if root is not None else []
    findings: list[Finding] = []
    limits = list(root.iter("rate-limit-by-key"))
    if not limits or not all(e.get("counter-key") for e in limits):
        findings.append(violation("no rate-limit-by-key with a counter-key"))
    if not any(True for _ in root.iter("quota-by-key")) and not any(
        True for _ in root.iter("quota")
    ):
        findings.append(violation("no quota-by-key (classic) or quota (v2) per subscription"))
    return findings


def logger_managed_identity(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """An Application Insights logger authenticates with an identity; its connection string
    is a named value reference, never an instrumentation key or a literal."""
    kind = lookup(props, "loggerType")
    if kind is UNKNOWN:
        return [unknown("loggerType")]
    if str(kind).lower() != "applicationinsights":
        return []
    credentials = lookup(props, "credentials")
    if credentials is UNKNOWN:
        return [unknown("credentials")]
    if not isinstance(credentials, Mapping):
        return [violation("credentials are not set; give connectionString and identityClientId")]
    findings: list[Finding] = []
    if "instrumentationKey" in credentials:
        findings.append(violation("credentials.instrumentationKey is a shared key; use identity"))
    connection = credentials.get("connectionString")
    if connection is UNKNOWN:
        findings.append(unknown("credentials.connectionString"))
    elif not (
        isinstance(connection, str) and connection.startswith("{{") and connection.endswith("}}")
    ):
        findings.append(
            violation("credentials.connectionString is not a {{named value}} reference")
        )
    client = credentials.get("identityClientId")
    if client is UNKNOWN:
        findings.append(unknown("credentials.identityClientId"))
    elif not (isinstance(client, str) and client):
        findings.append(
            violation("credentials.identityClientId is not set; telemetry must be Entra-signed")
        )
    return findings


def diagnostic_no_credentials(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Gateway diagnostics never log Authorization or subscription key headers."""
    findings: list[Finding] = []
    for side in ("frontend", "backend"):
        for message in ("request", "response"):
            headers = lookup(props, f"{side}.{message}.headers")
            if headers is UNKNOWN:
                findings.append(unknown(f"{side}.{message}.headers"))
            elif isinstance(headers, list):
                logged = sorted(str(h) for h in headers if str(h).lower() in CREDENTIAL_HEADERS)
                if logged:
                    findings.append(violation(f"{side}.{message}.headers logs {', '.join(logged)}"))
    return findings


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
    ResourceRule(
        name="apim-vnet-shape",
        description="API Management uses a VNet mode its tier has; injected classic tiers "
        "bring a Standard public IP (stv2).",
        resource_types=(SERVICE,),
        control="MCSB NS-2",
        check=vnet_shape,
    ),
    ResourceRule(
        name="apim-api-policy-basic-auth",
        description="API Management API policies check basic credentials with users-api and "
        "delete client-sent caller headers before setting them.",
        resource_types=(API_POLICY,),
        control="MCSB IM-1",
        check=api_policy_basic_auth,
    ),
    ResourceRule(
        name="apim-product-policy-limits",
        description="API Management product policies rate-limit and cap each subscription.",
        resource_types=(PRODUCT_POLICY,),
        control="MCSB NS-5",
        check=product_policy_limits,
    ),
    ResourceRule(
        name="apim-logger-managed-identity",
        description="API Management Application Insights loggers authenticate with a managed "
        "identity and a named value connection string.",
        resource_types=(LOGGER,),
        control="MCSB IM-3",
        check=logger_managed_identity,
    ),
    ResourceRule(
        name="apim-diagnostic-no-credentials",
        description="API Management diagnostics do not log credential headers.",
        resource_types=DIAGNOSTICS,
        control="MCSB IM-8",
        check=diagnostic_no_credentials,
    ),
)
