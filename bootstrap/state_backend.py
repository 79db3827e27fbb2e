"""The state storage account (container per project) and the secrets-provider key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, keyvault, resources, storage

from bootstrap.settings import BootstrapSettings
from infra.core.locks import add_delete_lock
from infra.security.rbac import BuiltInRole, role_assignment_name

TAGS = {"workload": "platform", "purpose": "pulumi-state"}


@dataclass(frozen=True)
class StateBackendArgs:
    settings: BootstrapSettings
    tenant_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    # Principals granted Storage Blob Data Contributor and Key Vault Crypto User.
    deployer_object_ids: Sequence[pulumi.Input[str]]


class StateBackend(pulumi.ComponentResource):
    """Where every stack keeps its state, and the key that encrypts its secrets."""

    account_name: pulumi.Output[str]
    """The state storage account (`pulumi login azblob://<container>?storage_account=...`)."""
    containers: dict[str, pulumi.Output[str]]
    """Blob container per project."""
    key_vault_uri: pulumi.Output[str]
    """The vault holding the secrets-provider key."""
    key_id: pulumi.Output[str]
    """ARM id of the secrets-provider key."""

    def __init__(
        self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:bootstrap:StateBackend", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        group = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=s.resource_group_name,
            location=s.location,
            tags=TAGS,
            opts=child,
        )
        restricted = bool(s.operator_ip_ranges)
        account = storage.StorageAccount(
            f"{name}-st",
            account_name=s.state_account_name,
            resource_group_name=group.name,
            location=s.location,
            kind=storage.Kind.STORAGE_V2,
            # Zone- and geo-redundant, readable in the paired region: state outlives a
            # region loss (RPO ~15 min, Microsoft's GRS target) and is readable during it.
            # https://learn.microsoft.com/azure/storage/common/storage-redundancy
            sku=storage.SkuArgs(name=storage.SkuName.STANDARD_RAGZRS),
            access_tier=storage.AccessTier.HOT,
            allow_blob_public_access=False,
            # Entra ID only: no account keys, no SAS signed with them.
            # https://learn.microsoft.com/azure/storage/common/shared-key-authorization-prevent
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            enable_https_traffic_only=True,
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=(
                    storage.DefaultAction.DENY if restricted else storage.DefaultAction.ALLOW
                ),
                bypass=storage.Bypass.AZURE_SERVICES,
                ip_rules=[
                    storage.IPRuleArgs(i_p_address_or_range=ip.removesuffix("/32"))
                    for ip in s.operator_ip_ranges
                ],
            ),
            tags=TAGS,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        add_delete_lock(f"{name}-st-lock", resource=account, what="Pulumi state of every stack")
        # Versioning, soft delete and change feed make point-in-time restore possible: a
        # corrupted or deleted state file comes back from an earlier version.
        # https://learn.microsoft.com/azure/storage/blobs/point-in-time-restore-overview
        storage.BlobServiceProperties(
            f"{name}-st-blob",
            account_name=account.name,
            resource_group_name=group.name,
            blob_services_name="default",
            is_versioning_enabled=True,
            change_feed=storage.ChangeFeedArgs(enabled=True, retention_in_days=s.soft_delete_days),
            delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=s.soft_delete_days
            ),
            container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=s.soft_delete_days
            ),
            restore_policy=storage.RestorePolicyPropertiesArgs(
                enabled=True, days=s.soft_delete_days - 1
            ),
            opts=child,
        )
        self.containers = {
            project: storage.BlobContainer(
                f"{name}-{project}",
                container_name=project,
                account_name=account.name,
                resource_group_name=group.name,
                public_access=storage.PublicAccess.NONE,
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            ).name
            for project in s.projects
        }
        vault = keyvault.Vault(
            f"{name}-kv",
            vault_name=s.key_vault_name,
            resource_group_name=group.name,
            location=s.location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=s.vault_soft_delete_days,
                # A lost key makes every stack's secrets unreadable: it can never be purged.
                enable_purge_protection=True,
                public_network_access="Enabled",
                network_acls=keyvault.NetworkRuleSetArgs(
                    default_action="Deny" if restricted else "Allow",
                    bypass="AzureServices",
                    ip_rules=[keyvault.IPRuleArgs(value=ip) for ip in s.operator_ip_ranges],
                ),
            ),
            tags=TAGS,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        add_delete_lock(f"{name}-kv-lock", resource=vault, what="Secrets-provider key")
        # RSA key the azurekeyvault:// provider encrypts each stack's data key with.
        # https://www.pulumi.com/docs/iac/concepts/secrets/#azure-key-vault
        key = keyvault.Key(
            f"{name}-key",
            key_name=s.key_name,
            vault_name=vault.name,
            resource_group_name=group.name,
            properties=keyvault.KeyPropertiesArgs(
                kty=keyvault.JsonWebKeyType.RSA,
                key_size=4096,
                key_ops=["encrypt", "decrypt", "wrapKey", "unwrapKey"],
            ),
            opts=pulumi.ResourceOptions(parent=vault, protect=True),
        )
        for index, principal in enumerate(args.deployer_object_ids):
            for role, scope, what in (
                (BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR, account.id, "state"),
                (BuiltInRole.KEY_VAULT_CRYPTO_USER, key.id, "key"),
            ):
                logical = f"{name}-deployer{index}-{what}"
                authorization.RoleAssignment(
                    logical,
                    role_assignment_name=role_assignment_name(logical),
                    scope=scope,
                    principal_id=principal,
                    role_definition_id=pulumi.Output.concat(
                        "/subscriptions/",
                        args.subscription_id,
                        "/providers/Microsoft.Authorization/roleDefinitions/",
                        role.value,
                    ),
                    description=f"Pulumi deployer: {what} of the platform stacks",
                    opts=child,
                )
        self.account_name = account.name
        self.key_vault_uri = vault.properties.apply(lambda p: p.vault_uri or "")
        self.key_id = key.id
        self.register_outputs(
            {
                "account_name": self.account_name,
                "containers": self.containers,
                "key_vault_uri": self.key_vault_uri,
                "key_id": self.key_id,
            }
        )
