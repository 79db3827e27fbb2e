"""Outbound connectivity: a NAT gateway with one static public IP for third-party APIs."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import network

from infra.core.naming import Namer


def create_nat_gateway(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    location: str,
    namer: Namer,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> tuple[network.NatGateway, network.PublicIPAddress]:
    """Third parties allow-list one address; default outbound access is off on every subnet."""
    child = pulumi.ResourceOptions(parent=parent)
    public_ip = network.PublicIPAddress(
        f"{name}-nat-pip",
        public_ip_address_name=namer.name("public_ip", role="nat"),
        resource_group_name=resource_group_name,
        location=location,
        sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
        public_ip_allocation_method="Static",
        public_ip_address_version="IPv4",
        tags=dict(tags),
        opts=child,
    )
    nat = network.NatGateway(
        f"{name}-nat",
        nat_gateway_name=namer.name("nat_gateway"),
        resource_group_name=resource_group_name,
        location=location,
        sku=network.NatGatewaySkuArgs(name="Standard"),
        idle_timeout_in_minutes=4,
        public_ip_addresses=[network.SubResourceArgs(id=public_ip.id)],
        tags=dict(tags),
        opts=child,
    )
    return nat, public_ip
