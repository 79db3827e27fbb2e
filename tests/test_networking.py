"""Networking layer per environment: address plan, delegations, NSGs against the access matrix."""

from __future__ import annotations

import ipaddress
import itertools
from typing import Any

import pytest

from config.settings import SubnetName, get_environment_settings
from infra.networking.nsg import CONTAINER_APPS_INGRESS_PORTS, MANAGEMENT_PORTS
from offline.engine import ProgramRun, RecordedResource
from tests.conftest import stack_run

NSG = "azure-native:network:NetworkSecurityGroup"
SUBNET = "azure-native:network:Subnet"


def _subnets(run: ProgramRun) -> dict[str, RecordedResource]:
    return {r.name.removeprefix("networking-snet-"): r for r in run.by_type(SUBNET)}


def _nsg(run: ProgramRun, subnet: SubnetName) -> list[dict[str, Any]]:
    nsg = next(r for r in run.by_type(NSG) if r.name == f"networking-nsg-{subnet.value}")
    return list(nsg.inputs["securityRules"])


def _matches(prefix: str, source: str) -> bool:
    if prefix in ("*", source):
        return True
    try:
        return ipaddress.ip_network(source).subnet_of(ipaddress.ip_network(prefix))  # type: ignore[arg-type]
    except ValueError:
        return False


def _port_matches(rule: dict[str, Any], port: str) -> bool:
    ranges = rule.get("destinationPortRanges") or [rule.get("destinationPortRange")]
    for item in ranges:
        if item in ("*", port):
            return True
        if "-" in str(item):
            low, high = str(item).split("-")
            if int(low) <= int(port) <= int(high):
                return True
    return False


def allowed(rules: list[dict[str, Any]], source: str, port: str) -> bool:
    """Evaluate inbound NSG rules the way Azure does: lowest priority number that matches wins."""
    inbound = sorted((r for r in rules if r["direction"] == "Inbound"), key=lambda r: r["priority"])
    for rule in inbound:
        if _matches(rule["sourceAddressPrefix"], source) and _port_matches(rule, port):
            return bool(rule["access"] == "Allow")
    return False


@pytest.mark.parametrize("stack", ["dev", "qa", "staging", "prod"])
def test_vnet_and_six_subnets_follow_settings(stack: str) -> None:
    run, env = stack_run(stack), get_environment_settings(stack)
    vnet = run.one("azure-native:network:VirtualNetwork")
    assert vnet.inputs["addressSpace"]["addressPrefixes"] == [env.network.vnet_cidr]
    subnets = _subnets(run)
    for name in SubnetName:
        assert subnets[name.value].inputs["addressPrefix"] == env.network.subnets[name]
        assert subnets[name.value].inputs["defaultOutboundAccess"] is False
        assert "networkSecurityGroup" in subnets[name.value].inputs
    assert ("firewall" in subnets) is (stack == "prod")


@pytest.mark.parametrize("stack", ["dev", "qa", "staging", "prod"])
def test_delegations_follow_what_lands_in_each_subnet(stack: str) -> None:
    subnets = _subnets(stack_run(stack))

    def delegation(name: str) -> str | None:
        found = subnets[name].inputs.get("delegations") or []
        return found[0]["serviceName"] if found else None

    assert delegation("app") == "Microsoft.App/environments"
    assert delegation("functions") == "Microsoft.App/environments"  # Flex Consumption
    # Classic Developer APIM is injected (no delegation); prod's Standard v2 integrates.
    expected_gateway = {
        "dev": None,
        "qa": None,
        "staging": None,
        "prod": "Microsoft.Web/serverFarms",
    }
    assert delegation("gateway") == expected_gateway[stack]
    for name in ("integration", "data", "management"):
        assert delegation(name) is None


@pytest.mark.parametrize("stack", ["dev", "qa", "staging", "prod"])
def test_internet_reaches_only_the_gateway_and_only_on_https(stack: str) -> None:
    run = stack_run(stack)
    injected_apim = stack in ("dev", "staging")
    for subnet in SubnetName:
        rules = _nsg(run, subnet)
        for port in ("443", "80", "22", "3389", "1433", "5671"):
            expect = injected_apim and subnet is SubnetName.GATEWAY and port == "443"
            assert allowed(rules, "Internet", port) is expect, (subnet, port)


@pytest.mark.parametrize("stack", ["dev", "qa", "staging", "prod"])
def test_access_matrix_between_subnets(stack: str) -> None:
    run, env = stack_run(stack), get_environment_settings(stack)
    cidr = {name: env.network.subnets[name] for name in SubnetName}
    has_apim = env.features.enable_api_management
    app_rules = _nsg(run, SubnetName.APP)
    # The app subnet admits its callers (the gateway when APIM exists, the workers, its own
    # apps) on the ports the environment's load balancer uses, and nothing else external.
    for port in CONTAINER_APPS_INGRESS_PORTS:
        assert allowed(app_rules, cidr[SubnetName.GATEWAY], port) is has_apim, port
        assert allowed(app_rules, cidr[SubnetName.FUNCTIONS], port), port
        assert allowed(app_rules, cidr[SubnetName.APP], port), port
        for other in (SubnetName.DATA, SubnetName.INTEGRATION, SubnetName.MANAGEMENT):
            assert not allowed(app_rules, cidr[other], port), (other, port)
    assert not allowed(app_rules, cidr[SubnetName.FUNCTIONS], "22")
    # Functions and apps reach integration (Service Bus) and data (SQL, HTTPS).
    for source in (SubnetName.APP, SubnetName.FUNCTIONS):
        assert allowed(_nsg(run, SubnetName.INTEGRATION), cidr[source], "5671")
        assert allowed(_nsg(run, SubnetName.DATA), cidr[source], "1433")
        assert allowed(_nsg(run, SubnetName.DATA), cidr[source], "443")
    # Nobody else reaches data on SQL, and management reaches nothing but SQL.
    assert not allowed(_nsg(run, SubnetName.DATA), cidr[SubnetName.GATEWAY], "1433")
    assert not allowed(_nsg(run, SubnetName.DATA), cidr[SubnetName.MANAGEMENT], "22")


