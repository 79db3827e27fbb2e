"""The VNet, its six subnets and the prod-only network protections."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from config.base import Cidr, DomainName, _Model


class SubnetName(StrEnum):
    """The six subnets of seed 003's network architecture."""

    GATEWAY = "gateway"
    APP = "app"
    FUNCTIONS = "functions"
    INTEGRATION = "integration"
    DATA = "data"
    MANAGEMENT = "management"


# Smallest prefix each subnet may have, from what Azure requires of what lands there.
# Container Apps workload-profiles environments and Flex Consumption need at least /27:
# https://learn.microsoft.com/azure/container-apps/custom-virtual-networks
MAX_SUBNET_PREFIX: dict[SubnetName, int] = {
    SubnetName.GATEWAY: 27,
    SubnetName.APP: 27,
    SubnetName.FUNCTIONS: 27,
    SubnetName.INTEGRATION: 28,
    SubnetName.DATA: 28,
    SubnetName.MANAGEMENT: 29,
}


class NetworkSettings(_Model):
    """VNet address space, the six subnets, and the prod-only network protections."""

    vnet_cidr: Cidr
    subnets: dict[SubnetName, Cidr]
    firewall_subnet_cidr: Cidr | None = Field(
        default=None,
        description="AzureFirewallSubnet (/26 or larger); required when the firewall is on.",
    )
    enable_ddos_protection: bool
    enable_firewall: bool
    enable_nat_gateway: bool = True
    # Hosts this deployment lets out through the prod firewall on top of the egress table
    # (infra/networking/egress.py: platform dependencies and the third-party APIs, each with
    # its source). Empty unless a stack's workers call something the table does not list.
    egress_allowed_fqdns: tuple[DomainName, ...] = ()

    @model_validator(mode="after")
    def _subnets_fit(self) -> Self:
        vnet = ipaddress.IPv4Network(self.vnet_cidr)
        missing = [s.value for s in SubnetName if s not in self.subnets]
        if missing:
            raise ValueError(
                f"network.subnets is missing {', '.join(missing)}; "
                f"all of {', '.join(s.value for s in SubnetName)} are required"
            )
        placed: list[tuple[str, ipaddress.IPv4Network]] = []
        named = {s.value: c for s, c in self.subnets.items()}
        if self.firewall_subnet_cidr is not None:
            named["firewallSubnetCidr"] = self.firewall_subnet_cidr
        for name, cidr in named.items():
            net = ipaddress.IPv4Network(cidr)
            if not net.subnet_of(vnet):
                raise ValueError(
                    f"network.subnets.{name} = {cidr} lies outside network.vnetCidr "
                    f"{self.vnet_cidr}; every subnet must be inside the VNet"
                )
            for other_name, other in placed:
                if net.overlaps(other):
                    raise ValueError(
                        f"network.subnets.{name} = {cidr} overlaps {other_name} = {other}; "
                        "subnets must not overlap"
                    )
            placed.append((name, net))
        for subnet, cidr in self.subnets.items():
            limit = MAX_SUBNET_PREFIX[subnet]
            if ipaddress.IPv4Network(cidr).prefixlen > limit:
                raise ValueError(
                    f"network.subnets.{subnet.value} = {cidr} is too small; "
                    f"it needs /{limit} or larger"
                )
        if self.enable_firewall:
            if self.firewall_subnet_cidr is None:
                raise ValueError(
                    "network.enableFirewall is true but network.firewallSubnetCidr is not set; "
                    "Azure Firewall needs its own AzureFirewallSubnet of /26 or larger"
                )
            if ipaddress.IPv4Network(self.firewall_subnet_cidr).prefixlen > 26:
                raise ValueError(
                    f"network.firewallSubnetCidr = {self.firewall_subnet_cidr} is too small; "
                    "AzureFirewallSubnet needs /26 or larger"
                )
        return self
