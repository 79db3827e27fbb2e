"""Key Vault least privilege: secrets from one table, each readable by its readers alone."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr

from config.settings import SettingsError, load_stack_settings
from infra.security import BuiltInRole, Workload
from infra.security.secrets import VAULT_SECRETS, VaultSecret, check_table, store_secrets
from offline import plan
from offline.engine import ProgramRun, load_stack_config, run_program
from tests.conftest import stack_run

VAULT = "azure-native:keyvault:Vault"
SECRET = "azure-native:keyvault:Secret"
ROLE = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
KEY = "platform:openfigiApiKey"
VALUE = "openfigi-key-0123456789"


def _with_key(stack: str) -> ProgramRun:
    config, secrets = load_stack_config(stack)
    config[KEY] = VALUE
    run = run_program(stack, config=config, secret_keys=[*secrets, KEY])
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def dev_with_key() -> ProgramRun:
    return _with_key("dev")


def _secrets_user_grants(run: ProgramRun) -> list[dict[str, str]]:
    return [
        r.inputs
        for r in run.by_type(ROLE)
        if r.inputs["roleDefinitionId"].endswith(BuiltInRole.KEY_VAULT_SECRETS_USER.value)
    ]


def _principals(run: ProgramRun) -> dict[str, Workload]:
    return {
        i.outputs["principalId"]: Workload(i.inputs["tags"]["workload"])
        for i in run.by_type(IDENTITY)
    }


def test_nobody_reads_the_whole_vault(any_stack: ProgramRun) -> None:
    vault = any_stack.one(VAULT)
    assert [r for r in any_stack.by_type(ROLE) if r.inputs["scope"] == vault.id] == []


def test_without_stack_secrets_only_the_gateway_reads_its_connection_string(
    any_stack: ProgramRun,
) -> None:
    # No stack file sets a secret value, and every other dependency takes managed identity;
    # the one secret an earlier layer produces is the gateway logger's connection string.
    apim = any_stack.config.get("platform:environment", any_stack.stack) != "qa"
    names = sorted(s.inputs["secretName"] for s in any_stack.by_type(SECRET))
    assert names == (["appinsights-connection-string"] if apim else [])
    principals = _principals(any_stack)
    readers = [principals[g["principalId"]] for g in _secrets_user_grants(any_stack)]
    assert readers == ([Workload.GATEWAY] if apim else [])


def test_a_layer_secret_is_stored_from_the_layer_output_and_masked() -> None:
    run = stack_run("dev")
    (secret,) = run.by_type(SECRET)
    appi = run.one("azure-native:applicationinsights:Component")
    assert secret.inputs["properties"]["value"] == appi.outputs["connectionString"]
    assert appi.outputs["connectionString"] not in str(run.stack_outputs)


def test_a_supplied_secret_is_stored_in_the_vault_as_a_secret(dev_with_key: ProgramRun) -> None:
    vault = dev_with_key.one(VAULT)
    (secret,) = [s for s in dev_with_key.by_type(SECRET) if "openfigi" in s.name]
    assert secret.inputs["secretName"] == "openfigi-api-key"
    assert secret.inputs["vaultName"] == vault.outputs["name"]
    assert secret.parent == vault.urn
    assert secret.inputs["properties"]["contentType"] == "text/plain"
    assert secret.id == f"{vault.id}/secrets/openfigi-api-key"
    assert VALUE not in str(dev_with_key.stack_outputs)
    summary = plan.summarize(dev_with_key)
    assert VALUE not in str(summary)
    assert summary["ok"] is True


def test_each_identity_reads_exactly_the_secrets_the_table_gives_it(
    dev_with_key: ProgramRun,
) -> None:
    principals = _principals(dev_with_key)
    secrets = {s.id: s.inputs["secretName"] for s in dev_with_key.by_type(SECRET)}
    readable: dict[Workload, set[str]] = {w: set() for w in Workload}
    for grant in _secrets_user_grants(dev_with_key):
        assert grant["scope"] in secrets, "Key Vault Secrets User granted above secret scope"
        assert grant["principalType"] == "ServicePrincipal"
        readable[principals[grant["principalId"]]].add(secrets[grant["scope"]])
    expected = {w: {s.name for s in VAULT_SECRETS if w in s.readers} for w in Workload}
    assert readable == expected
    assert readable[Workload.WORKERS] == {"openfigi-api-key"}
    assert readable[Workload.GATEWAY] == {"appinsights-connection-string"}
    for workload in (Workload.USERS, Workload.ORDERS, Workload.PRODUCTS):
        assert readable[workload] == set()


def test_secret_grant_names_are_deterministic(dev_with_key: ProgramRun) -> None:
    (grant,) = [
        r
        for r in dev_with_key.by_type(ROLE)
        if r.inputs["roleDefinitionId"].endswith(BuiltInRole.KEY_VAULT_SECRETS_USER.value)
        and "openfigi" in r.name
    ]
    assert grant.name == "security-kv-secret-openfigi-api-key-workers"
    expected = uuid.uuid5(
        uuid.UUID("6f1c1f7e-7d0a-4c55-9a39-3c1f0c2b8a11"), f"platform/dev/{grant.name}"
    )
    assert grant.inputs["roleAssignmentName"] == str(expected)
    again = _with_key("dev")
    (same,) = [r for r in again.by_type(ROLE) if r.name == grant.name]
    assert same.inputs["roleAssignmentName"] == grant.inputs["roleAssignmentName"]


def test_secret_uri_is_exported_for_key_vault_references(dev_with_key: ProgramRun) -> None:
    security = next(r for r in dev_with_key.resources.values() if r.type.endswith("Security"))
    uris = security.outputs["secret_uris"]
    assert uris["openfigi-api-key"].endswith(".vault.azure.net/secrets/openfigi-api-key")


def test_the_shipped_table_is_well_formed() -> None:
    assert check_table() == []


def test_table_checks_name_readers_settings_and_duplicates() -> None:
    bad = (
        VaultSecret("no_underscores", "openfigi_api_key", frozenset({Workload.WORKERS}), "x"),
        VaultSecret("nobody", "openfigi_api_key", frozenset(), "x"),
        VaultSecret("ghost", "no_such_setting", frozenset({Workload.USERS}), "x"),
        VaultSecret("twice", "openfigi_api_key", frozenset({Workload.USERS}), "x"),
        VaultSecret("twice", "openfigi_api_key", frozenset({Workload.USERS}), "x"),
        VaultSecret("a" * 128, "openfigi_api_key", frozenset({Workload.USERS}), "x"),
    )
    problems = "\n".join(check_table(bad))
    assert "'no_underscores': Key Vault names" in problems
    assert "'nobody' has no reader" in problems
    assert "no deployment setting 'no_such_setting'" in problems
    assert "'twice' appears more than once" in problems
    assert f"'{'a' * 128}': Key Vault names" in problems
    assert (
        check_table((VaultSecret("a" * 127, "openfigi_api_key", frozenset({Workload.USERS}), "x"),))
        == []
    )


def test_a_value_for_an_unknown_secret_stops_the_program() -> None:
    def program() -> None:
        import pulumi

        component = pulumi.ComponentResource("test:index:Holder", "holder")
        store_secrets(
            "x",
            vault=None,  # type: ignore[arg-type]
            resource_group_name="rg",
            values={"no-such-secret": SecretStr("v")},
            identities={},
            subscription_id="sub",
            tags={},
            parent=component,
        )

    run = run_program("dev", program=program)
    assert run.error is not None
    assert "no Key Vault secret named no-such-secret" in run.error
    assert "known: openfigi-api-key, appinsights-connection-string" in run.error


def test_an_empty_key_is_refused_and_one_character_accepted() -> None:
    config, _ = load_stack_config("dev")
    with pytest.raises(SettingsError, match="openfigiApiKey"):
        load_stack_settings("dev", {**config, KEY: ""})
    settings = load_stack_settings("dev", {**config, KEY: "Q"})
    assert settings.deployment.openfigi_api_key is not None
    assert settings.deployment.openfigi_api_key.get_secret_value() == "Q"
    assert "Q" not in repr(settings.deployment)


def test_a_secret_names_exactly_one_source() -> None:
    readers = frozenset({Workload.GATEWAY})
    both = VaultSecret("both", "openfigi_api_key", readers, "x", layer_output="Layer.output")
    neither = VaultSecret("neither", None, readers, "x")
    problems = "\n".join(check_table((both, neither)))
    assert "'both': name exactly one source" in problems
    assert "'neither': name exactly one source" in problems
    layer = VaultSecret("from-layer", None, readers, "x", layer_output="Layer.output")
    assert check_table((layer,)) == []
