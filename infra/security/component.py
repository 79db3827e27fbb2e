"""The security layer: Key Vault, workload identities and grants, the Front Door WAF policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization
from pydantic import SecretStr

from config.settings import SubnetName
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.networking.private_endpoints import (
    PrivateEndpointSite,
    PrivateLink,
    add_private_endpoint,
)
from infra.observability.diagnostics import add_diagnostic_setting
from infra.security.keyvault import KeyVaultArgs, create_key_vault
from infra.security.managed_identity import Workload, WorkloadIdentity, create_identities
from infra.security.rbac import BuiltInRole, assign_role
from infra.security.secrets import store_secrets
from infra.security.waf import create_waf_policy


@dataclass(frozen=True)
class SecurityArgs:
    """What the security layer needs from settings and from the layers before it."""

    placement: Placement
    # Public ranges allowed through the vault firewall where it has no private endpoint:
    # the operators' ranges and the platform's own NAT egress address.
    allowed_ip_ranges: Sequence[pulumi.Input[str]]
    private_endpoint_site: PrivateEndpointSite | None
    workspace_id: pulumi.Input[str]
    app_insights_id: pulumi.Input[str]
    # Values of the secrets table's entries this stack supplies (secrets.secret_values).
    secret_values: Mapping[str, SecretStr]
    # Values of the table's entries that earlier layers produce, by secret name.
    layer_secret_values: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Subnets the vault admits by service endpoint where it has no private endpoint.
    allowed_subnet_ids: Sequence[pulumi.Input[str]] = ()


class Security(pulumi.ComponentResource):
    """Secrets, identities and the least-privilege grants between them."""

    key_vault_id: pulumi.Output[str]
    """ARM id of the Key Vault (scope of secret grants)."""
    key_vault_uri: pulumi.Output[str]
    """https://<vault>.vault.azure.net/ - what workloads use to read secrets."""
    key_vault_name: pulumi.Output[str]
    """Azure name of the Key Vault."""
    identities: dict[Workload, WorkloadIdentity]
    """One user-assigned identity per workload."""
    subscription_id: pulumi.Output[str]
    """Subscription of the deployment, for role definition ids in later layers."""
    tenant_id: pulumi.Output[str]
    """Microsoft Entra tenant the identities and vault belong to."""
    deployer_object_id: pulumi.Output[str]
    """Object id of the identity running `pulumi up` (default SQL Entra admin)."""
    waf_policy_id: pulumi.Output[str] | None
    """Front Door WAF policy, where the environment has Front Door."""
    secret_uris: dict[str, pulumi.Output[str]]
    """Key Vault URI of each stored secret, for Key Vault references in later layers."""

    def __init__(
        self, name: str, args: SecurityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:security:Security", name, None, opts)
        env, namer = args.placement.env, args.placement.namer
        tags = layer_tags(args.placement.tags, "security")
        client = authorization.get_client_config_output()
        self.subscription_id = client.subscription_id
        self.tenant_id = client.tenant_id
        self.deployer_object_id = client.object_id

        vault = create_key_vault(
            name,
            KeyVaultArgs(
                azure_name=namer.unique_name("key_vault", args.placement.name_suffix),
                resource_group_name=args.placement.resource_group_name,
                location=args.placement.location,
                tenant_id=client.tenant_id,
                security=env.security,
                sku=env.skus.key_vault,
                allowed_ip_ranges=args.allowed_ip_ranges,
                allowed_subnet_ids=args.allowed_subnet_ids,
                tags=tags,
            ),
            parent=self,
        )
        add_diagnostic_setting(
            f"{name}-kv-diag",
            target_resource_id=vault.id,
            workspace_id=args.workspace_id,
            parent=vault,
        )
        if args.private_endpoint_site is not None:
            add_private_endpoint(
                f"{name}-kv",
                args.private_endpoint_site,
                service=PrivateLink.KEY_VAULT,
                target_resource_id=vault.id,
                azure_name=namer.name("private_endpoint", role="kv"),
                subnet=SubnetName.DATA,
                tags=tags,
                parent=self,
            )

        self.identities = create_identities(
            name,
            resource_group_name=args.placement.resource_group_name,
            location=args.placement.location,
            namer=namer,
            tags=tags,
            parent=self,
        )
        # No vault-wide grant: each secret's readers get Key Vault Secrets User on that
        # secret alone, from the secrets table.
        stored = store_secrets(
            name,
            vault=vault,
            resource_group_name=args.placement.resource_group_name,
            values=args.secret_values,
            layer_values=args.layer_secret_values,
            identities=self.identities,
            subscription_id=client.subscription_id,
            tags=tags,
            parent=self,
        )
        self.secret_uris = {secret: entry.uri for secret, entry in stored.items()}
        for workload, identity in self.identities.items():
            # Application Insights takes Entra-authenticated telemetry only (local auth off).
            # https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication
            assign_role(
                f"{name}-telemetry-{workload.value}",
                role=BuiltInRole.MONITORING_METRICS_PUBLISHER,
                scope=args.app_insights_id,
                principal_id=identity.principal_id,
                subscription_id=client.subscription_id,
                parent=self,
                description=f"{workload.value} sends telemetry to Application Insights",
            )

        self.waf_policy_id = None
        if env.features.enable_cdn:
            waf = create_waf_policy(
                name,
                azure_name=namer.name("waf_policy"),
                resource_group_name=args.placement.resource_group_name,
                security=env.security,
                sku=env.skus.front_door,
                tags=tags,
                parent=self,
            )
            self.waf_policy_id = waf.id

        self.key_vault_id = vault.id
        self.key_vault_name = vault.name
        self.key_vault_uri = vault.properties.apply(lambda p: p.vault_uri or "")
        self.register_outputs(
            {
                "key_vault_id": self.key_vault_id,
                "key_vault_name": self.key_vault_name,
                "key_vault_uri": self.key_vault_uri,
                "identities": {
                    w.value: {"id": i.id, "principal_id": i.principal_id, "client_id": i.client_id}
                    for w, i in self.identities.items()
                },
                "waf_policy_id": self.waf_policy_id,
                "secret_uris": self.secret_uris,
            }
        )
