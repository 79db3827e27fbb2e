"""Prod-only network protection: DDoS protection plan and Azure Firewall for egress."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network

from infra.core.naming import Namer
from infra.networking.egress import fqdns_by_purpose


def firewall_private_ip(firewall_subnet_cidr: str) -> str:
    """Azure gives the firewall the first usable address of its subnet (the fourth host)."""
    return str(ipaddress.IPv4Network(firewall_subnet_cidr).network_address + 4)


@dataclass(frozen=True)
class FirewallArgs:
    """Where the firewall goes and whom it lets out."""

    resource_group_name: pulumi.Input[str]
    vnet_name: pulumi.Input[str]
    location: str
    subnet_cidr: str
    source_cidrs: Sequence[str]
    allowed_fqdns: Sequence[str]
    nat_gateway_id: pulumi.Input[str] | None
    namer: Namer
    tags: Mapping[str, str]


def create_ddos_plan(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    location: str,
    namer: Namer,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> network.DdosProtectionPlan:
    """Network DDoS Protection for the prod VNet's public IPs."""
    return network.DdosProtectionPlan(
        f"{name}-ddos",
        ddos_protection_plan_name=namer.name("ddos_plan"),
        resource_group_name=resource_group_name,
        location=location,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass(frozen=True)
class Firewall:
    """The firewall, its subnet, and the route table that sends egress through it."""

    subnet: network.Subnet
    firewall: network.AzureFirewall
    route_table: network.RouteTable
    private_ip: str


def create_firewall(
    name: str, args: FirewallArgs, parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource]
) -> Firewall:
    """Firewall in AzureFirewallSubnet, allow-listing egress by FQDN, and the route to it."""
    child = pulumi.ResourceOptions(parent=parent)
    subnet = network.Subnet(
        f"{name}-snet-firewall",
        # Azure requires exactly this name: https://learn.microsoft.com/azure/firewall/firewall-faq
        subnet_name="AzureFirewallSubnet",
        virtual_network_name=args.vnet_name,
        resource_group_name=args.resource_group_name,
        address_prefix=args.subnet_cidr,
        nat_gateway=(
            network.SubResourceArgs(id=args.nat_gateway_id) if args.nat_gateway_id else None
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )
    public_ip = network.PublicIPAddress(
        f"{name}-firewall-pip",
        public_ip_address_name=args.namer.name("public_ip", role="afw"),
        resource_group_name=args.resource_group_name,
        location=args.location,
        sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
        public_ip_allocation_method="Static",
        tags=dict(args.tags),
        opts=child,
    )
    policy = network.FirewallPolicy(
        f"{name}-firewall-policy",
        firewall_policy_name=args.namer.name("firewall_policy"),
        resource_group_name=args.resource_group_name,
        location=args.location,
        sku=network.FirewallPolicySkuArgs(tier="Standard"),
        threat_intel_mode="Deny",
        tags=dict(args.tags),
        opts=child,
    )
    rules = network.FirewallPolicyRuleCollectionGroup(
        f"{name}-firewall-rules",
        rule_collection_group_name="egress",
        firewall_policy_name=policy.name,
        resource_group_name=args.resource_group_name,
        priority=200,
        rule_collections=[
            network.FirewallPolicyFilterRuleCollectionArgs(
                rule_collection_type="FirewallPolicyFilterRuleCollection",
                name="allow-egress-https",
                priority=200,
                action=network.FirewallPolicyFilterRuleCollectionActionArgs(type="Allow"),
                # One rule per purpose, from the egress table (infra/networking/egress.py).
                rules=[
                    network.ApplicationRuleArgs(
                        rule_type="ApplicationRule",
                        name=purpose.value,
                        source_addresses=list(args.source_cidrs),
                        protocols=[_https()],
                        target_fqdns=fqdns,
                    )
                    for purpose, fqdns in fqdns_by_purpose(args.allowed_fqdns).items()
                ],
            )
        ],
        opts=pulumi.ResourceOptions(parent=policy),
    )
    firewall = network.AzureFirewall(
        f"{name}-firewall",
        azure_firewall_name=args.namer.name("firewall"),
        resource_group_name=args.resource_group_name,
        location=args.location,
        sku=network.AzureFirewallSkuArgs(name="AZFW_VNet", tier="Standard"),
        firewall_policy=network.SubResourceArgs(id=policy.id),
        ip_configurations=[
            network.AzureFirewallIPConfigurationArgs(
                name="egress",
                subnet=network.SubResourceArgs(id=subnet.id),
                public_ip_address=network.SubResourceArgs(id=public_ip.id),
            )
        ],
        tags=dict(args.tags),
        # A policy takes one write at a time and a rule collection group write also updates
        # every firewall on the policy: the firewall waits until its rules are in place
        # (hashicorp/terraform-provider-azurerm#15440; held by offline/hazards.py).
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[rules]),
    )
    routes = network.RouteTable(
        f"{name}-routes",
        route_table_name=args.namer.name("route_table"),
        resource_group_name=args.resource_group_name,
        location=args.location,
        disable_bgp_route_propagation=True,
        routes=[
            network.RouteArgs(
                name="default-via-firewall",
                address_prefix="0.0.0.0/0",
                next_hop_type="VirtualAppliance",
                next_hop_ip_address=firewall_private_ip(args.subnet_cidr),
            )
        ],
        tags=dict(args.tags),
        opts=child,
    )
    return Firewall(
        subnet=subnet,
        firewall=firewall,
        route_table=routes,
        private_ip=firewall_private_ip(args.subnet_cidr),
    )


def _https() -> network.FirewallPolicyRuleApplicationProtocolArgs:
    return network.FirewallPolicyRuleApplicationProtocolArgs(protocol_type="Https", port=443)
