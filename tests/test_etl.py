"""ETL layer per environment: staging storage security, lifecycle, grants, Data Factory by flag."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pytest

from config.settings import (
    ENVIRONMENTS,
    StackSettings,
    get_environment_settings,
    load_stack_settings,
)
from infra.core import Core, CoreArgs, Namer, base_tags
from infra.etl import CONTAINERS, DATA_FACTORY_CONTAINERS, Etl, EtlArgs, sku_name
from infra.etl.storage import LIFECYCLE_RULE_NAME, VERSION_RULE_NAME, storage_ip_rule
from infra.networking import Networking, NetworkingArgs
from infra.observability import DIAGNOSTIC_SETTING_NAME
from infra.security import BuiltInRole, Workload, WorkloadIdentity
from offline.engine import (
    SUBSCRIPTION_ID,
    ProgramRun,
    RecordedResource,
    load_stack_config,
    run_program,
)

ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
CONTAINER = "azure-native:storage:BlobContainer"
POLICY = "azure-native:storage:ManagementPolicy"
FACTORY = "azure-native:datafactory:Factory"
ROLE = "azure-native:authorization:RoleAssignment"
LOCK = "azure-native:authorization:ManagementLockByScope"
DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
ENDPOINT = "azure-native:network:PrivateEndpoint"
COMPONENT = "platform:etl:Etl"

RG_PATH = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-fake/providers"
WORKSPACE_ID = f"{RG_PATH}/Microsoft.OperationalInsights/workspaces/log-fake"
EGRESS_IP = "20.0.0.10"  # what the offline engine's NAT public IP resolves to
PRIVATE = ("staging", "prod")


def principal_of(workload: Workload) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"principal/{workload.value}"))


def fake_identities() -> dict[Workload, WorkloadIdentity]:
    """Stand-ins for the security layer's identities, with known principal ids."""
    return {
        w: WorkloadIdentity(
            id=pulumi.Output.from_input(
                f"{RG_PATH}/Microsoft.ManagedIdentity/userAssignedIdentities/id-{w.value}"
            ),
            name=pulumi.Output.from_input(f"id-{w.value}"),
            principal_id=pulumi.Output.from_input(principal_of(w)),
            client_id=pulumi.Output.from_input(str(uuid.uuid5(uuid.NAMESPACE_URL, w.value))),
        )
        for w in Workload
    }


