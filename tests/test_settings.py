"""The environment matrix matches seed 003, and bad stack config stops before anything deploys."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable

import pytest

from config.settings import (
    ENVIRONMENTS,
    ApimSku,
    FrontDoorSku,
    FunctionsPlan,
    ServiceBusSku,
    SettingsError,
    SubnetName,
    get_environment_settings,
    load_stack_settings,
)
from offline.engine import ProgramRun

BASE = {"platform:location": "westus2", "platform:owner": "team", "platform:costCenter": "CC-1"}

# Seed 003, "Environment-Specific Settings" and "Network Isolation by Environment".
SEED = {
    "dev": dict(
        cidr="10.0.0.0/16", ddos=False, fw=False, pe=False, purge=False, soft=7, logs=30, quota=1
    ),
    "qa": dict(
        cidr="10.3.0.0/16", ddos=False, fw=False, pe=False, purge=False, soft=14, logs=30, quota=2
    ),
    "staging": dict(
        cidr="10.1.0.0/16", ddos=False, fw=False, pe=True, purge=False, soft=30, logs=60, quota=5
    ),
    "prod": dict(
        cidr="10.2.0.0/16", ddos=True, fw=True, pe=True, purge=True, soft=90, logs=365, quota=None
    ),
}
# Seed 003, "Feature Flags".
FLAGS = {
    "enable_api_management": {"dev": True, "qa": False, "staging": True, "prod": True},
    "enable_cdn": {"dev": False, "qa": False, "staging": True, "prod": True},
    "enable_data_factory": {"dev": True, "qa": False, "staging": False, "prod": False},
    "enable_redis": {"dev": True, "qa": False, "staging": False, "prod": True},
    "enable_cosmos_db": {"dev": True, "qa": False, "staging": False, "prod": False},
    "enable_container_apps": dict.fromkeys(ENVIRONMENTS, True),
    "enable_functions": dict.fromkeys(ENVIRONMENTS, True),
    "enable_service_bus": dict.fromkeys(ENVIRONMENTS, True),
    "enable_sql_database": dict.fromkeys(ENVIRONMENTS, True),
}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_defaults_match_seed_tables(env: str) -> None:
    settings = get_environment_settings(env)
    seed = SEED[env]
    assert settings.network.vnet_cidr == seed["cidr"]
    assert settings.network.enable_ddos_protection is seed["ddos"]
    assert settings.network.enable_firewall is seed["fw"]
    assert settings.security.enable_private_endpoints is seed["pe"]
    assert settings.security.enable_purge_protection is seed["purge"]
    assert settings.security.soft_delete_retention_days == seed["soft"]
    assert settings.monitoring.log_retention_days == seed["logs"]
    assert settings.monitoring.daily_quota_gb == seed["quota"]
    for flag, per_env in FLAGS.items():
        assert getattr(settings.features, flag) is per_env[env], flag


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_six_slash_24_subnets_inside_the_vnet(env: str) -> None:
    network = get_environment_settings(env).network
    vnet = ipaddress.IPv4Network(network.vnet_cidr)
    assert list(network.subnets) == list(SubnetName)
    nets = [ipaddress.IPv4Network(c) for c in network.subnets.values()]
    assert all(n.prefixlen == 24 and n.subnet_of(vnet) for n in nets)
    assert len({n.network_address for n in nets}) == 6


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_skus_are_ones_azure_accepts(env: str) -> None:
    settings = get_environment_settings(env)
    assert settings.skus.service_bus is not ServiceBusSku.BASIC
    assert settings.skus.functions_plan is FunctionsPlan.FLEX_CONSUMPTION
    if settings.security.enable_private_endpoints:
        assert settings.skus.service_bus is ServiceBusSku.PREMIUM
    assert settings.skus.api_management not in {ApimSku.CONSUMPTION, ApimSku.STANDARD}


def test_stack_file_values_are_loaded() -> None:
    settings = load_stack_settings(
        "prod",
        {
            **BASE,
            "platform:alertEmails": json.dumps(["a@example.com"]),
            "platform:overrides": json.dumps({"monitoring": {"logRetentionDays": 400}}),
        },
    )
    assert settings.environment == "prod"
    assert settings.deployment.alert_emails == ("a@example.com",)
    assert settings.env.monitoring.log_retention_days == 400
    # Overrides change only what they name.
    assert settings.env.security.soft_delete_retention_days == 90


def test_environment_key_maps_a_stack_name_to_an_environment() -> None:
    settings = load_stack_settings("prod-weu", {**BASE, "platform:environment": "prod"})
    assert settings.environment == "prod"
    assert settings.stack == "prod-weu"


BAD_CONFIG = [
    pytest.param(
        {"platform:colour": "blue"},
        ["Pulumi.dev.yaml", "platform:colour", "allowed:", "platform:owner"],
        id="unknown-key",
    ),
    pytest.param(
        {"platform:overrides": {"network": {"vnetCidr": "10.0.0.0/33"}}},
        ["Pulumi.dev.yaml", "platform:overrides.network.vnetCidr", '"10.0.0.0/33"', "CIDR"],
        id="malformed-cidr",
    ),
    pytest.param(
        {"platform:overrides": {"network": {"subnets": {"data": "10.0.0.128/25"}}}},
        ["Pulumi.dev.yaml", "network.subnets.data = 10.0.0.128/25", "overlaps gateway"],
        id="overlapping-subnets",
    ),
    pytest.param(
        {"platform:overrides": {"network": {"subnets": {"app": "10.9.1.0/24"}}}},
        ["Pulumi.dev.yaml", "network.subnets.app = 10.9.1.0/24", "outside", "10.0.0.0/16"],
        id="subnet-outside-vnet",
    ),
    pytest.param(
        {"platform:overrides": {"monitoring": {"logRetentionDays": -5}}},
        [
            "Pulumi.dev.yaml",
            "platform:overrides.monitoring.logRetentionDays",
            "-5",
            "greater than or equal to 30",
        ],
        id="negative-retention",
    ),
    pytest.param(
        {"platform:overrides": {"security": {"softDeleteRetentionDays": 120}}},
        ["platform:overrides.security.softDeleteRetentionDays", "120", "less than or equal to 90"],
        id="soft-delete-out-of-range",
    ),
    pytest.param(
        {"platform:overrides": {"skus": {"serviceBus": "Basic"}}},
        ["skus.serviceBus = Basic", "no topics", "allowed: Standard, Premium"],
        id="service-bus-basic",
    ),
    pytest.param(
        {"platform:overrides": {"security": {"enablePrivateEndpoints": True}}},
        ["skus.serviceBus = Standard", "private endpoints need Premium"],
        id="private-endpoints-without-premium",
    ),
    pytest.param(
        {"platform:overrides": {"skus": {"apiManagement": "Consumption"}}},
        [
            "skus.apiManagement = Consumption",
            "cannot reach the internal Container Apps",
            "allowed:",
        ],
        id="apim-consumption-with-container-apps",
    ),
    pytest.param(
        {"platform:overrides": {"skus": {"functionsPlan": "Consumption"}}},
        ["skus.functionsPlan = Consumption", "cannot join a VNet", "FlexConsumption"],
        id="functions-consumption",
    ),
    pytest.param(
        {"platform:overrides": {"security": {"wafManagedRules": True}}},
        [
            "security.wafManagedRules = true with skus.frontDoor = Standard_AzureFrontDoor",
            "need Front Door Premium",
            "allowed: skus.frontDoor = Premium_AzureFrontDoor, or security.wafManagedRules = false",
        ],
        id="managed-waf-on-front-door-standard",
    ),
    pytest.param(
        {"platform:overrides": {"database": {"backupRetentionDays": 14}}},
        ["database.backupRetentionDays = 14", "Basic keeps at most 7 days"],
        id="sql-basic-long-retention",
    ),
    pytest.param(
        {"platform:overrides": {"skus": {"sqlDatabase": "S9"}}},
        ["platform:overrides.skus.sqlDatabase", '"S9"', "'Basic'"],
        id="unknown-sku",
    ),
    pytest.param(
        {"platform:overrides": {"network": {"enableFirewall": True}}},
        ["network.enableFirewall is true", "firewallSubnetCidr"],
        id="firewall-without-subnet",
    ),
    pytest.param(
        {"platform:overrides": {"monitoring": {"retention": 30}}},
        ["platform:overrides.monitoring.retention", "unknown key", "allowed:", "logRetentionDays"],
        id="unknown-override-key",
    ),
    pytest.param(
        {"platform:location": "atlantis"},
        ["platform:location", '"atlantis"', "unknown Azure region", "westus2"],
        id="unknown-region",
    ),
    pytest.param(
        {"platform:alertEmails": json.dumps(["not-an-email"])},
        ["platform:alertEmails.0", "not an e-mail address"],
        id="bad-email",
    ),
    pytest.param(
        {"platform:allowedIpRanges": json.dumps(["0.0.0.0/0"])},
        ["platform:allowedIpRanges.0", "wider than /8"],
        id="allow-the-whole-internet",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), BAD_CONFIG)
def test_bad_config_is_rejected_with_a_clear_message(
    changes: dict[str, object], expected: list[str]
) -> None:
    config = {
        **BASE,
        **{k: json.dumps(v) if isinstance(v, dict) else v for k, v in changes.items()},
    }
    with pytest.raises(SettingsError) as caught:
        load_stack_settings("dev", config)
    for fragment in expected:
        assert fragment in str(caught.value)


@pytest.mark.parametrize(("changes", "expected"), BAD_CONFIG[:5])
def test_bad_config_stops_the_program_before_any_resource(
    run_with: Callable[..., ProgramRun], changes: dict[str, object], expected: list[str]
) -> None:
    encoded = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in changes.items()}
    run = run_with("dev", **encoded)
    assert run.error is not None
    for fragment in expected:
        assert fragment in run.error
    assert run.resources == {}


def test_unknown_stack_is_rejected_before_any_resource(
    run_with: Callable[..., ProgramRun],
) -> None:
    from offline.engine import run_program

    run = run_program("perf", config=BASE)
    assert run.error is not None
    assert "unknown stack 'perf'" in run.error
    assert "dev, qa, staging, prod" in run.error
    assert run.resources == {}


def test_several_problems_are_reported_together() -> None:
    config = {
        **BASE,
        "platform:location": "atlantis",
        "platform:overrides": json.dumps({"monitoring": {"logRetentionDays": 1}}),
    }
    with pytest.raises(SettingsError) as caught:
        load_stack_settings("dev", config)
    message = str(caught.value)
    assert "platform:location" in message and "logRetentionDays" in message


def test_missing_required_stack_values_are_named() -> None:
    with pytest.raises(SettingsError) as caught:
        load_stack_settings("dev", {"platform:location": "westus2"})
    assert "platform:owner" in str(caught.value)
    assert "platform:costCenter" in str(caught.value)


def test_prod_cannot_turn_purge_protection_off() -> None:
    config = {
        **BASE,
        "platform:overrides": json.dumps({"security": {"enablePurgeProtection": False}}),
    }
    with pytest.raises(SettingsError, match="enablePurgeProtection = false in prod"):
        load_stack_settings("prod", config)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_a_prod_mirror_cannot_run_front_door_standard(stack: str) -> None:
    config = {
        **BASE,
        "platform:overrides": json.dumps({"skus": {"frontDoor": "Standard_AzureFrontDoor"}}),
    }
    with pytest.raises(SettingsError) as caught:
        load_stack_settings(stack, config)
    assert "security.wafManagedRules = true with skus.frontDoor = Standard_AzureFrontDoor" in str(
        caught.value
    )


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_a_prod_mirror_keeps_the_managed_waf(stack: str) -> None:
    config = {**BASE, "platform:overrides": json.dumps({"security": {"wafManagedRules": False}})}
    with pytest.raises(SettingsError, match=f"security.wafManagedRules = false in {stack}"):
        load_stack_settings(stack, config)


def test_a_prod_mirror_without_front_door_needs_no_managed_waf() -> None:
    overrides = {"features": {"enableCdn": False}, "security": {"wafManagedRules": False}}
    config = {**BASE, "platform:overrides": json.dumps(overrides)}
    assert not load_stack_settings("staging", config).env.security.waf_managed_rules


def test_staging_runs_front_door_premium_with_managed_rules_like_prod() -> None:
    for stack in ("staging", "prod"):
        env = get_environment_settings(stack)
        assert env.skus.front_door is FrontDoorSku.PREMIUM
        assert env.security.waf_managed_rules


def test_public_service_bus_with_no_range_to_admit_is_refused() -> None:
    config = {
        **BASE,
        "platform:overrides": json.dumps({"network": {"enableNatGateway": False}}),
    }
    with pytest.raises(SettingsError) as caught:
        load_stack_settings("dev", config)
    message = str(caught.value)
    assert "Pulumi.dev.yaml: platform:allowedIpRanges is empty" in message
    assert "allow-all" in message and "security.enablePrivateEndpoints = true" in message
    with_range = {**config, "platform:allowedIpRanges": json.dumps(["203.0.113.0/24"])}
    assert load_stack_settings("dev", with_range).deployment.allowed_ip_ranges