@pytest.mark.parametrize("stack", ["dev", "qa", "staging", "prod"])
def test_every_nsg_ends_in_deny_all_after_platform_allows(stack: str) -> None:
    run = stack_run(stack)
    for subnet in SubnetName:
        rules = _nsg(run, subnet)
        inbound = sorted(
            (r for r in rules if r["direction"] == "Inbound"), key=lambda r: r["priority"]
        )
        assert inbound[-1]["access"] == "Deny"
        assert inbound[-1]["sourceAddressPrefix"] == "*"
        assert inbound[-1]["priority"] == 4096
        priorities = [r["priority"] for r in inbound]
        assert len(set(priorities)) == len(priorities)
        for rule in inbound:
            if rule["sourceAddressPrefix"] in ("Internet", "*") and rule["access"] == "Allow":
                ports = rule.get("destinationPortRanges") or [rule["destinationPortRange"]]
                assert not set(ports) & MANAGEMENT_PORTS


def test_classic_apim_subnet_lets_the_platform_in() -> None:
    rules = _nsg(stack_run("dev"), SubnetName.GATEWAY)
    assert allowed(rules, "ApiManagement", "3443")
    assert allowed(rules, "AzureLoadBalancer", "6390")
    # Without APIM (qa) the gateway subnet takes nothing at all.
    assert not allowed(_nsg(stack_run("qa"), SubnetName.GATEWAY), "ApiManagement", "3443")


@pytest.mark.parametrize("stack", ["dev", "qa", "staging", "prod"])
def test_private_dns_zones_only_where_private_endpoints_are_on(stack: str) -> None:
    run = stack_run(stack)
    # The privatelink zones; the Container Apps environment's own zone is the microservices'.
    zones = {
        r.inputs["privateZoneName"]
        for r in run.by_type("azure-native:privatedns:PrivateZone")
        if run.layer_of(r) == "networking"
    }
    links = [
        r
        for r in run.by_type("azure-native:privatedns:VirtualNetworkLink")
        if run.layer_of(r) == "networking"
    ]
    if stack in ("dev", "qa"):
        assert zones == set()
        return
    assert {
        "privatelink.database.windows.net",
        "privatelink.servicebus.windows.net",
        "privatelink.blob.core.windows.net",
        "privatelink.vaultcore.azure.net",
        "privatelink.azurecr.io",
    } <= zones
    assert ("privatelink.redis.azure.net" in zones) is (stack == "prod")
    assert len(links) == len(zones)
    assert all(link.inputs["registrationEnabled"] is False for link in links)


@pytest.mark.parametrize("stack", ["dev", "qa", "staging", "prod"])
def test_ddos_and_firewall_only_in_prod(stack: str) -> None:
    run = stack_run(stack)
    prod = stack == "prod"
    assert len(run.by_type("azure-native:network:DdosProtectionPlan")) == int(prod)
    assert len(run.by_type("azure-native:network:AzureFirewall")) == int(prod)
    vnet = run.one("azure-native:network:VirtualNetwork")
    assert vnet.inputs["enableDdosProtection"] is prod


@pytest.mark.parametrize("stack", ["dev", "qa", "staging"])
def test_nat_gateway_serves_app_and_functions(stack: str) -> None:
    run = stack_run(stack)
    nat = run.one("azure-native:network:NatGateway")
    subnets = _subnets(run)
    with_nat = {n for n, s in subnets.items() if s.inputs.get("natGateway", {}).get("id") == nat.id}
    assert with_nat == {"app", "functions"}
    pip = next(
        r for r in run.by_type("azure-native:network:PublicIPAddress") if r.name.endswith("nat-pip")
    )
    assert pip.inputs["publicIPAllocationMethod"] == "Static"
    assert run.stack_outputs["egress_public_ip"] == pip.outputs["ipAddress"]


def test_prod_egress_goes_through_the_firewall_and_its_nat() -> None:
    run = stack_run("prod")
    subnets = _subnets(run)
    nat = run.one("azure-native:network:NatGateway")
    routes = run.one("azure-native:network:RouteTable")
    assert subnets["firewall"].inputs["subnetName"] == "AzureFirewallSubnet"
    assert subnets["firewall"].inputs["natGateway"]["id"] == nat.id
    for name in ("app", "functions"):
        assert subnets[name].inputs["routeTable"]["id"] == routes.id
        assert "natGateway" not in subnets[name].inputs
    (route,) = routes.inputs["routes"]
    assert route["addressPrefix"] == "0.0.0.0/0"
    assert route["nextHopIpAddress"] == "10.2.6.4"
    rules = run.one("azure-native:network:FirewallPolicyRuleCollectionGroup").inputs
    fqdns = {f for rc in rules["ruleCollections"] for r in rc["rules"] for f in r["targetFqdns"]}
    assert "api.gleif.org" in fqdns


def test_subnets_are_created_one_after_another() -> None:
    run = stack_run("dev")
    subnets = _subnets(run)
    order = [s.value for s in SubnetName]
    for before, after in itertools.pairwise(order):
        assert subnets[before].urn in subnets[after].dependencies