class Platform:
    """What `__main__.py` hands the data layers, built from the real core and networking."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.env = settings.env
        self.tags = base_tags(settings, pulumi.get_project())
        deployment = settings.deployment
        self.namer = Namer(deployment.workload, self.env.environment, deployment.region_code)
        self.core = Core(
            "core", CoreArgs(location=deployment.location, namer=self.namer, tags=self.tags)
        )
        self.networking = Networking(
            "networking",
            NetworkingArgs(
                placement=self.core.placement(self.env),
                workspace_id=WORKSPACE_ID,
            ),
        )
        egress = self.networking.egress_public_ip
        self.allowed_ip_ranges: list[pulumi.Input[str]] = [
            *deployment.allowed_ip_ranges,
            *([egress] if egress is not None else []),
        ]
        self.identities = fake_identities()
        self.subscription_id = SUBSCRIPTION_ID
        self.workspace_id = WORKSPACE_ID


def build_etl(platform: Platform, **extra: Any) -> Etl:
    """Exactly what `__main__.py` does for the ETL layer (it has no feature flag of its own)."""
    return Etl(
        "etl",
        EtlArgs(
            placement=platform.core.placement(platform.env),
            allowed_ip_ranges=platform.allowed_ip_ranges,
            identities=platform.identities,
            subscription_id=platform.subscription_id,
            private_endpoint_site=platform.networking.private_endpoint_site,
            workspace_id=platform.workspace_id,
            **extra,
        ),
    )


def run_layer(
    stack: str,
    build: Callable[[Platform], None],
    overrides: Mapping[str, Any] | None = None,
) -> ProgramRun:
    """Run core + networking + `build` for a stack file, with optional settings overrides."""
    config, secrets = load_stack_config(stack)
    if overrides:
        config = {**config, "platform:overrides": json.dumps(overrides)}

    def program() -> None:
        build(Platform(load_stack_settings(stack, config)))

    return run_program(stack, config=config, secret_keys=secrets, program=program)


def _export_etl(platform: Platform) -> None:
    _export_etl_with(platform)


def _export_etl_with(platform: Platform, **extra: Any) -> None:
    etl = build_etl(platform, **extra)
    pulumi.export("blob_endpoint", etl.blob_endpoint)
    pulumi.export("storage_account_name", etl.storage_account_name)


@functools.cache
def layer_run(stack: str) -> ProgramRun:
    return run_layer(stack, _export_etl)


@pytest.fixture(params=ENVIRONMENTS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _account(run: ProgramRun) -> RecordedResource:
    return run.one(ACCOUNT)


def _containers(run: ProgramRun) -> dict[str, RecordedResource]:
    return {c.inputs["containerName"]: c for c in run.by_type(CONTAINER)}


def test_runs_without_errors_or_input_problems(stack: str) -> None:
    run = layer_run(stack)
    assert run.error is None
    assert [str(p) for p in run.problems] == []


def test_storage_account_is_entra_only_https_tls12_and_private(stack: str) -> None:
    inputs = _account(layer_run(stack)).inputs
    assert inputs["kind"] == "StorageV2"
    assert inputs["sku"] == {
        "name": "Standard_GRS" if stack in ("staging", "prod") else "Standard_LRS"
    }
    assert inputs["enableHttpsTrafficOnly"] is True
    assert inputs["minimumTlsVersion"] == "TLS1_2"
    assert inputs["allowBlobPublicAccess"] is False
    assert inputs["allowSharedKeyAccess"] is False
    assert inputs["defaultToOAuthAuthentication"] is True
    assert inputs["allowCrossTenantReplication"] is False
    assert inputs["networkRuleSet"]["defaultAction"] == "Deny"
    assert inputs["networkRuleSet"]["bypass"] == "AzureServices"
    assert inputs["accountName"].startswith("stplatetl")
    assert len(inputs["accountName"]) <= 24
    assert inputs["tags"]["layer"] == "etl"


def test_redundancy_keeps_the_archive_tier_available() -> None:
    # ZRS/GZRS accounts cannot hold archive-tier blobs; staging and prod archive their files.
    for stack in ("staging", "prod"):
        etl = get_environment_settings(stack).etl
        assert etl.archive_after_days is not None
        assert sku_name(etl) == "Standard_GRS"


def test_public_access_off_and_blob_endpoint_only_where_private_endpoints_are(stack: str) -> None:
    run = layer_run(stack)
    account = _account(run)
    rules = account.inputs["networkRuleSet"]
    endpoints = [
        e
        for e in run.by_type(ENDPOINT)
        if e.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == account.id
    ]
    if stack in PRIVATE:
        assert account.inputs["publicNetworkAccess"] == "Disabled"
        assert rules["ipRules"] == []
        (endpoint,) = endpoints
        assert endpoint.inputs["privateLinkServiceConnections"][0]["groupIds"] == ["blob"]
        data_subnet = next(
            s for s in run.by_type("azure-native:network:Subnet") if s.name.endswith("snet-data")
        )
        assert endpoint.inputs["subnet"]["id"] == data_subnet.id
        zone = next(
            z
            for z in run.by_type("azure-native:privatedns:PrivateZone")
            if z.inputs["privateZoneName"] == "privatelink.blob.core.windows.net"
        )
        group = next(
            g
            for g in run.by_type("azure-native:network:PrivateDnsZoneGroup")
            if g.parent == endpoint.urn
        )
        assert group.inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == zone.id
        assert endpoint.inputs["tags"]["layer"] == "etl"
    else:
        assert account.inputs["publicNetworkAccess"] == "Enabled"
        assert endpoints == []
        assert {"iPAddressOrRange": EGRESS_IP, "action": "Allow"} in rules["ipRules"]


def test_operator_ranges_reach_the_firewall_where_it_is_public() -> None:
    # qa with an operator range: the range and the NAT address, nothing else.
    run = run_layer(
        "qa",
        _export_etl,
    )
    assert _account(run).inputs["networkRuleSet"]["ipRules"] == [
        {"iPAddressOrRange": EGRESS_IP, "action": "Allow"}
    ]
    config, secrets = load_stack_config("qa")
    config["platform:allowedIpRanges"] = json.dumps(["203.0.113.0/24", "198.51.100.7/32"])

    def program() -> None:
        _export_etl(Platform(load_stack_settings("qa", config)))

    with_ranges = run_program("qa", config=config, secret_keys=secrets, program=program)
    assert with_ranges.problems == []
    assert [
        r["iPAddressOrRange"] for r in _account(with_ranges).inputs["networkRuleSet"]["ipRules"]
    ] == [
        "203.0.113.0/24",
        "198.51.100.7",  # storage refuses /32: a single address goes bare
        EGRESS_IP,
    ]


def test_subnet_rules_only_where_the_account_is_public() -> None:
    subnet = f"{RG_PATH}/Microsoft.Network/virtualNetworks/vnet/subnets/snet-functions"
    expected = {"qa": [{"virtualNetworkResourceId": subnet, "action": "Allow"}], "prod": []}
    for stack, rules in expected.items():
        run = run_layer(stack, lambda p: _export_etl_with(p, allowed_subnet_ids=[subnet]))
        assert run.problems == []
        assert _account(run).inputs["networkRuleSet"]["virtualNetworkRules"] == rules
    # Without subnets (today's wiring) there are none.
    assert _account(layer_run("dev")).inputs["networkRuleSet"]["virtualNetworkRules"] == []


def test_storage_ip_rule_refuses_a_31() -> None:
    with pytest.raises(ValueError, match="/31"):
        storage_ip_rule("198.51.100.6/31")


def test_blob_soft_delete_and_versioning_follow_the_settings(stack: str) -> None:
    run, env = layer_run(stack), get_environment_settings(stack)
    service = run.one(BLOB_SERVICE).inputs
    days = env.etl.soft_delete_days
    assert service["blobServicesName"] == "default"
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": days}
    assert service["containerDeleteRetentionPolicy"] == {"enabled": True, "days": days}
    assert service["isVersioningEnabled"] is True
    assert service["accountName"] == _account(run).inputs["accountName"]


def test_three_private_containers(stack: str) -> None:
    containers = _containers(layer_run(stack))
    assert sorted(containers) == ["archive", "raw", "staged"]
    for container in containers.values():
        assert container.inputs["publicAccess"] == "None"


def test_lifecycle_days_come_from_the_settings(stack: str) -> None:
    run, etl = layer_run(stack), get_environment_settings(stack).etl
    (policy,) = run.by_type(POLICY)
    assert policy.inputs["managementPolicyName"] == "default"
    assert policy.inputs["accountName"] == _account(run).inputs["accountName"]
    rules = {r["name"]: r for r in policy.inputs["policy"]["rules"]}
    assert set(rules) == {LIFECYCLE_RULE_NAME, VERSION_RULE_NAME}
    for rule in rules.values():
        assert rule["enabled"] is True and rule["type"] == "Lifecycle"
        assert rule["definition"]["filters"] == {
            "blobTypes": ["blockBlob"],
            "prefixMatch": ["raw/", "staged/", "archive/"],
        }
    base = rules[LIFECYCLE_RULE_NAME]["definition"]["actions"]["baseBlob"]
    assert base["tierToCool"] == {"daysAfterModificationGreaterThan": etl.cool_after_days}
    if etl.archive_after_days is None:
        assert "tierToArchive" not in base
    else:
        assert base["tierToArchive"] == {"daysAfterModificationGreaterThan": etl.archive_after_days}
    assert base["delete"] == {"daysAfterModificationGreaterThan": etl.delete_after_days}
    versions = rules[VERSION_RULE_NAME]["definition"]["actions"]["version"]
    assert versions["delete"] == {"daysAfterCreationGreaterThan": etl.soft_delete_days}


def test_prod_keeps_files_seven_years() -> None:
    assert get_environment_settings("prod").etl.delete_after_days == 2555
    rules = layer_run("prod").one(POLICY).inputs["policy"]["rules"]
    base = next(r for r in rules if r["name"] == LIFECYCLE_RULE_NAME)
    assert base["definition"]["actions"]["baseBlob"]["delete"] == {
        "daysAfterModificationGreaterThan": 2555
    }


def test_diagnostics_metrics_on_account_and_logs_on_blob_service(stack: str) -> None:
    run = layer_run(stack)
    account = _account(run)
    settings = {d.inputs["resourceUri"]: d.inputs for d in run.by_type(DIAGNOSTIC)}
    on_account = settings[account.id]
    assert on_account["workspaceId"] == WORKSPACE_ID
    assert on_account.get("logs") is None
    # Storage answers AllMetrics with 400 BadRequest: Transaction it accepts.
    assert on_account["metrics"] == [{"category": "Transaction", "enabled": True}]
    on_blob = settings[f"{account.id}/blobServices/default"]
    assert on_blob["workspaceId"] == WORKSPACE_ID
    assert on_blob["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    assert on_blob["metrics"] == [{"category": "Transaction", "enabled": True}]
    assert on_blob["name"] == on_account["name"] == DIAGNOSTIC_SETTING_NAME


def _grants(run: ProgramRun) -> list[dict[str, Any]]:
    return [r.inputs for r in run.by_type(ROLE)]


def test_worker_gets_blob_data_contributor_on_each_container_only(stack: str) -> None:
    run = layer_run(stack)
    containers = _containers(run)
    account = _account(run)
    workers = principal_of(Workload.WORKERS)
    worker_grants = [g for g in _grants(run) if g["principalId"] == workers]
    container_ids = sorted(str(c.id) for c in containers.values())
    assert sorted(g["scope"] for g in worker_grants) == container_ids
    for grant in worker_grants:
        assert grant["roleDefinitionId"] == (
            f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/"
            f"roleDefinitions/{BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR.value}"
        )
        assert grant["principalType"] == "ServicePrincipal"
    # Nothing is granted on the account itself, and no other workload gets blob access.
    assert all(g["scope"] != account.id for g in _grants(run))
    others = {principal_of(w) for w in Workload if w is not Workload.WORKERS}
    assert not [g for g in _grants(run) if g["principalId"] in others]


def test_data_factory_only_in_dev_with_its_own_identity(stack: str) -> None:
    run = layer_run(stack)
    factories = run.by_type(FACTORY)
    component = run.one(COMPONENT)
    if not get_environment_settings(stack).features.enable_data_factory:
        assert stack != "dev"
        assert factories == []
        assert component.outputs.get("data_factory_id") is None
        assert len(_grants(run)) == len(CONTAINERS)
        return
    assert stack == "dev"
    (factory,) = factories
    assert factory.inputs["identity"] == {"type": "SystemAssigned"}
    assert factory.inputs["publicNetworkAccess"] == "Enabled"
    assert "repoConfiguration" not in factory.inputs
    assert factory.inputs["factoryName"].startswith("adf-plat-etl-dev-")
    assert component.outputs["data_factory_id"] == factory.id
    principal = factory.outputs["identity"]["principalId"]
    containers = _containers(run)
    grants = [g for g in _grants(run) if g["principalId"] == principal]
    assert sorted(g["scope"] for g in grants) == sorted(
        str(containers[c.value].id) for c in DATA_FACTORY_CONTAINERS
    )
    assert all(
        g["roleDefinitionId"].endswith(BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR.value)
        for g in grants
    )
    diagnostics = [d for d in run.by_type(DIAGNOSTIC) if d.inputs["resourceUri"] == factory.id]
    assert len(diagnostics) == 1
    assert diagnostics[0].inputs["logAnalyticsDestinationType"] == "Dedicated"


def test_data_factory_goes_private_with_the_environment() -> None:
    run = run_layer("staging", _export_etl, overrides={"features": {"enableDataFactory": True}})
    assert run.error is None and run.problems == []
    assert run.one(FACTORY).inputs["publicNetworkAccess"] == "Disabled"


def test_prod_storage_is_protected_and_locked(stack: str) -> None:
    run = layer_run(stack)
    account = _account(run)
    locks = run.by_type(LOCK)
    if stack == "prod":
        assert account.protect is True
        (lock,) = locks
        assert lock.inputs["scope"] == account.id
        assert lock.inputs["level"] == "CanNotDelete"
    else:
        assert account.protect is False
        assert locks == []


def test_outputs_name_the_account_and_hold_no_keys(stack: str) -> None:
    run = layer_run(stack)
    account = _account(run)
    outputs = run.one(COMPONENT).outputs
    assert outputs["storage_account_id"] == account.id
    assert outputs["storage_account_name"] == account.inputs["accountName"]
    assert (
        outputs["blob_endpoint"]
        == f"https://{account.inputs['accountName']}.blob.core.windows.net/"
    )
    assert outputs["container_names"] == ["raw", "staged", "archive"]
    text = json.dumps([outputs, run.stack_outputs]).lower()
    for secret_marker in ("accountkey", "connectionstring", "sharedaccesssignature", "sig="):
        assert secret_marker not in text
