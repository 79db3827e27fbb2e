"""Key Vault in RBAC mode, with the environment's soft-delete and purge-protection settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import keyvault

from config.settings import SecuritySettings
from infra.core.locks import add_delete_lock


@dataclass(frozen=True)
class KeyVaultArgs:
    """Everything the vault's definition depends on."""

    azure_name: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    location: str
    tenant_id: pulumi.Input[str]
    security: SecuritySettings
    sku: str
    # Public addresses allowed through the vault firewall where there is no private endpoint.
    allowed_ip_ranges: Sequence[pulumi.Input[str]]
    tags: Mapping[str, str]
    # Subnets admitted through a Key Vault service endpoint where there is no private
    # endpoint (the gateway's, whose named values use a user-assigned identity).
    allowed_subnet_ids: Sequence[pulumi.Input[str]] = ()


def create_key_vault(name: str, args: KeyVaultArgs, parent: pulumi.Resource) -> keyvault.Vault:
    """The vault; where the data is protected, also `protect` and a CanNotDelete lock."""
    security = args.security
    private = security.enable_private_endpoints
    vault = keyvault.Vault(
        f"{name}-kv",
        vault_name=args.azure_name,
        resource_group_name=args.resource_group_name,
        location=args.location,
        properties=keyvault.VaultPropertiesArgs(
            tenant_id=args.tenant_id,
            sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName(args.sku)),
            enable_rbac_authorization=True,
            enable_soft_delete=True,
            # Fixed at creation (7-90 days): https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview
            soft_delete_retention_in_days=security.soft_delete_retention_days,
            # The API refuses `false`; purge protection can only ever be switched on.
            enable_purge_protection=True if security.enable_purge_protection else None,
            public_network_access="Disabled" if private else "Enabled",
            network_acls=keyvault.NetworkRuleSetArgs(
                default_action="Deny",
                # Trusted services with a system-assigned identity still reach the vault.
                bypass="AzureServices",
                ip_rules=(
                    []
                    if private
                    else [keyvault.IPRuleArgs(value=ip) for ip in args.allowed_ip_ranges]
                ),
                virtual_network_rules=(
                    [
                        keyvault.VirtualNetworkRuleArgs(id=subnet)
                        for subnet in args.allowed_subnet_ids
                    ]
                    if args.allowed_subnet_ids and not private
                    else None
                ),
            ),
        ),
        tags=dict(args.tags),
        opts=pulumi.ResourceOptions(parent=parent, protect=security.protect_data),
    )
    if security.protect_data:
        add_delete_lock(f"{name}-kv-lock", resource=vault, what="Production secrets")
    return vault
