"""The networking layer: VNet, six subnets with their NSGs, NAT, private DNS, prod protection."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network

from config.settings import EnvironmentSettings, SubnetName
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.networking.nat_gateway import create_nat_gateway
from infra.networking.nsg import inbound_rules, sql_ports
from infra.networking.private_endpoints import (
    PrivateEndpointSite,
    PrivateLink,
    create_private_dns_zones,
)
from infra.networking.protection import (
    Firewall,
    FirewallArgs,
    create_ddos_plan,
    create_firewall,
)
from infra.networking.subnets import apim_mode, subnet_plan
from infra.observability.diagnostics import add_diagnostic_setting


@dataclass(frozen=True)
class NetworkingArgs:
    """What the networking layer needs: the environment row, where, naming and tags."""

    placement: Placement
    workspace_id: pulumi.Input[str]


def private_link_services(env: EnvironmentSettings) -> tuple[PrivateLink, ...]:
    """The privatelink zones this environment needs, following its feature flags."""
    features = env.features
    wanted = [PrivateLink.KEY_VAULT, PrivateLink.BLOB, PrivateLink.QUEUE, PrivateLink.TABLE]
    if features.enable_sql_database:
        wanted.append(PrivateLink.SQL)
    if features.enable_service_bus:
        wanted.append(PrivateLink.SERVICE_BUS)
    if features.enable_container_apps:
        wanted.append(PrivateLink.CONTAINER_REGISTRY)
    if features.enable_redis:
        wanted.append(PrivateLink.REDIS)
    if features.enable_cosmos_db:
        wanted.append(PrivateLink.COSMOS)
    return tuple(wanted)


class Networking(pulumi.ComponentResource):
    """Private VNet whose NSG rules come from one access-control table."""

    vnet_id: pulumi.Output[str]
    """ARM id of the virtual network."""
    vnet_name: pulumi.Output[str]
    """Azure name of the virtual network."""
    subnet_ids: dict[SubnetName, pulumi.Output[str]]
    """ARM id of each of the six subnets."""
    egress_public_ip: pulumi.Output[str] | None
    """The static address third parties see (NAT gateway), when outbound NAT is on."""
    private_endpoint_site: PrivateEndpointSite | None
    """Where data layers put private endpoints; None where the environment has none."""

    def __init__(
        self, name: str, args: NetworkingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:networking:Networking", name, None, opts)
        env, namer = args.placement.env, args.placement.namer
        tags = layer_tags(args.placement.tags, "networking")
        child = pulumi.ResourceOptions(parent=self)
        rg = args.placement.resource_group_name

        ddos = (
            create_ddos_plan(
                name,
                resource_group_name=rg,
                location=args.placement.location,
                namer=namer,
                tags=tags,
                parent=self,
            )
            if env.network.enable_ddos_protection
            else None
        )
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=namer.name("virtual_network"),
            resource_group_name=rg,
            location=args.placement.location,
            address_space=network.AddressSpaceArgs(address_prefixes=[env.network.vnet_cidr]),
            enable_ddos_protection=ddos is not None,
            ddos_protection_plan=network.SubResourceArgs(id=ddos.id) if ddos else None,
            tags=tags,
            opts=child,
        )

        nat_id: pulumi.Output[str] | None = None
        self.egress_public_ip = None
        if env.network.enable_nat_gateway:
            nat, public_ip = create_nat_gateway(
                name,
                resource_group_name=rg,
                location=args.placement.location,
                namer=namer,
                tags=tags,
                parent=self,
            )
            nat_id = nat.id
            self.egress_public_ip = public_ip.ip_address.apply(lambda ip: ip or "")

        plan = subnet_plan(env)
        firewall: Firewall | None = None
        if env.network.enable_firewall and env.network.firewall_subnet_cidr:
            firewall = create_firewall(
                name,
                FirewallArgs(
                    resource_group_name=rg,
                    vnet_name=vnet.name,
                    location=args.placement.location,
                    subnet_cidr=env.network.firewall_subnet_cidr,
                    source_cidrs=[s.cidr for s in plan if s.via_firewall],
                    allowed_fqdns=env.network.egress_allowed_fqdns,
                    nat_gateway_id=nat_id,
                    namer=namer,
                    tags=tags,
                ),
                parent=self,
                depends_on=[vnet],
            )
            add_diagnostic_setting(
                f"{name}-firewall-diag",
                target_resource_id=firewall.firewall.id,
                workspace_id=args.workspace_id,
                parent=firewall.firewall,
                # Resource-specific AZFW* tables rather than AzureDiagnostics.
                log_analytics_destination_type="Dedicated",
            )

        mode = apim_mode(env)
        # The data subnet opens what the SQL server's connection policy makes clients use.
        sql_client_ports = sql_ports(
            env.database.connection_policy, env.security.enable_private_endpoints
        )
        previous: pulumi.Resource = firewall.subnet if firewall else vnet
        self.subnet_ids = {}
        for spec in plan:
            nsg = network.NetworkSecurityGroup(
                f"{name}-nsg-{spec.name.value}",
                network_security_group_name=namer.name("network_security_group", role=spec.name),
                resource_group_name=rg,
                location=args.placement.location,
                security_rules=inbound_rules(
                    spec.name, env.network.subnets, mode, sql_client_ports=sql_client_ports
                ),
                tags={**tags, "subnet": spec.name.value},
                opts=child,
            )
            # NSGs emit rule-hit logs only; they have no platform metrics.
            add_diagnostic_setting(
                f"{name}-nsg-{spec.name.value}-diag",
                target_resource_id=nsg.id,
                workspace_id=args.workspace_id,
                parent=nsg,
                metrics=False,
            )
            # Subnets of one VNet are created one after another: Azure rejects concurrent
            # updates of the same VNet (AnotherOperationInProgress).
            subnet = network.Subnet(
                f"{name}-snet-{spec.name.value}",
                subnet_name=namer.name("subnet", role=spec.name),
                virtual_network_name=vnet.name,
                resource_group_name=rg,
                address_prefix=spec.cidr,
                network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
                nat_gateway=(
                    network.SubResourceArgs(id=nat_id) if spec.nat_gateway and nat_id else None
                ),
                route_table=(
                    network.RouteTableArgs(id=firewall.route_table.id)
                    if spec.via_firewall and firewall
                    else None
                ),
                delegations=(
                    [network.DelegationArgs(name="delegation", service_name=spec.delegation)]
                    if spec.delegation
                    else None
                ),
                # No implicit Internet egress: traffic leaves through NAT or the firewall.
                # https://learn.microsoft.com/azure/virtual-network/ip-services/default-outbound-access
                default_outbound_access=False,
                private_endpoint_network_policies="Enabled" if spec.private_endpoints else None,
                service_endpoints=[
                    network.ServiceEndpointPropertiesFormatArgs(service=service)
                    for service in spec.service_endpoints
                ]
                or None,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous]),
            )
            self.subnet_ids[spec.name] = subnet.id
            previous = subnet

        self.private_endpoint_site = None
        zone_ids: dict[PrivateLink, pulumi.Output[str]] = {}
        if env.security.enable_private_endpoints:
            zone_ids = create_private_dns_zones(
                name,
                services=private_link_services(env),
                resource_group_name=rg,
                vnet_id=vnet.id,
                tags=tags,
                parent=self,
            )
            self.private_endpoint_site = PrivateEndpointSite(
                resource_group_name=rg,
                location=args.placement.location,
                subnet_ids=self.subnet_ids,
                zone_ids=zone_ids,
            )

        self.vnet_id = vnet.id
        self.vnet_name = vnet.name
        self.register_outputs(
            {
                "vnet_id": self.vnet_id,
                "vnet_name": self.vnet_name,
                "subnet_ids": {k.value: v for k, v in self.subnet_ids.items()},
                "egress_public_ip": self.egress_public_ip,
                "private_dns_zone_ids": {k.value: v for k, v in zone_ids.items()},
                "firewall_private_ip": firewall.private_ip if firewall else None,
            }
        )
