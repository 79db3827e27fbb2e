"""App Service and Functions apps (and their slots): HTTPS, no FTP or basic-auth publishing,
TLS 1.2 on the site and its SCM site, managed identity, VNet integration, no keys in settings."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from policies.core import (
    MISSING,
    UNKNOWN,
    Finding,
    ResourceRecord,
    ResourceRule,
    RuleContext,
    StackRule,
    expect,
    expect_identity,
    lookup,
    of_type,
    unknown,
    violation,
)
from policies.rules.outputs import SECRET_VALUE

WEB_APP = "azure-native:web:WebApp"
WEB_APP_SLOT = "azure-native:web:WebAppSlot"
SITES = (WEB_APP, WEB_APP_SLOT)
APP_SETTINGS = "azure-native:web:WebAppApplicationSettings"
SLOT_APP_SETTINGS = "azure-native:web:WebAppApplicationSettingsSlot"
SWIFT_CONNECTION = "azure-native:web:WebAppSwiftVirtualNetworkConnection"
FTP_ALLOWED = "azure-native:web:WebAppFtpAllowed"
SCM_ALLOWED = "azure-native:web:WebAppScmAllowed"
# https://learn.microsoft.com/azure/app-service/configure-basic-auth-disable
PUBLISHING_POLICIES = {FTP_ALLOWED: "FTP", SCM_ALLOWED: "SCM (Kudu/Web Deploy)"}
PLAN = "azure-native:web:AppServicePlan"
KEY_VAULT_REFERENCE = "@microsoft.keyvault("
# Function plans that can join a VNet; Dynamic (Y1) cannot, and Linux Consumption retires.
# https://learn.microsoft.com/azure/azure-functions/functions-networking-options#matrix-of-networking-features
VNET_FUNCTION_TIERS = ("FlexConsumption", "ElasticPremium")
# Flex Consumption deploys from a blob container: with an identity, not a connection string.
# https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#configure-deployment-settings
FLEX_DEPLOYMENT_AUTH = ("UserAssignedIdentity", "SystemAssignedIdentity")
# App settings Flex Consumption deprecates (runtime, scale and deployment are in
# functionAppConfig). Kept equal to infra/functions' list by tests/test_functions.py.
# https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations
FLEX_DEPRECATED_SETTINGS = frozenset(
    {
        "DOCKER_REGISTRY_SERVER_PASSWORD",
        "DOCKER_REGISTRY_SERVER_URL",
        "DOCKER_REGISTRY_SERVER_USERNAME",
        "ENABLE_ORYX_BUILD",
        "FUNCTIONS_EXTENSION_VERSION",
        "FUNCTIONS_MAX_HTTP_CONCURRENCY",
        "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
        "FUNCTIONS_WORKER_PROCESS_COUNT",
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_WORKER_RUNTIME_VERSION",
        "PYTHON_ISOLATE_WORKER_DEPENDENCIES",
        "SCM_DO_BUILD_DURING_DEPLOYMENT",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
        "WEBSITE_CONTENTOVERVNET",
        "WEBSITE_CONTENTSHARE",
        "WEBSITE_DNS_SERVER",
        "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
        "WEBSITE_NODE_DEFAULT_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_SKIP_CONTENTSHARE_VALIDATION",
        "WEBSITE_VNET_ROUTE_ALL",
        "AzureWebJobsStorage",
    }
)
# Setting names that hold credentials when they hold a literal value.
SECRET_SETTING = re.compile(
    r"(password|passwd|secret|api[_-]?key|access[_-]?key|account[_-]?key|"
    r"connection[_-]?string|sas[_-]?token|private[_-]?key|"
    # The Functions host's storage connection strings (identity-based ones use __accountName).
    r"^azurewebjobsstorage$|^website_contentazurefileconnectionstring$)",
    re.IGNORECASE,
)
# Identity-based connection settings and the App Insights connection string (an ingestion
# endpoint and id, not a credential once local auth is off) are not secrets.
HARMLESS_SETTING = re.compile(
    r"(__clientid|__accountname|__fullyqualifiednamespace|__credential|__serviceuri|"
    r"^applicationinsights_connection_string)$",
    re.IGNORECASE,
)


def https_only(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Redirect HTTP to HTTPS; Azure's default is false, so unset fails."""
    return expect(props, "httpsOnly", [True], "plain HTTP exposes requests and tokens")


