"""What each subnet needs: delegation, NAT, route through the firewall, endpoint policies."""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import (
    APIM_INJECTED_SKUS,
    APIM_INTEGRATED_SKUS,
    EnvironmentSettings,
    FunctionsPlan,
    SubnetName,
)
from infra.networking.nsg import ApimMode

CONTAINER_APPS_DELEGATION = "Microsoft.App/environments"
SERVER_FARMS_DELEGATION = "Microsoft.Web/serverFarms"


@dataclass(frozen=True)
class SubnetSpec:
    """One subnet as Azure needs it for what lands there."""

    name: SubnetName
    cidr: str
    delegation: str | None
    nat_gateway: bool
    via_firewall: bool
    private_endpoints: bool
    # Azure services reached through service endpoints: same-region storage ignores IP rules,
    # so where there are no private endpoints the workloads' subnets use one instead.
    # https://learn.microsoft.com/azure/storage/common/storage-network-security#grant-access-from-a-virtual-network
    service_endpoints: tuple[str, ...] = ()


def apim_mode(env: EnvironmentSettings) -> ApimMode:
    """Classic Developer/Premium are injected; v2 tiers integrate outbound only."""
    if not env.features.enable_api_management:
        return ApimMode.NONE
    if env.skus.api_management in APIM_INJECTED_SKUS:
        return ApimMode.INJECTED
    if env.skus.api_management in APIM_INTEGRATED_SKUS:
        return ApimMode.INTEGRATED
    raise ValueError(
        f"API Management tier {env.skus.api_management.value} cannot join the VNet; allowed: "
        + ", ".join(sorted(s.value for s in APIM_INJECTED_SKUS | APIM_INTEGRATED_SKUS))
    )


def _service_endpoints(
    env: EnvironmentSettings, name: SubnetName, outbound: set[SubnetName]
) -> tuple[str, ...]:
    """Service endpoints where there are no private endpoints.

    The workloads reach same-region storage through one (storage ignores IP rules from the
    same region). API Management reads Key Vault named values with a user-assigned identity,
    which the vault's trusted-services exception does not admit; from the gateway subnet
    it comes in through a Key Vault service endpoint and the vault's virtual network rule.
    https://learn.microsoft.com/azure/api-management/api-management-howto-properties#requirements-for-key-vault-firewall
    """
    if env.security.enable_private_endpoints:
        return ()
    if name in outbound:
        return ("Microsoft.Storage",)
    if name is SubnetName.GATEWAY and apim_mode(env) is not ApimMode.NONE:
        return ("Microsoft.KeyVault",)
    return ()


def subnet_plan(env: EnvironmentSettings) -> list[SubnetSpec]:
    """The six subnets in creation order, derived from the environment's settings."""
    egress = env.network.enable_nat_gateway
    firewall = env.network.enable_firewall
    delegations: dict[SubnetName, str | None] = {
        # https://learn.microsoft.com/azure/api-management/integrate-vnet-outbound
        SubnetName.GATEWAY: (
            SERVER_FARMS_DELEGATION if apim_mode(env) is ApimMode.INTEGRATED else None
        ),
        # Workload-profiles environments: https://learn.microsoft.com/azure/container-apps/custom-virtual-networks
        SubnetName.APP: CONTAINER_APPS_DELEGATION,
        # Flex Consumption: https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#enable-virtual-network-integration
        SubnetName.FUNCTIONS: (
            CONTAINER_APPS_DELEGATION
            if env.skus.functions_plan is FunctionsPlan.FLEX_CONSUMPTION
            else SERVER_FARMS_DELEGATION
        ),
    }
    outbound = {SubnetName.APP, SubnetName.FUNCTIONS}
    endpoints = {SubnetName.INTEGRATION, SubnetName.DATA}
    return [
        SubnetSpec(
            name=name,
            cidr=env.network.subnets[name],
            delegation=delegations.get(name),
            # With the firewall, egress leaves through it (and its subnet's NAT gateway).
            nat_gateway=egress and name in outbound and not firewall,
            via_firewall=firewall and name in outbound,
            private_endpoints=name in endpoints,
            service_endpoints=_service_endpoints(env, name, outbound),
        )
        for name in SubnetName
    ]
