"""The settings validators at their edges: each limit's last good and first bad value.

Every bound is tested from both sides (a changed minimum or maximum, a flipped comparison or
a dropped condition each break one of them), every Azure rejection from its secondary branch
too, and the defaults against the tables they come from.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from config.settings import (
    AZURE_REGIONS,
    MAX_SUBNET_PREFIX,
    AlertThresholds,
    DatabaseSettings,
    DeploymentSettings,
    EnvironmentSettings,
    EtlSettings,
    MonitoringSettings,
    NetworkSettings,
    SecuritySettings,
    SettingsError,
    SubnetName,
    get_environment_settings,
    load_stack_settings,
)

S = SubnetName


def _accepts(model: type[BaseModel], **fields: Any) -> None:
    model.model_validate(fields)


def _refuses(model: type[BaseModel], match: str, **fields: Any) -> None:
    with pytest.raises(ValidationError, match=match):
        model.model_validate(fields)


def _env(name: str, **sections: dict[str, Any]) -> dict[str, Any]:
    """An environment's defaults as plain data, with some sections' fields changed."""
    data = get_environment_settings(name).model_dump()
    for section, fields in sections.items():
        data[section] = {**data[section], **fields}
    return data


def _validate_env(data: dict[str, Any]) -> EnvironmentSettings:
    return EnvironmentSettings.model_validate(data)


def _rejected(data: dict[str, Any], *fragments: str) -> str:
    with pytest.raises(ValidationError) as caught:
        _validate_env(data)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    return message


# --- Network: subnet minimums, the firewall subnet, placement --------------------------------


def _network(**changes: Any) -> dict[str, Any]:
    subnets = {s: f"10.0.{i}.0/24" for i, s in enumerate(S)}
    base: dict[str, Any] = {
        "vnet_cidr": "10.0.0.0/16",
        "subnets": subnets,
        "enable_ddos_protection": False,
        "enable_firewall": False,
    }
    return {**base, **changes}


def test_subnet_minimums_are_what_azure_needs() -> None:
    # /27 for Container Apps workload profiles and Flex Consumption, and where APIM goes.
    # https://learn.microsoft.com/azure/container-apps/custom-virtual-networks
    assert MAX_SUBNET_PREFIX == {
        S.GATEWAY: 27,
        S.APP: 27,
        S.FUNCTIONS: 27,
        S.INTEGRATION: 28,
        S.DATA: 28,
        S.MANAGEMENT: 29,
    }


@pytest.mark.parametrize("subnet", list(S))
def test_each_subnet_at_its_exact_minimum_passes_and_one_bit_smaller_fails(
    subnet: SubnetName,
) -> None:
    limit = MAX_SUBNET_PREFIX[subnet]
    index = list(S).index(subnet)
    subnets = {s: f"10.0.{i}.0/24" for i, s in enumerate(S)}
    NetworkSettings.model_validate(_network(subnets={**subnets, subnet: f"10.0.{index}.0/{limit}"}))
    with pytest.raises(ValidationError) as caught:
        NetworkSettings.model_validate(
            _network(subnets={**subnets, subnet: f"10.0.{index}.0/{limit + 1}"})
        )
    assert f"network.subnets.{subnet.value} = 10.0.{index}.0/{limit + 1} is too small" in str(
        caught.value
    )
    assert f"it needs /{limit} or larger" in str(caught.value)


def test_firewall_subnet_of_exactly_26_passes_and_27_fails() -> None:
    NetworkSettings.model_validate(
        _network(enable_firewall=True, firewall_subnet_cidr="10.0.6.0/26")
    )
    NetworkSettings.model_validate(
        _network(enable_firewall=True, firewall_subnet_cidr="10.0.6.0/25")
    )
    with pytest.raises(ValidationError, match=r"firewallSubnetCidr = 10\.0\.6\.0/27 is too small"):
        NetworkSettings.model_validate(
            _network(enable_firewall=True, firewall_subnet_cidr="10.0.6.0/27")
        )


def test_firewall_subnet_size_matters_only_with_the_firewall_on() -> None:
    NetworkSettings.model_validate(
        _network(enable_firewall=False, firewall_subnet_cidr="10.0.6.0/28")
    )


def test_firewall_needs_its_subnet() -> None:
    with pytest.raises(ValidationError, match=r"enableFirewall is true but network\.firewallSub"):
        NetworkSettings.model_validate(_network(enable_firewall=True))


def test_firewall_subnet_must_lie_inside_the_vnet() -> None:
    with pytest.raises(ValidationError) as caught:
        NetworkSettings.model_validate(
            _network(enable_firewall=True, firewall_subnet_cidr="10.1.6.0/26")
        )
    assert "network.subnets.firewallSubnetCidr = 10.1.6.0/26 lies outside" in str(caught.value)


def test_firewall_subnet_must_not_overlap_a_subnet() -> None:
    with pytest.raises(ValidationError) as caught:
        NetworkSettings.model_validate(
            _network(enable_firewall=True, firewall_subnet_cidr="10.0.5.0/26")
        )
    assert "firewallSubnetCidr = 10.0.5.0/26 overlaps management = 10.0.5.0/24" in str(caught.value)


def test_adjacent_subnets_do_not_overlap() -> None:
    subnets = {s: f"10.0.{i}.0/24" for i, s in enumerate(S)}
    subnets[S.DATA] = "10.0.4.0/25"
    subnets[S.MANAGEMENT] = "10.0.4.128/25"
    NetworkSettings.model_validate(_network(subnets=subnets))


def test_every_subnet_is_required_and_the_missing_ones_are_named() -> None:
    subnets = {s: f"10.0.{i}.0/24" for i, s in enumerate(S) if s not in (S.DATA, S.APP)}
    with pytest.raises(ValidationError) as caught:
        NetworkSettings.model_validate(_network(subnets=subnets))
    assert "network.subnets is missing app, data; all of gateway, app, functions" in str(
        caught.value
    )


# --- Field bounds, each from both sides ------------------------------------------------------

SECURITY = {
    "enable_private_endpoints": False,
    "enable_purge_protection": False,
    "waf_mode": "Detection",
}
MONITORING = {"log_retention_days": 30, "daily_quota_gb": 1, "monthly_budget_usd": 1}
ETL = {"delete_after_days": 217}  # the default cool 7 / archive 37, plus archive's 180

BOUNDS = [
    # (model, base fields, field, last good low, last good high); None means unbounded.
    (SecuritySettings, {**SECURITY}, "soft_delete_retention_days", 7, 90),
    (
        SecuritySettings,
        {**SECURITY, "soft_delete_retention_days": 7},
        "waf_rate_limit_per_minute",
        10,
        100_000,
    ),
    (AlertThresholds, {}, "severity", 0, 4),
    (AlertThresholds, {}, "dead_letter_messages", 1, None),
    (AlertThresholds, {}, "active_messages_backlog", 1, None),
    (AlertThresholds, {}, "function_failures", 1, None),
    (AlertThresholds, {}, "container_restarts", 1, None),
    (AlertThresholds, {}, "gateway_latency_ms", 1, None),
    (MonitoringSettings, MONITORING, "log_retention_days", 30, 730),
    (MonitoringSettings, MONITORING, "monthly_budget_usd", 1, None),
    (DatabaseSettings, {}, "backup_retention_days", 1, 35),
    (DatabaseSettings, {"backup_retention_days": 7}, "long_term_retention_weeks", 0, 520),
    # The lifecycle's cross-field minimums are tested at their edges in test_etl_lifecycle.py.
    (
        EtlSettings,
        {"cool_after_days": 0, "archive_after_days": 30},
        "delete_after_days",
        210,
        36500,
    ),
    (EtlSettings, ETL, "soft_delete_days", 1, 365),
    (EtlSettings, {"archive_after_days": None, "delete_after_days": 90}, "cool_after_days", 0, 60),
]


@pytest.mark.parametrize(
    ("model", "base", "name", "low", "high"),
    BOUNDS,
    ids=[f"{b[0].__name__}.{b[2]}" for b in BOUNDS],
)
def test_integer_bounds_are_inclusive_and_exact(
    model: type[BaseModel], base: dict[str, Any], name: str, low: int, high: int | None
) -> None:
    _accepts(model, **{**base, name: low})
    _refuses(model, name, **{**base, name: low - 1})
    if high is not None:
        _accepts(model, **{**base, name: high})
        _refuses(model, name, **{**base, name: high + 1})


@pytest.mark.parametrize("name", ["gateway_5xx_percent", "sql_cpu_percent", "sql_storage_percent"])
def test_percent_thresholds_are_above_0_and_at_most_100(name: str) -> None:
    _accepts(AlertThresholds, **{name: 100})
    _accepts(AlertThresholds, **{name: 0.01})
    _refuses(AlertThresholds, "greater than 0", **{name: 0})
    _refuses(AlertThresholds, "less than or equal to 100", **{name: 100.01})


def test_daily_quota_is_above_0_at_most_1000_or_none() -> None:
    for good in (0.01, 1000, None):
        _accepts(MonitoringSettings, **{**MONITORING, "daily_quota_gb": good})
    _refuses(MonitoringSettings, "greater than 0", **{**MONITORING, "daily_quota_gb": 0})
    _refuses(
        MonitoringSettings, "less than or equal to 1000", **{**MONITORING, "daily_quota_gb": 1000.5}
    )
    _refuses(MonitoringSettings, "greater than 0", **{**MONITORING, "monthly_budget_usd": 0})


def test_budget_alert_thresholds_are_1_to_1000_percent() -> None:
    _accepts(MonitoringSettings, **MONITORING, budget_alert_thresholds_percent=(1, 1000))
    _refuses(
        MonitoringSettings, "greater than 0", **MONITORING, budget_alert_thresholds_percent=(0,)
    )
    _refuses(
        MonitoringSettings,
        "less than or equal to 1000",
        **MONITORING,
        budget_alert_thresholds_percent=(1001,),
    )


def test_defaults_of_thresholds_and_lifecycle() -> None:
    assert AlertThresholds().model_dump() == {
        "gateway_5xx_percent": 5.0,
        "gateway_latency_ms": 2000,
        "dead_letter_messages": 1,
        "active_messages_backlog": 1000,
        "function_failures": 5,
        "container_restarts": 3,
        "sql_cpu_percent": 80.0,
        "sql_storage_percent": 85.0,
        "severity": 2,
    }
    monitoring = MonitoringSettings.model_validate(MONITORING)
    assert monitoring.budget_alert_thresholds_percent == (50, 80, 100)
    # Seed 001's hot 7 days, then cool for the tier's 30-day minimum before archive.
    etl = EtlSettings.model_validate(ETL)
    assert (etl.cool_after_days, etl.archive_after_days, etl.soft_delete_days) == (7, 37, 7)
    security = SecuritySettings.model_validate({**SECURITY, "soft_delete_retention_days": 7})
    assert security.waf_rate_limit_per_minute == 1000
    assert security.protect_data is False


# --- Azure rejections: each branch, and its way out -------------------------------------------


def test_basic_service_bus_is_fine_when_service_bus_is_off() -> None:
    _validate_env(
        _env(
            "dev",
            skus={"service_bus": "Basic"},
            # The workers are Service Bus-triggered and orders and payments publish to it:
            # neither Functions nor Container Apps without Service Bus.
            features={
                "enable_service_bus": False,
                "enable_functions": False,
                "enable_container_apps": False,
            },
        )
    )
    _rejected(_env("dev", skus={"service_bus": "Basic"}), "skus.serviceBus = Basic")


def test_private_endpoints_need_premium_registry_as_well_as_service_bus() -> None:
    # The registry arm alone: Service Bus is already Premium.
    data = _env(
        "dev",
        security={"enable_private_endpoints": True},
        skus={"service_bus": "Premium", "container_registry": "Standard"},
    )
    message = _rejected(
        data, "skus.containerRegistry = Standard", "ACR private endpoints need Premium"
    )
    assert "skus.serviceBus" not in message
    data["skus"]["container_registry"] = "Premium"
    _validate_env(data)
    # And the Service Bus arm alone: the registry is already Premium.
    data["skus"]["service_bus"] = "Standard"
    message = _rejected(data, "skus.serviceBus = Standard with security.enablePrivateEndpoints")
    assert "containerRegistry" not in message


def test_consumption_functions_are_fine_when_functions_are_off() -> None:
    _validate_env(
        _env("dev", skus={"functions_plan": "Consumption"}, features={"enable_functions": False})
    )
    _rejected(_env("dev", skus={"functions_plan": "Consumption"}), "cannot join a VNet")


@pytest.mark.parametrize("sku", ["Developer", "Premium", "StandardV2", "PremiumV2"])
def test_apim_tiers_that_reach_container_apps(sku: str) -> None:
    _validate_env(_env("dev", skus={"api_management": sku}))


@pytest.mark.parametrize("sku", ["Consumption", "Basic", "Standard", "BasicV2"])
def test_apim_tiers_that_cannot_reach_container_apps(sku: str) -> None:
    message = _rejected(_env("dev", skus={"api_management": sku}), f"skus.apiManagement = {sku}")
    assert "allowed: Developer, Premium, PremiumV2, StandardV2" in message
    # Without API Management the tier is no longer a problem; without Container Apps it still
    # is: the gateway layer always sits in the VNet and its products use rate-limit-by-key.
    _validate_env(
        _env("dev", skus={"api_management": sku}, features={"enable_api_management": False})
    )
    _rejected(
        _env(
            "dev",
            skus={"api_management": sku},
            features={"enable_container_apps": False, "enable_functions": False},
        ),
        f"skus.apiManagement = {sku}",
    )


def test_basic_sql_keeps_exactly_seven_days() -> None:
    _validate_env(_env("dev", database={"backup_retention_days": 7}))
    _rejected(_env("dev", database={"backup_retention_days": 8}), "backupRetentionDays = 8 with")
    _validate_env(_env("staging", database={"backup_retention_days": 35}))


def test_zone_redundancy_needs_a_zone_redundant_sku() -> None:
    message = _rejected(
        _env("staging", database={"zone_redundant": True}),
        "zoneRedundant = true with skus.sqlDatabase = S1",
    )
    assert "needs one of BC_Gen5_2, GP_Gen5_2, P1, P2" in message
    _validate_env(_env("staging", database={"zone_redundant": True}, skus={"sql_database": "P1"}))


def test_prod_must_protect_its_data_but_other_environments_may_not() -> None:
    _rejected(
        _env("prod", security={"protect_data": False}), "security.protectData = false in prod"
    )
    _rejected(
        _env("prod", security={"enable_purge_protection": False}),
        "enablePurgeProtection = false in prod",
    )
    staging = _validate_env(_env("staging", security={"protect_data": False}))
    assert staging.security.protect_data is False


def test_all_rejections_are_reported_together() -> None:
    data = _env(
        "prod",
        security={"protect_data": False, "enable_purge_protection": False},
        skus={"service_bus": "Standard"},
    )
    message = _rejected(data, "protectData", "enablePurgeProtection", "serviceBus = Standard")
    assert message.count("; ") >= 2


# --- Deployment values -----------------------------------------------------------------------

BASE = {"location": "westus2", "owner": "team", "cost_center": "CC-1"}


@pytest.mark.parametrize("cidr", ["10.0.0.0/8", "203.0.113.0/30", "203.0.113.7/32", "11.0.0.0/9"])
def test_allowed_ip_ranges_from_8_to_32_except_31(cidr: str) -> None:
    DeploymentSettings.model_validate({**BASE, "allowed_ip_ranges": [cidr]})


@pytest.mark.parametrize(
    ("cidr", "reason"),
    [
        ("10.0.0.0/7", "wider than /8"),
        ("0.0.0.0/0", "wider than /8"),
        ("203.0.113.6/31", "a /31 is not accepted"),
        ("203.0.113.1/24", "not a valid IPv4 network"),
    ],
)
def test_allowed_ip_ranges_refused(cidr: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        DeploymentSettings.model_validate({**BASE, "allowed_ip_ranges": [cidr]})


def test_custom_domain_length_limits() -> None:
    label = "a" * 63
    longest = ".".join([label, label, label, "b" * 58]) + ".io"
    too_long = ".".join([label, label, label, "b" * 59]) + ".io"
    assert (len(longest), len(too_long)) == (253, 254)
    DeploymentSettings.model_validate({**BASE, "custom_domain": longest})
    DeploymentSettings.model_validate({**BASE, "custom_domain": "a.io"})
    with pytest.raises(ValidationError, match="at most 253"):
        DeploymentSettings.model_validate({**BASE, "custom_domain": too_long})


def test_owner_and_sql_admin_lengths() -> None:
    DeploymentSettings.model_validate({**BASE, "owner": "o" * 64})
    with pytest.raises(ValidationError, match="at most 64"):
        DeploymentSettings.model_validate({**BASE, "owner": "o" * 65})
    with pytest.raises(ValidationError, match="at least 1"):
        DeploymentSettings.model_validate({**BASE, "owner": ""})
    guid = "00000000-0000-0000-0000-000000000000"
    admin = {"sql_admin_object_id": guid}
    DeploymentSettings.model_validate({**BASE, **admin, "sql_admin_login": "g" * 128})
    with pytest.raises(ValidationError, match="at most 128"):
        DeploymentSettings.model_validate({**BASE, **admin, "sql_admin_login": "g" * 129})
    with pytest.raises(ValidationError, match="go together"):
        DeploymentSettings.model_validate({**BASE, **admin})
    with pytest.raises(ValidationError, match="go together"):
        DeploymentSettings.model_validate({**BASE, "sql_admin_login": "dba"})


def test_region_code_comes_from_the_region_table() -> None:
    for region, code in AZURE_REGIONS.items():
        assert DeploymentSettings.model_validate({**BASE, "location": region}).region_code == code


# --- Loading a stack -------------------------------------------------------------------------

STACK = {"platform:location": "westus2", "platform:owner": "team", "platform:costCenter": "CC-1"}


def test_overrides_must_be_a_map_and_cannot_change_the_environment() -> None:
    with pytest.raises(SettingsError, match=r"platform:overrides = \[1\] must be a map"):
        load_stack_settings("dev", {**STACK, "platform:overrides": "[1]"})
    with pytest.raises(SettingsError, match=r"overrides\.environment cannot be overridden"):
        load_stack_settings("dev", {**STACK, "platform:overrides": '{"environment": "prod"}'})


def test_keys_outside_the_namespace_are_ignored_and_strings_stay_strings() -> None:
    settings = load_stack_settings(
        "dev", {**STACK, "azure-native:location": "westus2", "platform:owner": "[team"}
    )
    assert settings.deployment.owner == "[team"


def test_nested_overrides_merge_into_the_defaults() -> None:
    settings = load_stack_settings(
        "prod", {**STACK, "platform:overrides": '{"monitoring": {"alerts": {"severity": 0}}}'}
    )
    alerts = settings.env.monitoring.alerts
    assert alerts.severity == 0
    assert alerts.gateway_latency_ms == 1000  # prod's own value, kept by the merge


def test_unknown_nested_key_lists_the_allowed_ones_of_its_level() -> None:
    with pytest.raises(SettingsError) as caught:
        load_stack_settings(
            "dev", {**STACK, "platform:overrides": '{"monitoring": {"alerts": {"sev": 1}}}'}
        )
    message = str(caught.value)
    assert "platform:overrides.monitoring.alerts.sev = 1: unknown key; allowed: " in message
    assert "activeMessagesBacklog, containerRestarts" in message


def test_unknown_top_level_override_lists_the_sections() -> None:
    with pytest.raises(SettingsError) as caught:
        load_stack_settings("dev", {**STACK, "platform:overrides": '{"netwerk": {}}'})
    assert (
        "unknown key; allowed: audit, containerApps, database, environment, etl, features, "
        "frontend, functions, gateway, monitoring" in str(caught.value)
    )


# --- The rest of the matrix: values no seed table pins, decided in settings.py's comments ----

# dotted path: (dev, qa, staging, prod). Budgets and SQL retention follow the cost tiers of
# seed 003; 2555 days of ETL files is MiFID II's seven years of record keeping (seed 001).
MATRIX: dict[str, tuple[Any, Any, Any, Any]] = {
    "monitoring.monthly_budget_usd": (500, 500, 2000, 10000),
    "database.backup_retention_days": (7, 7, 14, 35),
    "database.long_term_retention_weeks": (0, 0, 0, 52),
    "database.backup_storage_redundancy": ("Local", "Local", "Local", "Geo"),
    "database.enable_defender": (False, False, True, True),
    "etl.delete_after_days": (90, 90, 217, 2555),
    "etl.soft_delete_days": (7, 7, 14, 30),
    "security.waf_mode": ("Detection", "Detection", "Prevention", "Prevention"),
    "security.protect_data": (False, False, False, True),
    "skus.sql_database": ("Basic", "Basic", "S1", "S2"),
    "skus.service_bus": ("Standard", "Standard", "Premium", "Premium"),
    "skus.container_registry": ("Basic", "Basic", "Premium", "Premium"),
    "skus.api_management": ("Developer", "Developer", "Developer", "StandardV2"),
    "skus.front_door": (
        "Standard_AzureFrontDoor",
        "Standard_AzureFrontDoor",
        "Premium_AzureFrontDoor",
        "Premium_AzureFrontDoor",
    ),
    "skus.redis": ("Balanced_B0", "Balanced_B0", "Balanced_B0", "Balanced_B1"),
    # Prod's alerts fire sooner than the defaults; the others keep AlertThresholds().
    "monitoring.alerts.gateway_5xx_percent": (5.0, 5.0, 5.0, 1.0),
    "monitoring.alerts.gateway_latency_ms": (2000, 2000, 2000, 1000),
    "monitoring.alerts.active_messages_backlog": (1000, 1000, 1000, 500),
    "monitoring.alerts.function_failures": (5, 5, 5, 1),
    "monitoring.alerts.container_restarts": (3, 3, 3, 1),
    "monitoring.alerts.severity": (2, 2, 2, 1),
    "monitoring.alerts.dead_letter_messages": (1, 1, 1, 1),
    "network.firewall_subnet_cidr": (None, None, None, "10.2.6.0/26"),
    "network.enable_nat_gateway": (True, True, True, True),
    # Audit records: days unlocked where people test, MiFID II's seven years locked in prod.
    "audit.retention_days": (3, 7, 30, 2555),
    "audit.policy_locked": (False, False, False, True),
    "audit.storage_redundancy": ("LRS", "LRS", "GRS", "GRS"),
    "audit.personal_data_retention_days.orders": (7, 14, 30, 2555),
    "audit.personal_data_retention_days.users": (7, 14, 30, 365),
}


@pytest.mark.parametrize("path", sorted(MATRIX))
def test_matrix_values(path: str) -> None:
    for index, name in enumerate(("dev", "qa", "staging", "prod")):
        value: Any = get_environment_settings(name).model_dump(mode="json")
        for part in path.split("."):
            value = value[part]
        assert value == MATRIX[path][index], (path, name)


def test_leaves_are_found_only_where_the_given_config_has_them() -> None:
    from config.settings import _is_leaf

    given = {"a": "xyz", "b": [1, {"c": 2}], "d": {"e": 1}}
    assert _is_leaf(given, ("a",))
    assert not _is_leaf(given, ("a", 0))  # a position inside a string is no key
    assert _is_leaf(given, ("b", 0))
    assert not _is_leaf(given, ("b", 1))  # a map, not a leaf
    assert _is_leaf(given, ("b", 1, "c"))
    assert not _is_leaf(given, ("b", 2))
    assert not _is_leaf(given, ("b", "0"))
    assert not _is_leaf(given, ("d",))
    assert not _is_leaf(given, ("x",))


def test_allowed_keys_below_a_field_that_is_no_model_are_none() -> None:
    from config.settings import _allowed_keys

    assert _allowed_keys(("network", "subnets")) == []
    assert _allowed_keys(("network", "vnetCidr")) == []
    assert _allowed_keys(("nowhere",)) == []
    assert _allowed_keys(("monitoring",))[:3] == [
        "alerts",
        "budgetAlertThresholdsPercent",
        "dailyQuotaGb",
    ]


def test_leaf_lookups_never_index_past_what_was_given() -> None:
    from config.settings import _is_leaf

    given = {"a": "xyz", "b": [1, 2]}
    assert not _is_leaf(given, ("a", "y"))
    assert not _is_leaf(given, ("b", 3))
    assert not _is_leaf(given, ("b", 2))
    assert _is_leaf(given, ("b", 1))


def test_cross_field_problems_are_named_by_their_message_and_field_problems_by_key() -> None:
    overrides = '{"network": {"enableFirewall": true}, "monitoring": {"logRetentionDays": 1}}'
    with pytest.raises(SettingsError) as caught:
        load_stack_settings("dev", {**STACK, "platform:overrides": overrides})
    lines = str(caught.value).splitlines()[1:]
    assert lines[0] == (
        "  - Pulumi.dev.yaml: platform:overrides.network.enableFirewall is true but "
        "network.firewallSubnetCidr is not set; Azure Firewall needs its own "
        "AzureFirewallSubnet of /26 or larger"
    )
    # The problem after a cross-field one is still reported.
    assert lines[1].startswith(
        "  - Pulumi.dev.yaml: platform:overrides.monitoring.logRetentionDays = 1: "
    )


def test_a_wrong_type_is_not_reported_as_an_unknown_key() -> None:
    with pytest.raises(SettingsError) as caught:
        load_stack_settings(
            "dev", {**STACK, "platform:overrides": '{"features": {"enableCdn": "maybe"}}'}
        )
    message = str(caught.value)
    assert (
        'platform:overrides.features.enableCdn = "maybe": Input should be a valid boolean'
        in message
    )
    assert "unknown key" not in message


def test_values_already_decoded_and_digit_strings_pass_through() -> None:
    settings = load_stack_settings(
        "dev", {**STACK, "platform:owner": "123", "platform:alertEmails": ["a@example.com"]}
    )
    assert settings.deployment.owner == "123"
    assert settings.deployment.alert_emails == ("a@example.com",)


def test_sql_admin_login_needs_one_character() -> None:
    admin = {"sql_admin_object_id": "00000000-0000-0000-0000-000000000000"}
    DeploymentSettings.model_validate({**BASE, **admin, "sql_admin_login": "g"})
    with pytest.raises(ValidationError, match="at least 1"):
        DeploymentSettings.model_validate({**BASE, **admin, "sql_admin_login": ""})


def test_private_endpoints_with_basic_service_bus_and_registry_name_both() -> None:
    data = _env(
        "dev",
        security={"enable_private_endpoints": True},
        skus={"service_bus": "Basic", "container_registry": "Basic"},
    )
    _rejected(
        data,
        "skus.serviceBus = Basic with security.enablePrivateEndpoints",
        "skus.containerRegistry = Basic with",
    )


def test_basic_sql_with_less_than_seven_days_is_fine() -> None:
    assert (
        _validate_env(
            _env("dev", database={"backup_retention_days": 1})
        ).database.backup_retention_days
        == 1
    )


def test_stack_settings_are_frozen() -> None:
    settings = load_stack_settings("dev", STACK)
    with pytest.raises(ValidationError, match="frozen"):
        settings.stack = "prod"  # type: ignore[misc]


def test_secrets_are_read_once() -> None:
    from config.secrets import get_secrets

    get_secrets.cache_clear()
    assert get_secrets() is get_secrets()
    get_secrets.cache_clear()


def test_settings_models_are_frozen() -> None:
    from config.secrets import AppSecrets

    env = get_environment_settings("dev")
    with pytest.raises(ValidationError, match="frozen"):
        env.network.enable_firewall = True  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        AppSecrets().arm_use_oidc = True  # type: ignore[misc]


def test_zone_redundant_business_critical_keeps_long_restores() -> None:
    data = _env(
        "staging", skus={"sql_database": "BC_Gen5_2"}, database={"backup_retention_days": 14}
    )
    assert _validate_env(data).skus.sql_database == "BC_Gen5_2"
