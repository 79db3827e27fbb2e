"""Audit layer per stack: WORM from the account's creation, one container, one writer."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from config.settings import ENVIRONMENTS, get_environment_settings, load_stack_settings
from infra.audit import AUDIT_CONTAINER, AUDIT_PURPOSE, PURPOSE_TAG, AuditTrail, AuditTrailArgs
from infra.core import Core, CoreArgs, Namer, base_tags
from offline.engine import ProgramRun, RecordedResource, load_stack_config, run_program
from tests.conftest import stack_run

ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
CONTAINER = "azure-native:storage:BlobContainer"
POLICY = "azure-native:storage:ManagementPolicy"
ROLE = "azure-native:authorization:RoleAssignment"
LOCK = "azure-native:authorization:ManagementLockByScope"
DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
ENDPOINT = "azure-native:network:PrivateEndpoint"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
COMPONENT = "platform:audit:AuditTrail"
CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
PRIVATE = ("staging", "prod")


@pytest.fixture(params=ENVIRONMENTS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _mine(run: ProgramRun, type_token: str) -> list[RecordedResource]:
    return [r for r in run.by_type(type_token) if run.layer_of(r) == "audit"]


def _account(run: ProgramRun) -> RecordedResource:
    (account,) = _mine(run, ACCOUNT)
    return account


def test_runs_without_errors_or_input_problems(stack: str) -> None:
    run = stack_run(stack)
    assert run.error is None
    assert [str(p) for p in run.problems] == []
    assert _mine(run, ACCOUNT), "every stack has the audit layer"


def test_account_is_entra_only_storagev2_without_hierarchical_namespace(stack: str) -> None:
    inputs = _account(stack_run(stack)).inputs
    assert inputs["kind"] == "StorageV2"
    # Version-level immutability is not supported with a hierarchical namespace.
    assert inputs["isHnsEnabled"] is False
    assert inputs["allowSharedKeyAccess"] is False
    assert inputs["defaultToOAuthAuthentication"] is True
    assert inputs["minimumTlsVersion"] == "TLS1_2"
    assert inputs["allowBlobPublicAccess"] is False
    assert inputs["enableHttpsTrafficOnly"] is True
    assert inputs["accountName"].startswith(f"stplataud{'stg' if stack == 'staging' else stack}")
    assert len(inputs["accountName"]) <= 24
    assert inputs["tags"][PURPOSE_TAG] == AUDIT_PURPOSE
    assert inputs["tags"]["layer"] == "audit"
    redundancy = get_environment_settings(stack).audit.storage_redundancy
    assert inputs["sku"] == {"name": f"Standard_{redundancy}"}


def test_version_level_worm_with_the_account_default_policy_from_settings(stack: str) -> None:
    audit = get_environment_settings(stack).audit
    worm = _account(stack_run(stack)).inputs["immutableStorageWithVersioning"]
    assert worm == {
        "enabled": True,
        "immutabilityPolicy": {
            "immutabilityPeriodSinceCreationInDays": audit.retention_days,
            "state": "Locked" if stack == "prod" else "Unlocked",
            "allowProtectedAppendWrites": False,
        },
    }


def test_prod_keeps_seven_years_locked() -> None:
    policy = _account(stack_run("prod")).inputs["immutableStorageWithVersioning"]
    assert policy["immutabilityPolicy"]["immutabilityPeriodSinceCreationInDays"] == 2555
    assert policy["immutabilityPolicy"]["state"] == "Locked"


def test_the_creating_deploy_of_a_locked_stack_creates_the_policy_unlocked(
    run_with: Callable[..., ProgramRun],
) -> None:
    overrides = json.dumps({"audit": {"createUnlocked": True}})
    run = run_with("prod", **{"platform:overrides": overrides})
    assert run.error is None, run.error
    policy = _account(run).inputs["immutableStorageWithVersioning"]["immutabilityPolicy"]
    assert policy["state"] == "Unlocked"
    assert policy["immutabilityPeriodSinceCreationInDays"] == 2555


def test_versioning_on_and_one_worm_container(stack: str) -> None:
    run = stack_run(stack)
    account = _account(run)
    (service,) = _mine(run, BLOB_SERVICE)
    assert service.parent == account.urn
    assert service.inputs["accountName"] == account.outputs["name"]
    assert service.inputs["isVersioningEnabled"] is True
    assert service.inputs["deleteRetentionPolicy"] == {"enabled": True, "days": 30}
    (container,) = _mine(run, CONTAINER)
    assert container.inputs["containerName"] == AUDIT_CONTAINER == "audit-records"
    assert container.inputs["publicAccess"] == "None"
    assert container.inputs["immutableStorageWithVersioning"] == {"enabled": True}
    # The container is created after versioning is on.
    assert service.urn in container.dependencies


def test_no_lifecycle_rule_can_delete_records(stack: str) -> None:
    run = stack_run(stack)
    name = _account(run).outputs["name"]
    assert [p for p in run.by_type(POLICY) if p.inputs["accountName"] == name] == []


def test_private_endpoint_and_firewall_like_the_etl_account(stack: str) -> None:
    run = stack_run(stack)
    account = _account(run)
    rules = account.inputs["networkRuleSet"]
    assert rules["defaultAction"] == "Deny"
    endpoints = [
        e
        for e in run.by_type(ENDPOINT)
        if e.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == account.id
    ]
    if stack in PRIVATE:
        assert account.inputs["publicNetworkAccess"] == "Disabled"
        (endpoint,) = endpoints
        assert endpoint.inputs["privateLinkServiceConnections"][0]["groupIds"] == ["blob"]
        assert endpoint.inputs["privateEndpointName"].startswith("pep-plat-aud-blob-")
        assert rules.get("ipRules", []) == [] and rules.get("virtualNetworkRules", []) == []
    else:
        assert account.inputs["publicNetworkAccess"] == "Enabled"
        assert endpoints == []
        functions = next(
            s
            for s in run.by_type("azure-native:network:Subnet")
            if s.name.endswith("snet-functions")
        )
        # The workers, the only writer, come in by their subnet; no other subnet.
        assert [r["virtualNetworkResourceId"] for r in rules["virtualNetworkRules"]] == [
            functions.id
        ]
        egress = next(
            p
            for p in run.by_type("azure-native:network:PublicIPAddress")
            if p.name == "networking-nat-pip"
        ).outputs["ipAddress"]
        assert {"iPAddressOrRange": egress, "action": "Allow"} in rules["ipRules"]


def test_protected_and_delete_locked_in_prod_only(stack: str) -> None:
    run = stack_run(stack)
    account = _account(run)
    locks = [lock for lock in run.by_type(LOCK) if lock.inputs["scope"] == account.id]
    if stack == "prod":
        assert account.protect is True
        (lock,) = locks
        assert lock.inputs["level"] == "CanNotDelete"
    else:
        assert account.protect is False
        assert locks == []


def test_blob_reads_writes_and_deletes_are_logged_to_the_workspace(stack: str) -> None:
    run = stack_run(stack)
    account = _account(run)
    workspace = run.one("azure-native:operationalinsights:Workspace")
    settings = {d.inputs["resourceUri"]: d.inputs for d in _mine(run, DIAGNOSTIC)}
    blob = settings[f"{account.id}/blobServices/default"]
    assert blob["workspaceId"] == workspace.id
    assert [log["category"] for log in blob["logs"]] == [
        "StorageRead",
        "StorageWrite",
        "StorageDelete",
    ]
    assert all(log["enabled"] for log in blob["logs"])
    assert blob["metrics"] == [{"category": "Transaction", "enabled": True}]
    assert settings[account.id]["metrics"] == [{"category": "Transaction", "enabled": True}]
    assert "logs" not in settings[account.id]


def test_only_the_workers_may_write_and_only_to_the_container(stack: str) -> None:
    run = stack_run(stack)
    account = _account(run)
    (container,) = _mine(run, CONTAINER)
    workers = next(i for i in run.by_type(IDENTITY) if i.name == "security-id-workers")
    (grant,) = _mine(run, ROLE)
    assert grant.inputs["scope"] == container.id
    assert grant.inputs["principalId"] == workers.outputs["principalId"]
    assert grant.inputs["roleDefinitionId"].endswith(f"/roleDefinitions/{CONTRIBUTOR}")
    assert grant.inputs["principalType"] == "ServicePrincipal"
    # Nobody else holds a role on the account or the container, in any layer.
    scopes = (str(account.id), str(container.id))
    others = [
        r for r in run.by_type(ROLE) if r is not grant and str(r.inputs["scope"]).startswith(scopes)
    ]
    assert others == []


def test_outputs_name_the_account_url_and_container(stack: str) -> None:
    run = stack_run(stack)
    name = _account(run).outputs["name"]
    assert run.stack_outputs["audit_account_url"] == f"https://{name}.blob.core.windows.net"
    assert run.stack_outputs["audit_container_name"] == "audit-records"
    (component,) = [r for r in run.resources.values() if r.type == COMPONENT]
    assert component.outputs["account_url"] == run.stack_outputs["audit_account_url"]
    assert component.outputs["container_name"] == "audit-records"
    assert component.outputs["account_id"] == _account(run).id
    for resource in run.resources.values():
        if run.layer_of(resource) == "audit" and resource is not component:
            assert resource.name.startswith("audit-"), resource.name


def test_private_environment_without_a_site_is_refused() -> None:
    config, secrets = load_stack_config("prod")

    def program() -> None:
        import pulumi

        settings = load_stack_settings("prod", config)
        env, deployment = settings.env, settings.deployment
        namer = Namer(deployment.workload, env.environment, deployment.region_code)
        tags = base_tags(settings, pulumi.get_project())
        core = Core("core", CoreArgs(location=deployment.location, namer=namer, tags=tags))
        AuditTrail(
            "audit",
            AuditTrailArgs(
                placement=core.placement(env),
                allowed_ip_ranges=[],
                identities={},
                subscription_id="00000000-0000-0000-0000-000000000000",
                private_endpoint_site=None,
                workspace_id="log",
            ),
        )

    run = run_program("prod", config=config, secret_keys=secrets, program=program)
    assert run.error is not None
    assert "no private endpoint site" in run.error
    assert run.by_type(ACCOUNT) == []
