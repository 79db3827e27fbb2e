"""bootstrap/: the state account and secrets-provider key, under the mock engine."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from bootstrap.settings import BootstrapSettings, load_bootstrap_settings
from config.settings import SettingsError
from infra.security.rbac import BuiltInRole
from offline.engine import DEPLOYER_OBJECT_ID, ProgramRun, load_stack_config, run_program

BOOTSTRAP = Path(__file__).resolve().parent.parent / "bootstrap"
NS = "platform-bootstrap"


@functools.cache
def _default_run() -> ProgramRun:
    return run_program("tenant", project_dir=BOOTSTRAP)


def _run(**changes: Any) -> ProgramRun:
    config, secrets = load_stack_config("tenant", BOOTSTRAP)
    config.update({f"{NS}:{k}": v for k, v in changes.items()})
    return run_program("tenant", project_dir=BOOTSTRAP, config=config, secret_keys=secrets)


def test_the_bootstrap_runs_clean_with_seed_003s_names() -> None:
    run = _default_run()
    assert run.ok, (run.error, run.problems)
    account = run.one("azure-native:storage:StorageAccount")
    assert account.inputs["accountName"] == "pulumistateonelasha"
    group = run.one("azure-native:resources:ResourceGroup")
    assert group.inputs["resourceGroupName"] == "rg-infra"
    assert group.inputs["location"] == "westus2"


def test_the_account_name_is_configuration_not_code() -> None:
    source = "\n".join(p.read_text() for p in BOOTSTRAP.glob("*.py"))
    assert "pulumistateonelasha" not in source
    run = _run(stateAccountName="tenantstate01")
    assert run.one("azure-native:storage:StorageAccount").inputs["accountName"] == "tenantstate01"
    assert run.stack_outputs["backend_urls"]["platform"] == (
        "azblob://platform?storage_account=tenantstate01"
    )


def test_state_account_is_entra_only_private_to_blobs_and_locked() -> None:
    run = _default_run()
    account = run.one("azure-native:storage:StorageAccount")
    inputs = account.inputs
    assert inputs["allowSharedKeyAccess"] is False
    assert inputs["allowBlobPublicAccess"] is False
    assert inputs["defaultToOAuthAuthentication"] is True
    assert inputs["minimumTlsVersion"] == "TLS1_2"
    assert inputs["sku"]["name"] == "Standard_RAGZRS"
    assert account.protect
    locks = [
        r
        for r in run.by_type("azure-native:authorization:ManagementLockByScope")
        if r.parent == account.urn
    ]
    assert [lock.inputs["level"] for lock in locks] == ["CanNotDelete"]


def test_versioning_soft_delete_and_point_in_time_restore() -> None:
    blob = _default_run().one("azure-native:storage:BlobServiceProperties")
    assert blob.inputs["isVersioningEnabled"] is True
    assert blob.inputs["deleteRetentionPolicy"] == {"enabled": True, "days": 30}
    assert blob.inputs["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 30}
    assert blob.inputs["changeFeed"]["enabled"] is True
    # Restore days must stay below the soft-delete days (Azure refuses otherwise).
    assert blob.inputs["restorePolicy"] == {"enabled": True, "days": 29}


def test_one_private_container_per_project() -> None:
    run = _run(projects='["platform", "other-project"]')
    containers = run.by_type("azure-native:storage:BlobContainer")
    assert sorted(c.inputs["containerName"] for c in containers) == ["other-project", "platform"]
    assert all(c.inputs["publicAccess"] == "None" for c in containers)


def test_secrets_key_in_a_purge_protected_rbac_vault() -> None:
    run = _default_run()
    vault = run.one("azure-native:keyvault:Vault")
    props = vault.inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enablePurgeProtection"] is True
    assert props["softDeleteRetentionInDays"] == 90
    key = run.one("azure-native:keyvault:Key")
    assert key.inputs["properties"]["kty"] == "RSA"
    assert {"encrypt", "decrypt"} <= set(key.inputs["properties"]["keyOps"])
    assert run.stack_outputs["secrets_provider"] == (
        "azurekeyvault://kv-pulumi-onelasha.vault.azure.net/keys/pulumi-secrets"
    )


def test_the_running_identity_gets_state_and_key_roles_by_default() -> None:
    assignments = _default_run().by_type("azure-native:authorization:RoleAssignment")
    roles = {a.inputs["roleDefinitionId"].rsplit("/", 1)[1] for a in assignments}
    assert roles == {BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR, BuiltInRole.KEY_VAULT_CRYPTO_USER}
    assert {a.inputs["principalId"] for a in assignments} == {DEPLOYER_OBJECT_ID}


def test_without_operator_ranges_both_stay_reachable_with_entra_auth_only() -> None:
    run = _default_run()
    assert (
        run.one("azure-native:storage:StorageAccount").inputs["networkRuleSet"]["defaultAction"]
        == "Allow"
    )


def test_operator_ranges_close_both_firewalls() -> None:
    run = _run(operatorIpRanges='["203.0.113.0/24"]')
    account = run.one("azure-native:storage:StorageAccount").inputs["networkRuleSet"]
    assert account["defaultAction"] == "Deny"
    assert account["ipRules"] == [{"iPAddressOrRange": "203.0.113.0/24", "action": "Allow"}]
    vault = run.one("azure-native:keyvault:Vault").inputs["properties"]["networkAcls"]
    assert vault["defaultAction"] == "Deny"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("stateAccountName", "Pulumi-State", "stateAccountName"),
        ("stateAccountName", "ab", "stateAccountName"),
        ("keyVaultName", "1vault", "keyVaultName"),
        ("keyVaultName", "kv--state", "keyVaultName"),
        ("projects", "[]", "projects"),
        ("projects", '["Bad_Name"]', "projects.0"),
        ("location", "mars", "location"),
    ],
)
def test_bad_values_are_refused_naming_the_key(key: str, value: str, message: str) -> None:
    config, _ = load_stack_config("tenant", BOOTSTRAP)
    config[f"{NS}:{key}"] = value
    with pytest.raises(SettingsError, match=rf"{NS}:{message}"):
        load_bootstrap_settings(config)
    run = _run(**{key: value})
    assert run.error is not None and f"{NS}:{message}" in run.error
    assert not run.resources or all(r.type == "pulumi:pulumi:Stack" for r in run.resources.values())


def test_soft_delete_bounds() -> None:
    base = load_bootstrap_settings(load_stack_config("tenant", BOOTSTRAP)[0]).model_dump()
    with pytest.raises(ValueError, match=r"soft_delete_days|softDeleteDays"):
        BootstrapSettings.model_validate({**base, "soft_delete_days": 1})
    with pytest.raises(ValueError, match=r"vault_soft_delete_days|vaultSoftDeleteDays"):
        BootstrapSettings.model_validate({**base, "vault_soft_delete_days": 91})
