"""The Key Vault secrets the platform stores, who reads each, and their grants at secret scope."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import keyvault
from pydantic import SecretStr

from config.settings import DeploymentSettings
from infra.security.managed_identity import Workload, WorkloadIdentity
from infra.security.rbac import BuiltInRole, assign_role

# Key Vault object names: 1-127 characters, alphanumerics and dashes.
# https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#object-identifiers
SECRET_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")


@dataclass(frozen=True)
class VaultSecret:
    """One secret: its name in the vault, the stack setting its value comes from, its readers.

    Readers get Key Vault Secrets User on this secret alone, never on the vault, so a
    workload can read what it uses and nothing else.
    https://learn.microsoft.com/azure/key-vault/general/rbac-guide#secret-scope-role-assignment
    """

    name: str
    # DeploymentSettings field holding the value: a Pulumi secret in the stack file. None when
    # an earlier layer produces the value (`layer_output` names it).
    setting: str | None
    readers: frozenset[Workload]
    why: str
    content_type: str = "text/plain"
    layer_output: str | None = None


# Everything else the workloads reach (SQL, Service Bus, storage, Redis, Cosmos, App Insights)
# takes their managed identity: no secret exists for it, so no workload reads the vault for
# it. Add a row when a workload starts to need a secret, naming only the workloads that read it.
VAULT_SECRETS: tuple[VaultSecret, ...] = (
    VaultSecret(
        name="openfigi-api-key",
        setting="openfigi_api_key",
        readers=frozenset({Workload.WORKERS}),
        why=(
            "third-party sync sends it as X-OPENFIGI-APIKEY; without a key OpenFIGI serves "
            "the lower unauthenticated rate limit (https://www.openfigi.com/api#rate-limit)"
        ),
    ),
    VaultSecret(
        name="appinsights-connection-string",
        setting=None,
        layer_output="Observability.app_insights_connection_string",
        readers=frozenset({Workload.GATEWAY}),
        why=(
            "API Management's Application Insights logger takes it as a Key Vault named value; "
            "with local auth off it only addresses the component, the gateway's identity "
            "authenticates (https://learn.microsoft.com/azure/api-management/"
            "api-management-howto-app-insights#create-a-connection-using-the-rest-api-bicep-or-arm-template)"
        ),
    ),
)


def secret_values(
    deployment: DeploymentSettings, table: tuple[VaultSecret, ...] = VAULT_SECRETS
) -> dict[str, SecretStr]:
    """The values this stack supplies, by secret name; a secret with no value is not created."""
    values: dict[str, SecretStr] = {}
    for secret in table:
        if secret.setting is None:
            continue
        value = getattr(deployment, secret.setting)
        if value is not None:
            values[secret.name] = value
    return values


@dataclass(frozen=True)
class StoredSecret:
    """A secret written to the vault, for later layers' Key Vault references."""

    secret: keyvault.Secret
    uri: pulumi.Output[str]
    """Versionless secret URI, resolved once every reader's grant exists: a Key Vault
    reference built from it waits for the grant instead of failing on access."""


def store_secrets(
    name: str,
    *,
    vault: keyvault.Vault,
    resource_group_name: pulumi.Input[str],
    values: Mapping[str, SecretStr],
    identities: Mapping[Workload, WorkloadIdentity],
    subscription_id: pulumi.Input[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
    table: tuple[VaultSecret, ...] = VAULT_SECRETS,
    layer_values: Mapping[str, pulumi.Input[str]] | None = None,
) -> dict[str, StoredSecret]:
    """Each secret with a value, and Key Vault Secrets User on it for its readers only.

    `values` come from stack settings, `layer_values` from earlier layers' outputs.
    """
    from_layers = dict(layer_values or {})
    unknown = sorted((set(values) | set(from_layers)) - {s.name for s in table})
    if unknown:
        raise ValueError(
            f"no Key Vault secret named {', '.join(unknown)} in the secrets table; "
            f"known: {', '.join(s.name for s in table)}"
        )
    stored: dict[str, StoredSecret] = {}
    for spec in table:
        given = values.get(spec.name)
        value: pulumi.Input[str] | None = (
            given.get_secret_value() if given is not None else from_layers.get(spec.name)
        )
        if value is None:
            continue
        secret = keyvault.Secret(
            f"{name}-secret-{spec.name}",
            secret_name=spec.name,
            vault_name=vault.name,
            resource_group_name=resource_group_name,
            properties=keyvault.SecretPropertiesArgs(
                value=pulumi.Output.secret(value),
                content_type=spec.content_type,
            ),
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=vault),
        )
        grants = []
        for reader in sorted(spec.readers):
            grant = assign_role(
                f"{name}-kv-secret-{spec.name}-{reader.value}",
                role=BuiltInRole.KEY_VAULT_SECRETS_USER,
                scope=secret.id,
                principal_id=identities[reader].principal_id,
                subscription_id=subscription_id,
                parent=parent,
                description=f"{reader.value} reads the {spec.name} secret, and only that",
            )
            grants.append(grant.id)
        uri = pulumi.Output.all(secret.properties.apply(lambda p: p.secret_uri), *grants).apply(
            lambda parts: str(parts[0])
        )
        stored[spec.name] = StoredSecret(secret=secret, uri=uri)
    return stored


def check_table(table: tuple[VaultSecret, ...] = VAULT_SECRETS) -> list[str]:
    """What is wrong with a secrets table: bad or repeated names, no readers, unknown settings."""
    problems: list[str] = []
    names = [s.name for s in table]
    for secret in table:
        if not SECRET_NAME.match(secret.name):
            problems.append(f"{secret.name!r}: Key Vault names are 1-127 alphanumerics or dashes")
        if names.count(secret.name) > 1:
            problems.append(f"{secret.name!r} appears more than once")
        if not secret.readers:
            problems.append(f"{secret.name!r} has no reader: drop it or name who reads it")
        if (secret.setting is None) == (secret.layer_output is None):
            problems.append(
                f"{secret.name!r}: name exactly one source, a deployment setting or a layer output"
            )
        elif secret.setting is not None and secret.setting not in DeploymentSettings.model_fields:
            problems.append(f"{secret.name!r}: no deployment setting {secret.setting!r}")
    return problems
