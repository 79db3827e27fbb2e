"""Resource rules as plain functions: compliant, violating, property missing, unknown value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from policies.core import Finding, RuleContext, normalize
from policies.rules import (
    acr,
    apim,
    common,
    containerapps,
    frontdoor,
    keyvault,
    monitoring,
    network,
    optional_stores,
    servicebus,
    sql,
    storage,
    web,
)
from tests.policies.builders import TAGS, UNKNOWN_BOOL, UNKNOWN_STRING, ctx, with_path, without_path

Check = Callable[[Mapping[str, Any], RuleContext], list[Finding]]


@dataclass(frozen=True)
class Case:
    """One rule, a compliant resource, and the property that decides it."""

    check: Check
    resource_type: str
    compliant: Mapping[str, Any]
    path: str
    bad: Any
    missing_passes: bool
    unknown: str = UNKNOWN_STRING

    @property
    def id(self) -> str:
        return self.check.__module__.rsplit(".", 1)[-1] + "." + self.check.__name__


SA = storage.ACCOUNT
KV = keyvault.VAULT
SB = servicebus.NAMESPACE
SQL = sql.SERVER
APP = web.WEB_APP
CA = containerapps.CONTAINER_APP

STORAGE = {
    "enableHttpsTrafficOnly": True,
    "minimumTlsVersion": "TLS1_2",
    "allowBlobPublicAccess": False,
    "allowSharedKeyAccess": False,
}
VAULT = {
    "properties": {
        "enableRbacAuthorization": True,
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "enablePurgeProtection": True,
        "publicNetworkAccess": "Disabled",
    }
}
NAMESPACE = {
    "disableLocalAuth": True,
    "minimumTlsVersion": "1.2",
    "sku": {"name": "Premium", "tier": "Premium"},
    "publicNetworkAccess": "Disabled",
}
SERVER = {
    "administrators": {"azureADOnlyAuthentication": True, "login": "sql-admins"},
    "minimalTlsVersion": "1.2",
    "publicNetworkAccess": "Disabled",
}
SITE = {
    "httpsOnly": True,
    "siteConfig": {"ftpsState": "Disabled", "minTlsVersion": "1.2", "scmMinTlsVersion": "1.2"},
    "identity": {"type": "UserAssigned"},
    "virtualNetworkSubnetId": "/subscriptions/s/resourceGroups/rg/providers/"
    "Microsoft.Network/virtualNetworks/vnet/subnets/snet-functions",
}
FLEX_SITE = {
    **SITE,
    "functionAppConfig": {
        "deployment": {
            "storage": {
                "type": "blobContainer",
                "value": "https://st.blob.core.windows.net/app-package",
                "authentication": {"type": "UserAssignedIdentity"},
            }
        },
        "runtime": {"name": "python", "version": "3.11"},
    },
}
FLEX_PLAN = {
    "kind": "functionapp",
    "reserved": True,
    "sku": {"name": "FC1", "tier": "FlexConsumption"},
}
PLAN = web.PLAN
CONTAINER_APP = {
    "containerAppName": "ca-orders-prod",
    "identity": {"type": "UserAssigned"},
    "configuration": {
        "ingress": {"external": False, "allowInsecure": False, "targetPort": 8000},
        "registries": [{"server": "crplat.azurecr.io", "identity": "/subscriptions/s/id-pull"}],
    },
}
APIM = {
    "identity": {"type": "SystemAssigned"},
    "sku": {"name": "Developer", "capacity": 1},
    "customProperties": dict.fromkeys(apim.LEGACY_PROTOCOL_KEYS, "false"),
}
WAF = {"policySettings": {"enabledState": "Enabled", "mode": "Prevention"}}

CASES = [
    Case(storage.https_only, SA, STORAGE, "enableHttpsTrafficOnly", False, True, UNKNOWN_BOOL),
    Case(storage.minimum_tls, SA, STORAGE, "minimumTlsVersion", "TLS1_0", False),
    Case(storage.no_public_blob_access, SA, STORAGE, "allowBlobPublicAccess", True, False),
    Case(storage.no_shared_key_access, SA, STORAGE, "allowSharedKeyAccess", True, False),
    Case(
        keyvault.rbac_authorization, KV, VAULT, "properties.enableRbacAuthorization", False, False
    ),
    Case(
        keyvault.soft_delete_retention, KV, VAULT, "properties.softDeleteRetentionInDays", 7, False
    ),
    Case(keyvault.purge_protection, KV, VAULT, "properties.enablePurgeProtection", False, False),
    Case(keyvault.private_access, KV, VAULT, "properties.publicNetworkAccess", "Enabled", False),
    Case(servicebus.local_auth_disabled, SB, NAMESPACE, "disableLocalAuth", False, False),
    Case(servicebus.minimum_tls, SB, NAMESPACE, "minimumTlsVersion", "1.0", False),
    Case(servicebus.sku_tier, SB, NAMESPACE, "sku", {"name": "Basic"}, False),
    Case(servicebus.private_access, SB, NAMESPACE, "publicNetworkAccess", "Enabled", False),
    Case(
        sql.entra_only_auth, SQL, SERVER, "administrators.azureADOnlyAuthentication", False, False
    ),
    Case(sql.minimum_tls, SQL, SERVER, "minimalTlsVersion", "1.0", False),
    Case(sql.private_access, SQL, SERVER, "publicNetworkAccess", "Enabled", False),
    Case(web.https_only, APP, SITE, "httpsOnly", False, False),
    Case(web.ftp_disabled, APP, SITE, "siteConfig.ftpsState", "FtpsOnly", False),
    Case(web.minimum_tls, APP, SITE, "siteConfig.minTlsVersion", "1.0", False),
    Case(web.managed_identity, APP, SITE, "identity.type", "None", False),
    Case(web.minimum_tls, APP, SITE, "siteConfig.scmMinTlsVersion", "1.0", False),
    Case(web.functions_plan_vnet_capable, PLAN, FLEX_PLAN, "sku.tier", "Dynamic", False),
    Case(
        web.flex_deployment_identity,
        APP,
        FLEX_SITE,
        "functionAppConfig.deployment.storage.authentication.type",
        "StorageAccountConnectionString",
        False,
    ),
    Case(
        containerapps.internal_ingress,
        CA,
        CONTAINER_APP,
        "configuration.ingress.external",
        True,
        True,
    ),
    Case(
        containerapps.no_insecure_ingress,
        CA,
        CONTAINER_APP,
        "configuration.ingress.allowInsecure",
        True,
        True,
    ),
    Case(containerapps.identity_registry_pulls, CA, CONTAINER_APP, "identity.type", "None", False),
    Case(
        acr.admin_user_disabled,
        acr.REGISTRY,
        {"adminUserEnabled": False},
        "adminUserEnabled",
        True,
        True,
    ),
    Case(apim.managed_identity, apim.SERVICE, APIM, "identity.type", "None", False),
    Case(
        apim.legacy_protocols_disabled,
        apim.SERVICE,
        APIM,
        "customProperties",
        dict.fromkeys(apim.LEGACY_PROTOCOL_KEYS, "true"),
        False,
    ),
    Case(
        apim.https_only_apis,
        apim.API,
        {"protocols": ["https"]},
        "protocols",
        ["http", "https"],
        False,
    ),
    Case(
        frontdoor.waf_policy_mode,
        frontdoor.WAF_POLICY,
        WAF,
        "policySettings.mode",
        "Detection",
        False,
    ),
    Case(
        frontdoor.waf_policy_mode,
        frontdoor.WAF_POLICY,
        WAF,
        "policySettings.enabledState",
        "Disabled",
        False,
    ),
    Case(
        monitoring.retention,
        monitoring.WORKSPACE,
        {"retentionInDays": 365},
        "retentionInDays",
        90,
        False,
    ),
    Case(
        optional_stores.redis_encrypted,
        optional_stores.REDIS_DATABASE,
        {"clientProtocol": "Encrypted"},
        "clientProtocol",
        "Plaintext",
        True,
    ),
    Case(
        optional_stores.redis_access_keys_disabled,
        optional_stores.REDIS_DATABASE,
        {"accessKeysAuthentication": "Disabled"},
        "accessKeysAuthentication",
        "Enabled",
        False,
    ),
    Case(
        optional_stores.redis_private_access,
        optional_stores.REDIS_CLUSTER,
        {"publicNetworkAccess": "Disabled"},
        "publicNetworkAccess",
        "Enabled",
        False,
    ),
    Case(
        optional_stores.cosmos_local_auth_disabled,
        optional_stores.COSMOS,
        {"disableLocalAuth": True},
        "disableLocalAuth",
        False,
        False,
    ),
    Case(
        optional_stores.cosmos_private_access,
        optional_stores.COSMOS,
        {"publicNetworkAccess": "Disabled"},
        "publicNetworkAccess",
        "Enabled",
        False,
    ),
    Case(
        optional_stores.data_factory_identity,
        optional_stores.DATA_FACTORY,
        {"identity": {"type": "SystemAssigned"}},
        "identity.type",
        "None",
        False,
    ),
    Case(
        optional_stores.data_factory_private_access,
        optional_stores.DATA_FACTORY,
        {"publicNetworkAccess": "Disabled"},
        "publicNetworkAccess",
        "Enabled",
        False,
    ),
    Case(common.required_tags, KV, {"tags": TAGS}, "tags", {"environment": "prod"}, False),
    Case(
        common.caf_name,
        KV,
        {"vaultName": "kv-plat-prod-wus2-a1b2c3"},
        "vaultName",
        "vault-1",
        False,
    ),
    Case(common.allowed_location, KV, {"location": "westus2"}, "location", "chinaeast", True),
]


def _run(case: Case, props: Mapping[str, Any], environment: str = "prod") -> list[Finding]:
    return case.check(normalize(props), ctx(environment, case.resource_type))  # type: ignore[arg-type]


def _violations(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if not f.unknown]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.id}:{c.path}")
def test_compliant_resource_passes(case: Case) -> None:
    assert _run(case, case.compliant) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.id}:{c.path}")
def test_violating_value_is_reported(case: Case) -> None:
    findings = _violations(_run(case, with_path(case.compliant, case.path, case.bad)))
    assert findings
    assert all(f.message for f in findings)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.id}:{c.path}")
def test_missing_property(case: Case) -> None:
    findings = _violations(_run(case, without_path(case.compliant, case.path)))
    if case.missing_passes:
        assert findings == []
    else:
        assert findings, "an unset property must not pass where the safe value must be explicit"
        assert any("not set" in f.message for f in findings)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.id}:{c.path}")
def test_unknown_value_cannot_tell_yet(case: Case) -> None:
    findings = _run(case, with_path(case.compliant, case.path, case.unknown))
    assert findings, "an unknown value is recorded as an advisory note"
    assert all(f.unknown for f in findings)
    assert "unknown" in findings[0].message


# ---- per-environment differences -------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "props"),
    [
        (keyvault.private_access, {"properties": {"publicNetworkAccess": "Enabled"}}),
        (servicebus.private_access, {"publicNetworkAccess": "Enabled"}),
        (sql.private_access, {"publicNetworkAccess": "Enabled"}),
        (optional_stores.cosmos_private_access, {"publicNetworkAccess": "Enabled"}),
        (optional_stores.data_factory_private_access, {}),
        (optional_stores.redis_private_access, {}),
        (keyvault.purge_protection, {"properties": {"enablePurgeProtection": False}}),
    ],
    ids=lambda v: getattr(v, "__qualname__", ""),
)
def test_private_access_and_purge_protection_only_where_required(
    check: Check, props: dict[str, Any]
) -> None:
    assert check(props, ctx("dev")) == []
    assert check(props, ctx("qa")) == []
    assert _violations(check(props, ctx("prod")))


def test_private_access_required_in_staging() -> None:
    assert _violations(sql.private_access({"publicNetworkAccess": "Enabled"}, ctx("staging")))


def test_purge_protection_not_required_in_staging() -> None:
    props = {"properties": {"enablePurgeProtection": False}}
    assert keyvault.purge_protection(props, ctx("staging")) == []


@pytest.mark.parametrize(
    ("environment", "days"), [("dev", 7), ("qa", 14), ("staging", 30), ("prod", 90)]
)
def test_soft_delete_days_follow_the_environment(environment: str, days: int) -> None:
    props = {"properties": {"softDeleteRetentionInDays": float(days)}}
    assert keyvault.soft_delete_retention(props, ctx(environment)) == []  # type: ignore[arg-type]
    wrong = {"properties": {"softDeleteRetentionInDays": days + 1}}
    [finding] = keyvault.soft_delete_retention(wrong, ctx(environment))  # type: ignore[arg-type]
    assert f"{days} days" in finding.message


def test_soft_delete_cannot_be_switched_off() -> None:
    props = {"properties": {"enableSoftDelete": False, "softDeleteRetentionInDays": 90}}
    assert _violations(keyvault.soft_delete_retention(props, ctx("prod")))


@pytest.mark.parametrize(
    ("environment", "days", "ok"),
    [
        ("dev", 30, True),
        ("qa", 30, True),
        ("staging", 30, False),
        ("staging", 60, True),
        ("prod", 364, False),
    ],
)
def test_log_retention_minimum_per_environment(environment: str, days: int, ok: bool) -> None:
    findings = monitoring.retention({"retentionInDays": float(days)}, ctx(environment))  # type: ignore[arg-type]
    assert (findings == []) is ok


def test_log_retention_unset_means_azure_default_of_30_days() -> None:
    assert monitoring.retention({}, ctx("dev")) == []
    [finding] = monitoring.retention({}, ctx("prod"))
    assert "not set (Azure keeps 30)" in finding.message


def test_waf_detection_allowed_only_outside_staging_and_prod() -> None:
    props = {"policySettings": {"enabledState": "Enabled", "mode": "Detection"}}
    assert frontdoor.waf_policy_mode(props, ctx("dev")) == []
    assert frontdoor.waf_policy_mode(props, ctx("qa")) == []
    assert _violations(frontdoor.waf_policy_mode(props, ctx("staging")))


def test_service_bus_standard_only_where_no_private_endpoints() -> None:
    standard = {"sku": {"name": "Standard", "tier": "Standard"}}
    assert servicebus.sku_tier(standard, ctx("dev")) == []
    [finding] = servicebus.sku_tier(standard, ctx("prod"))
    assert "Premium" in finding.message
    assert _violations(servicebus.sku_tier({"sku": {"name": "Basic"}}, ctx("dev")))


# ---- rule-specific details -------------------------------------------------------------


def test_sql_admin_password_is_a_violation() -> None:
    props = {**SERVER, "administratorLoginPassword": "hunter2"}
    [finding] = sql.entra_only_auth(props, ctx())
    assert "administratorLoginPassword" in finding.message


def test_strings_compare_case_insensitively() -> None:
    assert sql.private_access({"publicNetworkAccess": "disabled"}, ctx()) == []


def test_container_app_external_ingress_when_allow_listed() -> None:
    props = with_path(CONTAINER_APP, "configuration.ingress.external", True)
    options = {containerapps.ALLOWED_EXTERNAL_OPTION: ["ca-orders-prod"]}
    assert containerapps.internal_ingress(props, RuleContext("prod", options)) == []
    by_logical_name = RuleContext(
        "prod", {containerapps.ALLOWED_EXTERNAL_OPTION: ["orders"]}, name="orders"
    )
    assert containerapps.internal_ingress(props, by_logical_name) == []
    other = RuleContext("prod", {containerapps.ALLOWED_EXTERNAL_OPTION: ["ca-users-prod"]})
    assert _violations(containerapps.internal_ingress(props, other))


def test_container_app_registry_without_identity() -> None:
    props = with_path(
        CONTAINER_APP,
        "configuration.registries",
        [{"server": "crplat.azurecr.io", "username": "admin", "passwordSecretRef": "acr-pw"}],
    )
    messages = [f.message for f in containerapps.identity_registry_pulls(props, ctx())]
    assert any("has no identity" in m for m in messages)
    assert any("passwordSecretRef" in m for m in messages)


def test_container_app_registry_identity_unknown() -> None:
    props = with_path(
        CONTAINER_APP,
        "configuration.registries",
        [{"server": "crplat.azurecr.io", "identity": UNKNOWN_STRING}],
    )
    [finding] = containerapps.identity_registry_pulls(props, ctx())
    assert finding.unknown


def test_apim_v2_tiers_have_no_legacy_protocol_settings() -> None:
    props = {"sku": {"name": "StandardV2", "capacity": 1}}
    assert apim.legacy_protocols_disabled(props, ctx()) == []


def test_apim_api_websocket_is_allowed() -> None:
    assert apim.https_only_apis({"protocols": ["wss"]}, ctx()) == []


def test_tags_environment_must_match_the_stack() -> None:
    props = {"tags": {**TAGS, "environment": "dev"}}
    [finding] = common.required_tags(props, ctx("prod", KV))
    assert "tags.environment" in finding.message


def test_tags_are_not_required_on_untaggable_types() -> None:
    assert common.required_tags({}, ctx("prod", "azure-native:network:SecurityRule")) == []
    assert common.required_tags({}, ctx("prod", "platform:core:Core")) == []


def test_tags_on_unlisted_types_that_carry_them_are_checked() -> None:
    findings = common.required_tags({"tags": {}}, ctx("prod", "azure-native:search:Service"))
    assert _violations(findings)


@pytest.mark.parametrize(
    ("resource_type", "props", "ok"),
    [
        (storage.ACCOUNT, {"accountName": "stplatprodwus2a1b2c3"}, True),
        (storage.ACCOUNT, {"accountName": "st-plat-prod"}, False),
        (sql.SERVER, {"serverName": "sql-plat-prod-wus2-a1b2c3"}, True),
        (sql.SERVER, {"serverName": "SQL-plat-prod"}, False),
        (storage.ACCOUNT, {"accountName": "stplatprodwus2a1b2c3d4e5f6g7"}, False),
        ("azure-native:network:Subnet", {"subnetName": "AzureFirewallSubnet"}, True),
        (web.WEB_APP, {"name": "func-plat-prod-wus2-a1b2c3", "kind": "functionapp,linux"}, True),
        (web.WEB_APP, {"name": "orders-worker", "kind": "functionapp,linux"}, False),
        (web.WEB_APP, {"name": "anything", "kind": "app"}, True),
        ("azure-native:network:SecurityRule", {"securityRuleName": "x"}, True),
    ],
)
def test_caf_names(resource_type: str, props: dict[str, Any], ok: bool) -> None:
    findings = common.caf_name(props, ctx("prod", resource_type))
    assert (findings == []) is ok


def test_unset_name_is_autonamed_and_reported() -> None:
    [finding] = common.caf_name({}, ctx("prod", KV))
    assert "autonames" in finding.message


@pytest.mark.parametrize(
    ("location", "ok"),
    [("West US 2", True), ("global", True), ("Global", True), ("eastasia", False)],
)
def test_locations(location: str, ok: bool) -> None:
    assert (common.allowed_location({"location": location}, ctx("prod", KV)) == []) is ok


# ---- network security groups -----------------------------------------------------------


def _rule(**overrides: Any) -> dict[str, Any]:
    base = {
        "name": "allow-internet-to-apim-https",
        "direction": "Inbound",
        "access": "Allow",
        "protocol": "Tcp",
        "sourceAddressPrefix": "Internet",
        "sourcePortRange": "*",
        "destinationAddressPrefix": "10.2.0.0/24",
        "destinationPortRange": "443",
        "priority": 100.0,
    }
    return {**base, **overrides}


def _nsg(subnet: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {"tags": {**TAGS, "subnet": subnet}, "securityRules": list(rules)}


NSG_CTX = ctx("prod", network.NSG)
RULE_CTX = ctx("prod", network.SECURITY_RULE)


def test_gateway_nsg_may_open_https_and_apim_management() -> None:
    props = _nsg("gateway", _rule(), _rule(name="mgmt", destinationPortRange="3443"))
    assert network.internet_inbound_gateway_only(props, NSG_CTX) == []
    assert network.no_internet_management_ports(props, NSG_CTX) == []


@pytest.mark.parametrize("port", ["22", "3389", "5985", "5986", "*", "20-30", "3000-4000"])
@pytest.mark.parametrize("source", ["*", "Internet", "0.0.0.0/0", "any"])
def test_management_ports_from_the_internet_are_violations(port: str, source: str) -> None:
    props = _nsg("management", _rule(destinationPortRange=port, sourceAddressPrefix=source))
    [finding] = network.no_internet_management_ports(props, NSG_CTX)
    assert "management port" in finding.message


def test_management_ports_from_a_subnet_are_fine() -> None:
    props = _nsg("data", _rule(sourceAddressPrefix="10.2.5.0/24", destinationPortRange="22"))
    assert network.no_internet_management_ports(props, NSG_CTX) == []


def test_management_port_in_a_port_list() -> None:
    rule = _rule(destinationPortRange=None, destinationPortRanges=["443", "3389"])
    assert network.no_internet_management_ports(_nsg("gateway", rule), NSG_CTX)


def test_deny_rules_and_outbound_rules_are_ignored() -> None:
    props = _nsg(
        "app",
        _rule(access="Deny", destinationPortRange="*", sourceAddressPrefix="*"),
        _rule(direction="Outbound", destinationPortRange="22"),
    )
    assert network.no_internet_management_ports(props, NSG_CTX) == []
    assert network.internet_inbound_gateway_only(props, NSG_CTX) == []


def test_internet_inbound_on_a_non_gateway_nsg() -> None:
    [finding] = network.internet_inbound_gateway_only(_nsg("app", _rule()), NSG_CTX)
    assert "not the gateway" in finding.message


def test_internet_inbound_to_other_ports_on_the_gateway() -> None:
    props = _nsg("gateway", _rule(destinationPortRange="80"))
    [finding] = network.internet_inbound_gateway_only(props, NSG_CTX)
    assert "port(s) 80" in finding.message


def test_allowed_internet_ports_are_configurable() -> None:
    props = _nsg("gateway", _rule(destinationPortRange="80"))
    options = ctx("prod", network.NSG, allowedInternetPorts=[443.0, 80.0])
    assert network.internet_inbound_gateway_only(props, options) == []


def test_nsg_without_rules_or_tags() -> None:
    assert network.internet_inbound_gateway_only({}, NSG_CTX) == []
    assert network.no_internet_management_ports({}, NSG_CTX) == []


def test_standalone_security_rule_uses_the_nsg_name() -> None:
    gateway = _rule(networkSecurityGroupName="nsg-plat-gateway-prod-wus2")
    other = _rule(networkSecurityGroupName="nsg-plat-app-prod-wus2")
    assert network.internet_inbound_gateway_only(gateway, RULE_CTX) == []
    assert network.internet_inbound_gateway_only(other, RULE_CTX)
    assert network.no_internet_management_ports(_rule(destinationPortRange="22"), RULE_CTX)


def test_unknown_source_prefix_cannot_tell_yet() -> None:
    props = normalize(
        _nsg("app", _rule(sourceAddressPrefix=UNKNOWN_STRING, destinationPortRange="22"))
    )
    for check in (network.no_internet_management_ports, network.internet_inbound_gateway_only):
        findings = check(props, NSG_CTX)
        assert findings
        assert all(f.unknown for f in findings)


def test_unknown_rule_list_cannot_tell_yet() -> None:
    props = normalize({"securityRules": "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"})
    [finding] = network.no_internet_management_ports(props, NSG_CTX)
    assert finding.unknown


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in _leaf_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, (*path, i))]
    return [path]


def _unknown_at(value: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return UNKNOWN_STRING
    head, *rest = path
    if isinstance(value, Mapping):
        return {k: (_unknown_at(v, tuple(rest)) if k == head else v) for k, v in value.items()}
    return [(_unknown_at(v, tuple(rest)) if i == head else v) for i, v in enumerate(value)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.id}:{c.path}")
def test_violation_never_turns_into_a_pass_when_a_value_is_unknown(case: Case) -> None:
    """Preview may leave any value unknown; the rule then reports or defers, never passes."""
    bad = with_path(case.compliant, case.path, case.bad)
    opened = [
        ".".join(map(str, path))
        for path in _leaf_paths(bad)
        if _run(case, normalize(_unknown_at(bad, path))) == []
    ]
    assert opened == []


def test_web_apps_without_function_app_config_are_not_judged_as_flex() -> None:
    context = RuleContext("dev", resource_type=APP)
    bad_site = {**SITE, "siteConfig": {"appSettings": [{"name": "WEBSITE_RUN_FROM_PACKAGE"}]}}
    assert web.flex_deployment_identity(SITE, context) == []
    assert web.flex_no_deprecated_settings(bad_site, context) == []


@pytest.mark.parametrize("name", ["WEBSITE_RUN_FROM_PACKAGE", "FUNCTIONS_WORKER_RUNTIME"])
def test_flex_apps_with_deprecated_settings_are_violations(name: str) -> None:
    context = RuleContext("dev", resource_type=APP)
    site = {**FLEX_SITE, "siteConfig": {"appSettings": [{"name": name, "value": "1"}]}}
    (finding,) = web.flex_no_deprecated_settings(site, context)
    assert not finding.unknown
    assert name in finding.message


def test_flex_deprecated_settings_missing_unknown_and_compliant() -> None:
    context = RuleContext("dev", resource_type=APP)
    ok = {**FLEX_SITE, "siteConfig": {"appSettings": [{"name": "ENVIRONMENT", "value": "dev"}]}}
    assert web.flex_no_deprecated_settings(ok, context) == []
    assert web.flex_no_deprecated_settings(FLEX_SITE, context) == []  # no settings at all
    unknown_list = {**FLEX_SITE, "siteConfig": {"appSettings": UNKNOWN_STRING}}
    (finding,) = web.flex_no_deprecated_settings(normalize(unknown_list), context)
    assert finding.unknown


def test_a_consumption_function_plan_is_a_violation_a_web_plan_is_not_judged() -> None:
    context = RuleContext("dev", resource_type=PLAN)
    dynamic = {"kind": "functionapp", "sku": {"name": "Y1", "tier": "Dynamic"}}
    (finding,) = web.functions_plan_vnet_capable(dynamic, context)
    assert not finding.unknown and "VNet" in finding.message
    assert web.functions_plan_vnet_capable({"kind": "app", "sku": {"tier": "Basic"}}, context) == []


def _vnet_only(*ranges: str) -> dict[str, Any]:
    props = with_path(CONTAINER_APP, "configuration.ingress.external", True)
    return with_path(
        props,
        "configuration.ingress.ipSecurityRestrictions",
        [{"name": f"r{i}", "action": "Allow", "ipAddressRange": r} for i, r in enumerate(ranges)],
    )


def test_external_ingress_admitting_private_ranges_only_is_vnet_only() -> None:
    assert containerapps.internal_ingress(_vnet_only("10.2.0.0/24", "10.2.2.0/24"), ctx()) == []
    assert _violations(
        containerapps.internal_ingress(_vnet_only("10.2.0.0/24", "8.8.8.0/24"), ctx())
    )
    # Wider than /8 is not a caller list, even inside 10/8's neighbours.
    assert _violations(containerapps.internal_ingress(_vnet_only("0.0.0.0/0"), ctx()))
    assert _violations(containerapps.internal_ingress(_vnet_only("not-a-cidr"), ctx()))
    deny = with_path(
        _vnet_only(),
        "configuration.ingress.ipSecurityRestrictions",
        [{"name": "d", "action": "Deny", "ipAddressRange": "10.2.0.0/24"}],
    )
    assert _violations(containerapps.internal_ingress(deny, ctx()))


def test_health_probes_exempt_images_come_from_the_option() -> None:
    bare = {"template": {"containers": [{"name": "x", "image": "crplat.azurecr.io/x@sha256:a"}]}}
    assert _violations(containerapps.health_probes(bare, ctx()))
    options = {containerapps.PROBE_EXEMPT_OPTION: ["crplat.azurecr.io/x@sha256:a"]}
    assert containerapps.health_probes(bare, RuleContext("prod", options)) == []
    [finding] = containerapps.health_probes(
        normalize({"template": {"containers": [{"name": "x", "image": UNKNOWN_STRING}]}}), ctx()
    )
    assert finding.unknown  # it may turn out to be the bootstrap image


def test_revision_mode_labels_splits_too_and_weights_must_add_up() -> None:
    labels = {"configuration": {"activeRevisionsMode": "Labels"}}
    assert containerapps.revision_mode(labels, ctx()) == []
    split = {
        "configuration": {
            "activeRevisionsMode": "Multiple",
            "ingress": {"traffic": [{"weight": 60}, {"latestRevision": True, "weight": 40}]},
        }
    }
    assert containerapps.revision_mode(split, ctx()) == []


def test_environment_logs_refuse_a_shared_key_even_with_azure_monitor() -> None:
    props = {
        "appLogsConfiguration": {
            "destination": "azure-monitor",
            "logAnalyticsConfiguration": {"sharedKey": "k"},
        }
    }
    [finding] = containerapps.environment_logs(props, ctx())
    assert "sharedKey" in finding.message