def ftp_disabled(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """No FTP at all: code ships with OneDeploy, so even FTPS is an unused credentialed door."""
    return expect(
        props,
        "siteConfig.ftpsState",
        ["Disabled"],
        "deployments use OneDeploy with Entra ID; FtpsOnly still allows basic-auth FTP",
    )


def minimum_tls(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """TLS 1.2+ on the site and on its SCM (Kudu) site, stated explicitly."""
    findings = expect(
        props, "siteConfig.minTlsVersion", ["1.2", "1.3"], "TLS 1.0 and 1.1 are retired"
    )
    findings += expect(
        props,
        "siteConfig.scmMinTlsVersion",
        ["1.2", "1.3"],
        "the SCM site takes deployments and must not accept TLS 1.0 or 1.1",
    )
    return findings


def managed_identity(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    return expect_identity(
        props, "apps reach Service Bus, SQL, storage and Key Vault as themselves"
    )


def settings_hold_no_keys(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """No literal credential in app settings: Key Vault references or identities instead."""
    if ctx.resource_type in SITES:
        entries = lookup(props, "siteConfig.appSettings")
        if entries is UNKNOWN:
            return [unknown("siteConfig.appSettings")]
        pairs = [
            (lookup(e, "name"), lookup(e, "value"))
            for e in (entries if isinstance(entries, list) else [])
        ]
    else:
        mapping = lookup(props, "properties")
        if mapping is UNKNOWN:
            return [unknown("properties")]
        pairs = list(mapping.items()) if isinstance(mapping, Mapping) else []
    findings: list[Finding] = []
    for name, value in pairs:
        if name is UNKNOWN and value is not MISSING:
            findings.append(unknown("app setting name"))
            continue
        if value is UNKNOWN:
            if isinstance(name, str) and _secret_name(name):
                findings.append(unknown(f"app setting {name}"))
            continue
        if not isinstance(value, str) or value.lower().startswith(KEY_VAULT_REFERENCE):
            continue
        if SECRET_VALUE.search(value) or (isinstance(name, str) and _secret_name(name)):
            findings.append(
                violation(
                    f"app setting {name} holds a literal credential; use a Key Vault reference "
                    "(@Microsoft.KeyVault(SecretUri=...)) or a managed identity connection"
                )
            )
    return findings


def functions_plan_vnet_capable(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """A Functions plan is Flex Consumption or Elastic Premium: the others cannot join a VNet."""
    kind = lookup(props, "kind")
    if kind is UNKNOWN:
        return [unknown("kind")]
    if not (isinstance(kind, str) and "functionapp" in kind.lower()):
        return []
    return expect(
        props,
        "sku.tier",
        VNET_FUNCTION_TIERS,
        "Consumption (Dynamic) plans cannot join a VNet and Linux Consumption retires in 2028",
    )


def flex_deployment_identity(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """A Flex app reads its package from blob storage with a managed identity."""
    if lookup(props, "functionAppConfig") is MISSING:
        return []
    return expect(
        props,
        "functionAppConfig.deployment.storage.authentication.type",
        FLEX_DEPLOYMENT_AUTH,
        "a connection string is a storage account key in an app setting",
    )


def flex_no_deprecated_settings(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """A Flex app sets none of the app settings Flex Consumption deprecates."""
    if lookup(props, "functionAppConfig") is MISSING:
        return []
    entries = lookup(props, "siteConfig.appSettings")
    if entries is UNKNOWN:
        return [unknown("siteConfig.appSettings")]
    findings: list[Finding] = []
    for entry in entries if isinstance(entries, list) else []:
        name = lookup(entry, "name")
        if name is UNKNOWN:
            findings.append(unknown("app setting name"))
        elif isinstance(name, str) and name in FLEX_DEPRECATED_SETTINGS:
            findings.append(
                violation(
                    f"app setting {name} is deprecated on Flex Consumption: runtime, scale and "
                    "deployment belong in functionAppConfig, host storage in identity-based "
                    "AzureWebJobsStorage__* settings"
                )
            )
    return findings


def _secret_name(name: str) -> bool:
    return bool(SECRET_SETTING.search(name)) and not HARMLESS_SETTING.search(name)


def vnet_integration(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """Outbound through the VNet: virtualNetworkSubnetId on the app, or a
    web:WebAppSwiftVirtualNetworkConnection for it (the two are the same ARM setting)."""
    findings: list[Finding] = []
    connections = of_type(resources, SWIFT_CONNECTION)
    for app in of_type(resources, *SITES):
        subnet = lookup(app.props, "virtualNetworkSubnetId")
        if isinstance(subnet, str) and subnet:
            continue
        verdicts = [_joins_subnet(c, app) for c in connections]
        if True in verdicts:
            continue
        if subnet is UNKNOWN or None in verdicts:
            findings.append(unknown("virtualNetworkSubnetId", app.urn))
            continue
        findings.append(
            violation(
                "virtualNetworkSubnetId is not set and no web:WebAppSwiftVirtualNetworkConnection "
                "joins the app to a subnet; without VNet integration it cannot reach private "
                "endpoints",
                app.urn,
            )
        )
    return findings


def basic_auth_publishing(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """FTP and SCM basic-auth publishing are switched off per app (Azure leaves them on)."""
    findings: list[Finding] = []
    for policy_type, label in PUBLISHING_POLICIES.items():
        policies = of_type(resources, policy_type)
        for policy in policies:
            allow = lookup(policy.props, "allow")
            if allow is UNKNOWN:
                findings.append(unknown("allow", policy.urn))
            elif allow is not False:
                findings.append(
                    violation(
                        f"allow = {allow!r}; {label} basic-auth publishing stays off", policy.urn
                    )
                )
        for app in of_type(resources, WEB_APP):
            verdicts = [_linked(p, app) for p in policies]
            if True in verdicts:
                continue
            if None in verdicts:
                findings.append(unknown(f"{policy_type}.name", app.urn))
            else:
                findings.append(
                    violation(
                        f"no {policy_type.removeprefix('azure-native:')} with allow = false for "
                        f"this app; Azure leaves {label} basic-auth publishing on",
                        app.urn,
                    )
                )
    return findings


def _linked(child: ResourceRecord, app: ResourceRecord) -> bool | None:
    """Whether `child` (whose `name` input is its app's name) belongs to `app`."""
    child_name, app_name = lookup(child.props, "name"), lookup(app.props, "name")
    if UNKNOWN in (child_name, app_name):
        deps = child.property_dependencies.get("name") or child.dependencies
        return True if app.urn in deps else None
    return isinstance(child_name, str) and child_name == app_name


def _joins_subnet(connection: ResourceRecord, app: ResourceRecord) -> bool | None:
    linked = _linked(connection, app)
    subnet = lookup(connection.props, "subnetResourceId")
    if linked is False or not (subnet is UNKNOWN or (isinstance(subnet, str) and subnet)):
        return False
    return None if linked is None or subnet is UNKNOWN else True


RULES = (
    ResourceRule(
        name="web-functions-plan-vnet-capable",
        description="Functions plans are Flex Consumption or Elastic Premium (VNet-capable).",
        resource_types=(PLAN,),
        control="MCSB NS-2 / DESIGN.md",
        check=functions_plan_vnet_capable,
    ),
    ResourceRule(
        name="web-flex-deployment-identity",
        description="Flex Consumption apps read their deployment container with a managed "
        "identity, not a storage connection string.",
        resource_types=(WEB_APP,),
        control="MCSB IM-3 / IM-8",
        check=flex_deployment_identity,
    ),
    ResourceRule(
        name="web-flex-no-deprecated-settings",
        description="Flex Consumption apps set none of the app settings Flex deprecates "
        "(WEBSITE_RUN_FROM_PACKAGE, FUNCTIONS_WORKER_RUNTIME, WEBSITE_CONTENTSHARE, ...).",
        resource_types=(WEB_APP,),
        control="Microsoft Learn: Flex Consumption plan deprecations",
        check=flex_no_deprecated_settings,
    ),
    ResourceRule(
        name="web-https-only",
        description="Web and function apps and their slots accept HTTPS only.",
        resource_types=SITES,
        control="CKV_AZURE_14 / Azure.AppService.UseHTTPS",
        check=https_only,
    ),
    ResourceRule(
        name="web-ftp-disabled",
        description="Web and function apps and their slots disable FTP and FTPS.",
        resource_types=SITES,
        control="CKV_AZURE_78 / Azure.AppService.WebSecureFtp",
        check=ftp_disabled,
    ),
    ResourceRule(
        name="web-min-tls",
        description="Web and function apps and their slots require TLS 1.2+ on the site and "
        "its SCM site.",
        resource_types=SITES,
        control="CKV_AZURE_15 / CKV_AZURE_145 / Azure.AppService.MinTLS",
        check=minimum_tls,
    ),
    ResourceRule(
        name="web-managed-identity",
        description="Web and function apps and their slots have a managed identity.",
        resource_types=SITES,
        control="CKV_AZURE_71 / Azure.AppService.ManagedIdentity",
        check=managed_identity,
    ),
    ResourceRule(
        name="web-settings-no-keys",
        description="App settings (on the app, its slots, or WebAppApplicationSettings) hold "
        "no literal keys, passwords or connection strings.",
        resource_types=(*SITES, APP_SETTINGS, SLOT_APP_SETTINGS),
        control="MCSB IM-8 / DP-6",
        check=settings_hold_no_keys,
    ),
    StackRule(
        name="web-vnet-integration",
        description="Web and function apps and their slots are integrated with a VNet subnet "
        "(virtualNetworkSubnetId or WebAppSwiftVirtualNetworkConnection).",
        resource_types=(*SITES, SWIFT_CONNECTION),
        control="MCSB NS-2",
        check=vnet_integration,
    ),
    StackRule(
        name="web-basic-auth-publishing-disabled",
        description="Each web app disables FTP and SCM basic-auth publishing "
        "(WebAppFtpAllowed / WebAppScmAllowed allow = false).",
        resource_types=(WEB_APP, FTP_ALLOWED, SCM_ALLOWED),
        control="Azure Policy: App Service apps should have local authentication methods "
        "disabled / MCSB IM-1",
        check=basic_auth_publishing,
    ),
)
