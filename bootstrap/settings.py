"""The bootstrap's settings: project config validated with Azure's naming and retention limits."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError

from config.base import AllowedIpRange, AzureRegion, Guid, SettingsError, _Model

NAMESPACE = "platform-bootstrap"


def _no_double_hyphen(value: str) -> str:
    if "--" in value:
        raise ValueError("consecutive hyphens are not allowed")
    return value


# https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
StorageAccountName = Annotated[str, Field(pattern=r"^[a-z0-9]{3,24}$")]
KeyVaultName = Annotated[
    str,
    Field(pattern=r"^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$"),
    AfterValidator(_no_double_hyphen),
]
# Container names: 3-63 lowercase letters, digits and single hyphens, starting with either.
ContainerName = Annotated[
    str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"), AfterValidator(_no_double_hyphen)
]
ResourceGroupName = Annotated[str, Field(pattern=r"^[-\w.()]{0,89}[-\w()]$")]


class BootstrapSettings(_Model):
    """What the bootstrap creates; defaults are in bootstrap/Pulumi.yaml (seed 003's names)."""

    location: AzureRegion
    resource_group_name: ResourceGroupName
    state_account_name: StorageAccountName
    projects: Annotated[tuple[ContainerName, ...], Field(min_length=1)]
    key_vault_name: KeyVaultName
    operator_ip_ranges: tuple[AllowedIpRange, ...] = ()
    deployer_object_ids: tuple[Guid, ...] = ()
    # Blob and container soft delete, 1-365 days; point-in-time restore keeps one day less.
    # https://learn.microsoft.com/azure/storage/blobs/soft-delete-blob-overview
    soft_delete_days: Annotated[int, Field(ge=2, le=365)] = 30
    # Key Vault soft delete, 7-90 days, fixed at creation.
    # https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview
    vault_soft_delete_days: Annotated[int, Field(ge=7, le=90)] = 90
    key_name: Annotated[str, Field(pattern=r"^[a-zA-Z0-9-]{1,127}$")] = "pulumi-secrets"

    @property
    def backend_urls(self) -> dict[str, str]:
        """`pulumi login` URL per project container."""
        return {
            project: f"azblob://{project}?storage_account={self.state_account_name}"
            for project in self.projects
        }

    @property
    def secrets_provider(self) -> str:
        """`--secrets-provider` value for `pulumi stack init` / `change-secrets-provider`."""
        return f"azurekeyvault://{self.key_vault_name}.vault.azure.net/keys/{self.key_name}"


def load_bootstrap_settings(config: Mapping[str, Any]) -> BootstrapSettings:
    """Settings from `platform-bootstrap:<key>` config; every problem named at once."""
    prefix = f"{NAMESPACE}:"
    values = {k[len(prefix) :]: _decode(v) for k, v in config.items() if k.startswith(prefix)}
    try:
        return BootstrapSettings.model_validate(values)
    except ValidationError as exc:
        problems = [
            f"{prefix}{'.'.join(str(p) for p in e['loc'])} = "
            f"{json.dumps(e.get('input'), default=str)}: {e['msg']}"
            for e in exc.errors(include_url=False)
        ]
        raise SettingsError(
            "invalid bootstrap configuration:\n  - " + "\n  - ".join(problems)
        ) from None


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value
