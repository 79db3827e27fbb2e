"""Security layer per environment: Key Vault protection, identities, grants, WAF."""

from __future__ import annotations

import uuid

import pytest

from config.settings import ENVIRONMENTS, get_environment_settings
from infra.security import BuiltInRole, Workload
from offline.engine import run_program
from tests.conftest import stack_run

VAULT = "azure-native:keyvault:Vault"
ROLE = "azure-native:authorization:RoleAssignment"


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_key_vault_follows_the_environment(stack: str) -> None:
    run, env = stack_run(stack), get_environment_settings(stack)
    vault = run.one(VAULT)
    props = vault.inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["softDeleteRetentionInDays"] == env.security.soft_delete_retention_days
    assert props.get("enablePurgeProtection") is (True if stack == "prod" else None)
    assert props["networkAcls"]["defaultAction"] == "Deny"
    assert props["sku"] == {"family": "A", "name": "standard"}
    assert vault.inputs["vaultName"].startswith("kv-plat-")
    assert len(vault.inputs["vaultName"]) <= 24


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_vault_public_access_and_private_endpoint(stack: str) -> None:
    run = stack_run(stack)
    vault = run.one(VAULT)
    props = vault.inputs["properties"]
    endpoints = [
        e
        for e in run.by_type("azure-native:network:PrivateEndpoint")
        if e.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == vault.id
    ]
    if stack in ("staging", "prod"):
        assert props["publicNetworkAccess"] == "Disabled"
        assert props["networkAcls"]["ipRules"] == []
        (endpoint,) = endpoints
        assert endpoint.inputs["privateLinkServiceConnections"][0]["groupIds"] == ["vault"]
        data_subnet = next(
            s for s in run.by_type("azure-native:network:Subnet") if s.name.endswith("snet-data")
        )
        assert endpoint.inputs["subnet"]["id"] == data_subnet.id
        group = next(
            g
            for g in run.by_type("azure-native:network:PrivateDnsZoneGroup")
            if g.parent == endpoint.urn
        )
        zone = next(
            z
            for z in run.by_type("azure-native:privatedns:PrivateZone")
            if z.inputs["privateZoneName"] == "privatelink.vaultcore.azure.net"
        )
        assert group.inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == zone.id
    else:
        assert props["publicNetworkAccess"] == "Enabled"
        assert endpoints == []
        # The platform's own egress address is let through the vault firewall.
        assert {"value": run.stack_outputs["egress_public_ip"]} in props["networkAcls"]["ipRules"]


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_vault_sends_diagnostics_to_the_workspace(stack: str) -> None:
    run = stack_run(stack)
    vault = run.one(VAULT)
    workspace = run.one("azure-native:operationalinsights:Workspace")
    settings = [
        d
        for d in run.by_type("azure-native:monitor:DiagnosticSetting")
        if d.inputs["resourceUri"] == vault.id
    ]
    assert len(settings) == 1
    assert settings[0].inputs["workspaceId"] == workspace.id


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_prod_vault_is_protected_and_locked(stack: str) -> None:
    run = stack_run(stack)
    vault = run.one(VAULT)
    locks = [
        lock
        for lock in run.by_type("azure-native:authorization:ManagementLockByScope")
        if lock.inputs["scope"] == vault.id
    ]
    if stack == "prod":
        assert vault.protect is True
        (lock,) = locks
        assert lock.inputs["scope"] == vault.id
        assert lock.inputs["level"] == "CanNotDelete"
    else:
        assert vault.protect is False
        assert locks == []


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_one_identity_per_workload_and_no_vault_wide_grant(stack: str) -> None:
    # Secret reads are granted per secret (tests/test_keyvault_secrets.py), never on the vault.
    run = stack_run(stack)
    identities = run.by_type("azure-native:managedidentity:UserAssignedIdentity")
    assert {i.inputs["tags"]["workload"] for i in identities} == {w.value for w in Workload}
    vault = run.one(VAULT)
    assert [r for r in run.by_type(ROLE) if r.inputs["scope"] == vault.id] == []


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_every_workload_may_publish_telemetry_and_nothing_more_there(stack: str) -> None:
    run = stack_run(stack)
    insights = run.one("azure-native:applicationinsights:Component")
    grants = [r for r in run.by_type(ROLE) if r.inputs["scope"] == insights.id]
    assert len(grants) == len(Workload)
    for grant in grants:
        assert grant.inputs["roleDefinitionId"].endswith(
            BuiltInRole.MONITORING_METRICS_PUBLISHER.value
        )


def test_role_assignment_names_are_stable_guids() -> None:
    first = {r.name: r.inputs["roleAssignmentName"] for r in stack_run("dev").by_type(ROLE)}
    again = {r.name: r.inputs["roleAssignmentName"] for r in run_program("dev").by_type(ROLE)}
    assert first == again
    for name in first.values():
        uuid.UUID(name)
    assert len(set(first.values())) == len(first)
    other = {r.inputs["roleAssignmentName"] for r in stack_run("prod").by_type(ROLE)}
    assert not set(first.values()) & other


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_waf_policy_mode_and_rules(stack: str) -> None:
    run, env = stack_run(stack), get_environment_settings(stack)
    policies = run.by_type("azure-native:frontdoor:Policy")
    if not env.features.enable_cdn:
        assert policies == []  # no Front Door in dev and qa, so nothing to attach a WAF to
        return
    (waf,) = policies
    assert waf.inputs["policySettings"]["mode"] == "Prevention"
    assert waf.inputs["policySettings"]["enabledState"] == "Enabled"
    (rule,) = waf.inputs["customRules"]["rules"]
    assert rule["ruleType"] == "RateLimitRule"
    assert rule["rateLimitThreshold"] == env.security.waf_rate_limit_per_minute
    managed = waf.inputs.get("managedRules")
    # Staging mirrors prod: Premium, with the managed rule sets.
    assert env.security.waf_managed_rules
    assert waf.inputs["sku"]["name"] == "Premium_AzureFrontDoor"
    assert {s["ruleSetType"] for s in managed["managedRuleSets"]} == {
        "Microsoft_DefaultRuleSet",
        "Microsoft_BotManagerRuleSet",
    }


def test_dev_qa_waf_mode_is_detection_in_settings() -> None:
    for stack in ("dev", "qa"):
        assert get_environment_settings(stack).security.waf_mode == "Detection"
