"""Seed 003's access-control matrix as one table, and the NSG rules derived from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pulumi_azure_native import network

from config.settings import SubnetName

# Azure service tags used as sources: https://learn.microsoft.com/azure/virtual-network/service-tags-overview
INTERNET = "Internet"
AZURE_LOAD_BALANCER = "AzureLoadBalancer"
API_MANAGEMENT = "ApiManagement"

FIRST_PRIORITY = 100
PRIORITY_STEP = 10
DENY_ALL_PRIORITY = 4096

SQL_GATEWAY_PORT = "1433"
# Container Apps ingress behind a workload-profiles environment's internal load balancer:
# 443 and 80 as callers dial them, 31443 and 31080 where the load balancer delivers them.
# https://learn.microsoft.com/azure/container-apps/firewall-integration#inbound
CONTAINER_APPS_INGRESS_PORTS = ("443", "31443", "80", "31080")

# Ports no rule may open to the Internet (SSH, RDP, WinRM).
MANAGEMENT_PORTS = frozenset({"22", "3389", "5985", "5986"})


class ApimMode(StrEnum):
    """How API Management sits in the gateway subnet; decides its NSG and delegation."""

    NONE = "none"  # no API Management in this environment
    INJECTED = "injected"  # classic Developer/Premium: inbound through the subnet
    INTEGRATED = "integrated"  # v2 tiers: outbound VNet integration only


SqlConnectionPolicy = Literal["Proxy", "Redirect"]


def sql_ports(policy: SqlConnectionPolicy, private_endpoint: bool) -> tuple[str, ...]:
    """Ports a SQL client must reach under the server's connection policy.

    Proxy: the gateway's 1433 only. Redirect on the public endpoint: 1433 to the gateway,
    then 11000-11999 to the node hosting the database. Redirect through a private endpoint:
    Microsoft documents 1433-65535 to the endpoint's subnet, because the redirected port is
    then any of those.
    https://learn.microsoft.com/azure/azure-sql/database/connectivity-architecture#connection-policy
    https://learn.microsoft.com/azure/azure-sql/database/private-endpoint-overview#use-redirect-connection-policy-with-private-endpoints
    """
    if policy == "Proxy":
        return (SQL_GATEWAY_PORT,)
    return ("1433-65535",) if private_endpoint else (SQL_GATEWAY_PORT, "11000-11999")


@dataclass(frozen=True)
class Flow:
    """One allowed inbound flow: from a subnet or service tag, to a subnet, on some ports."""

    name: str
    source: SubnetName | str
    destination: SubnetName
    ports: tuple[str, ...]
    protocol: str = "Tcp"
    apim_modes: frozenset[ApimMode] = frozenset(ApimMode)
    description: str = ""
    # SQL clients: the ports follow the server's connection policy (sql_ports), not `ports`.
    sql: bool = False


_INJECTED = frozenset({ApimMode.INJECTED})
_WITH_APIM = frozenset({ApimMode.INJECTED, ApimMode.INTEGRATED})

# Who may reach whom. Everything not listed is denied by each NSG's final deny-all rule.
ACCESS_MATRIX: tuple[Flow, ...] = (
    # Internet reaches only the gateway subnet, only on what classic APIM serves there.
    Flow(
        "internet-to-apim-https",
        INTERNET,
        SubnetName.GATEWAY,
        ("443",),
        apim_modes=_INJECTED,
        description="Clients to the API Management gateway",
    ),
    # https://learn.microsoft.com/azure/api-management/api-management-using-with-internal-vnet
    Flow(
        "apim-management",
        API_MANAGEMENT,
        SubnetName.GATEWAY,
        ("3443",),
        apim_modes=_INJECTED,
        description="Azure control plane to the APIM management endpoint",
    ),
    Flow(
        "lb-to-apim",
        AZURE_LOAD_BALANCER,
        SubnetName.GATEWAY,
        ("6390",),
        apim_modes=_INJECTED,
        description="Azure infrastructure load balancer health probes",
    ),
    # The app subnet accepts its callers only: the gateway subnet, the Functions workers and
    # its own apps. A workload-profiles environment's internal load balancer forwards 443 and
    # 80 to the ingress on 31443 and 31080, so the NSG must admit both pairs.
    # https://learn.microsoft.com/azure/container-apps/firewall-integration#inbound
    Flow(
        "gateway-to-app",
        SubnetName.GATEWAY,
        SubnetName.APP,
        CONTAINER_APPS_INGRESS_PORTS,
        apim_modes=_WITH_APIM,
        description="API Management to the Container Apps ingress",
    ),
    Flow(
        "functions-to-app",
        SubnetName.FUNCTIONS,
        SubnetName.APP,
        CONTAINER_APPS_INGRESS_PORTS,
        description="Workers call the services (users-api records notifications)",
    ),
    Flow(
        "app-internal",
        SubnetName.APP,
        SubnetName.APP,
        ("*",),
        protocol="*",
        description="Service-to-service calls inside the Container Apps environment",
    ),
    Flow(
        "lb-to-app",
        AZURE_LOAD_BALANCER,
        SubnetName.APP,
        ("*",),
        protocol="*",
        description="Container Apps environment health probes",
    ),
    # Functions take internal HTTP triggers from the services only.
    Flow(
        "app-to-functions",
        SubnetName.APP,
        SubnetName.FUNCTIONS,
        ("443",),
        description="Internal HTTP triggers",
    ),
    Flow(
        "lb-to-functions",
        AZURE_LOAD_BALANCER,
        SubnetName.FUNCTIONS,
        ("*",),
        protocol="*",
        description="Platform health probes",
    ),
    # Functions and apps reach the integration subnet (Service Bus private endpoints).
    Flow(
        "app-to-integration",
        SubnetName.APP,
        SubnetName.INTEGRATION,
        ("443", "5671", "5672"),
        description="Service Bus over AMQP and AMQP over WebSockets",
    ),
    Flow(
        "functions-to-integration",
        SubnetName.FUNCTIONS,
        SubnetName.INTEGRATION,
        ("443", "5671", "5672"),
        description="Service Bus over AMQP and AMQP over WebSockets",
    ),
    # ...and the data subnet (SQL, storage, Key Vault, Redis, Cosmos private endpoints).
    Flow(
        "app-to-data",
        SubnetName.APP,
        SubnetName.DATA,
        ("443", "10000"),
        description="Blob/Key Vault/Cosmos over HTTPS, Azure Managed Redis",
    ),
    Flow(
        "app-to-sql",
        SubnetName.APP,
        SubnetName.DATA,
        (SQL_GATEWAY_PORT,),
        sql=True,
        description="Azure SQL, on the ports its connection policy needs",
    ),
    Flow(
        "functions-to-data",
        SubnetName.FUNCTIONS,
        SubnetName.DATA,
        ("443", "10000"),
        description="Blob/Key Vault/Cosmos over HTTPS, Azure Managed Redis",
    ),
    Flow(
        "functions-to-sql",
        SubnetName.FUNCTIONS,
        SubnetName.DATA,
        (SQL_GATEWAY_PORT,),
        sql=True,
        description="Azure SQL, on the ports its connection policy needs",
    ),
    Flow(
        "gateway-to-data",
        SubnetName.GATEWAY,
        SubnetName.DATA,
        ("443",),
        apim_modes=_WITH_APIM,
        description="API Management reads named values from Key Vault",
    ),
    Flow(
        "management-to-sql",
        SubnetName.MANAGEMENT,
        SubnetName.DATA,
        (SQL_GATEWAY_PORT,),
        sql=True,
        description="Operators' jump hosts run database migrations and grants",
    ),
)


def inbound_rules(
    destination: SubnetName,
    subnet_cidrs: Mapping[SubnetName, str],
    apim_mode: ApimMode,
    *,
    sql_client_ports: tuple[str, ...],
) -> list[network.SecurityRuleArgs]:
    """The NSG rules of one subnet: its allowed flows in priority order, then deny-all.

    `sql_client_ports` are the ports of the SQL flows (see `sql_ports`).
    """
    flows = [f for f in ACCESS_MATRIX if f.destination is destination and apim_mode in f.apim_modes]
    rules = [
        _allow(
            flow,
            FIRST_PRIORITY + index * PRIORITY_STEP,
            subnet_cidrs,
            sql_client_ports if flow.sql else flow.ports,
        )
        for index, flow in enumerate(flows)
    ]
    rules.append(_deny("deny-all-inbound", "Anything the access matrix does not allow", "Inbound"))
    if destination in (SubnetName.DATA, SubnetName.INTEGRATION):
        # Private endpoints answer; they never start connections to the Internet.
        rules.append(
            _deny(
                "deny-internet-outbound",
                "Private endpoint subnets have no business on the Internet",
                "Outbound",
                destination=INTERNET,
            )
        )
    return rules


def _deny(
    name: str, description: str, direction: str, destination: str = "*"
) -> network.SecurityRuleArgs:
    """A last-word rule at the lowest priority Azure allows for custom rules."""
    return network.SecurityRuleArgs(
        name=name,
        description=description,
        priority=DENY_ALL_PRIORITY,
        direction=direction,
        access="Deny",
        protocol="*",
        source_address_prefix="*",
        source_port_range="*",
        destination_address_prefix=destination,
        destination_port_range="*",
    )


def _allow(
    flow: Flow, priority: int, subnet_cidrs: Mapping[SubnetName, str], ports: tuple[str, ...]
) -> network.SecurityRuleArgs:
    source = subnet_cidrs[flow.source] if isinstance(flow.source, SubnetName) else flow.source
    single = len(ports) == 1
    return network.SecurityRuleArgs(
        name=f"allow-{flow.name}",
        description=flow.description,
        priority=priority,
        direction="Inbound",
        access="Allow",
        protocol=flow.protocol,
        source_address_prefix=source,
        source_port_range="*",
        destination_address_prefix=subnet_cidrs[flow.destination],
        destination_port_range=ports[0] if single else None,
        destination_port_ranges=None if single else list(ports),
    )
