"""Private DNS zones and the reusable private-endpoint helper (endpoint + DNS zone group)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import pulumi
from pulumi_azure_native import network, privatedns

from config.settings import SubnetName


class PrivateLink(StrEnum):
    """Services reached through private endpoints, each with its privatelink DNS zone."""

    SQL = "sql"
    SERVICE_BUS = "servicebus"
    BLOB = "blob"
    QUEUE = "queue"
    TABLE = "table"
    KEY_VAULT = "vault"
    CONTAINER_REGISTRY = "acr"
    REDIS = "redis"
    COSMOS = "cosmos"


# Zone and sub-resource (group id) per service:
# https://learn.microsoft.com/azure/private-link/private-endpoint-dns
PRIVATE_LINK_ZONES: dict[PrivateLink, tuple[str, str]] = {
    PrivateLink.SQL: ("privatelink.database.windows.net", "sqlServer"),
    PrivateLink.SERVICE_BUS: ("privatelink.servicebus.windows.net", "namespace"),
    PrivateLink.BLOB: ("privatelink.blob.core.windows.net", "blob"),
    PrivateLink.QUEUE: ("privatelink.queue.core.windows.net", "queue"),
    PrivateLink.TABLE: ("privatelink.table.core.windows.net", "table"),
    PrivateLink.KEY_VAULT: ("privatelink.vaultcore.azure.net", "vault"),
    PrivateLink.CONTAINER_REGISTRY: ("privatelink.azurecr.io", "registry"),
    PrivateLink.REDIS: ("privatelink.redis.azure.net", "redisEnterprise"),
    PrivateLink.COSMOS: ("privatelink.documents.azure.com", "Sql"),
}


@dataclass(frozen=True)
class PrivateEndpointSite:
    """Where private endpoints go: what the networking layer hands to the data layers."""

    resource_group_name: pulumi.Input[str]
    location: str
    subnet_ids: Mapping[SubnetName, pulumi.Output[str]]
    zone_ids: Mapping[PrivateLink, pulumi.Output[str]]


def add_private_endpoint(
    name: str,
    site: PrivateEndpointSite,
    *,
    service: PrivateLink,
    target_resource_id: pulumi.Input[str],
    azure_name: str,
    subnet: SubnetName,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> network.PrivateEndpoint:
    """A private endpoint to `target_resource_id`, registered in the service's DNS zone.

    It belongs to (and is tagged with) the layer of the resource it exposes.
    """
    if service not in site.zone_ids:
        raise ValueError(
            f"no private DNS zone for {service.value}: enable its feature flag, or private "
            "endpoints, before adding an endpoint to it"
        )
    _, group_id = PRIVATE_LINK_ZONES[service]
    endpoint = network.PrivateEndpoint(
        f"{name}-pep",
        private_endpoint_name=azure_name,
        resource_group_name=site.resource_group_name,
        location=site.location,
        subnet=network.SubnetArgs(id=site.subnet_ids[subnet]),
        custom_network_interface_name=f"{azure_name}-nic",
        private_link_service_connections=[
            network.PrivateLinkServiceConnectionArgs(
                name=azure_name,
                private_link_service_id=target_resource_id,
                group_ids=[group_id],
            )
        ],
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    network.PrivateDnsZoneGroup(
        f"{name}-pep-dns",
        private_dns_zone_group_name="default",
        private_endpoint_name=endpoint.name,
        resource_group_name=site.resource_group_name,
        private_dns_zone_configs=[
            network.PrivateDnsZoneConfigArgs(
                name=service.value, private_dns_zone_id=site.zone_ids[service]
            )
        ],
        opts=pulumi.ResourceOptions(parent=endpoint),
    )
    return endpoint


def create_private_dns_zones(
    name: str,
    *,
    services: tuple[PrivateLink, ...],
    resource_group_name: pulumi.Input[str],
    vnet_id: pulumi.Input[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> dict[PrivateLink, pulumi.Output[str]]:
    """One privatelink zone per service, linked to the VNet so its names resolve privately."""
    zone_ids: dict[PrivateLink, pulumi.Output[str]] = {}
    for service in services:
        zone_name, _ = PRIVATE_LINK_ZONES[service]
        zone = privatedns.PrivateZone(
            f"{name}-dns-{service.value}",
            private_zone_name=zone_name,
            resource_group_name=resource_group_name,
            location="global",
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        privatedns.VirtualNetworkLink(
            f"{name}-dns-{service.value}-link",
            private_zone_name=zone.name,
            resource_group_name=resource_group_name,
            virtual_network_link_name=f"link-{service.value}",
            location="global",
            registration_enabled=False,
            virtual_network=privatedns.SubResourceArgs(id=vnet_id),
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=zone),
        )
        zone_ids[service] = zone.id
    return zone_ids
