"""Networking decisions tested where they are made: subnet plan, APIM mode, NSG rules, zones.

The mock-engine tests (test_networking.py) show the four stacks end to end; these check the
branches no stack reaches (NAT off, Elastic Premium, v2 tiers without a VNet) and the exact
numbers (priorities, the firewall's address, ports) one off-by-one would break.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import pulumi
import pytest

from config.settings import (
    ApimSku,
    EnvironmentSettings,
    FunctionsPlan,
    SubnetName,
    get_environment_settings,
)
from infra.core.naming import Namer
from infra.core.placement import Placement
from infra.networking.nsg import (
    ACCESS_MATRIX,
    DENY_ALL_PRIORITY,
    FIRST_PRIORITY,
    PRIORITY_STEP,
    ApimMode,
    inbound_rules,
    sql_ports,
)
from infra.networking.private_endpoints import (
    PRIVATE_LINK_ZONES,
    PrivateEndpointSite,
    PrivateLink,
    add_private_endpoint,
)
from infra.networking.protection import Firewall, FirewallArgs, firewall_private_ip
from infra.networking.subnets import (
    CONTAINER_APPS_DELEGATION,
    SERVER_FARMS_DELEGATION,
    apim_mode,
    subnet_plan,
)
from infra.networking.vnet import Networking, NetworkingArgs, private_link_services
from offline.engine import ProgramRun, RecordedResource, run_program

S = SubnetName


def _with(env: str, **sections: dict[str, Any]) -> EnvironmentSettings:
    """An environment with some fields changed, without re-running the settings validators."""
    settings = get_environment_settings(env)
    updates = {
        section: getattr(settings, section).model_copy(update=fields)
        for section, fields in sections.items()
    }
    return settings.model_copy(update=updates)


def _plan(env: EnvironmentSettings) -> dict[SubnetName, Any]:
    return {spec.name: spec for spec in subnet_plan(env)}


# --- APIM mode: every tier, and no APIM at all ---------------------------------------------


@pytest.mark.parametrize(
    ("sku", "mode"),
    [
        (ApimSku.DEVELOPER, ApimMode.INJECTED),
        (ApimSku.PREMIUM, ApimMode.INJECTED),
        (ApimSku.STANDARD_V2, ApimMode.INTEGRATED),
        (ApimSku.PREMIUM_V2, ApimMode.INTEGRATED),
    ],
)
def test_apim_tiers_that_join_the_vnet(sku: ApimSku, mode: ApimMode) -> None:
    assert apim_mode(_with("dev", skus={"api_management": sku})) is mode


@pytest.mark.parametrize(
    "sku", [ApimSku.CONSUMPTION, ApimSku.BASIC, ApimSku.STANDARD, ApimSku.BASIC_V2]
)
def test_apim_tiers_without_a_vnet_are_refused_with_the_allowed_ones(sku: ApimSku) -> None:
    with pytest.raises(ValueError, match=rf"tier {sku.value} cannot join the VNet") as raised:
        apim_mode(_with("dev", skus={"api_management": sku}))
    assert str(raised.value).endswith("allowed: Developer, Premium, PremiumV2, StandardV2")


def test_no_apim_means_no_mode_whatever_the_tier() -> None:
    env = _with("qa", skus={"api_management": ApimSku.BASIC})
    assert env.features.enable_api_management is False
    assert apim_mode(env) is ApimMode.NONE


# --- Subnet plan: delegations, NAT, firewall, service endpoints -----------------------------


def test_dev_subnet_plan() -> None:
    plan = _plan(get_environment_settings("dev"))
    assert [spec.name for spec in subnet_plan(get_environment_settings("dev"))] == list(S)
    assert {n: s.delegation for n, s in plan.items()} == {
        S.GATEWAY: None,
        S.APP: CONTAINER_APPS_DELEGATION,
        S.FUNCTIONS: CONTAINER_APPS_DELEGATION,
        S.INTEGRATION: None,
        S.DATA: None,
        S.MANAGEMENT: None,
    }
    assert {n for n, s in plan.items() if s.nat_gateway} == {S.APP, S.FUNCTIONS}
    assert not any(s.via_firewall for s in plan.values())
    assert {n for n, s in plan.items() if s.private_endpoints} == {S.INTEGRATION, S.DATA}
    # No private endpoints in dev: the workloads reach storage through a service endpoint,
    # API Management its Key Vault named values (user-assigned identity, no trusted bypass).
    assert {n: s.service_endpoints for n, s in plan.items() if s.service_endpoints} == {
        S.APP: ("Microsoft.Storage",),
        S.FUNCTIONS: ("Microsoft.Storage",),
        S.GATEWAY: ("Microsoft.KeyVault",),
    }
    for name, spec in plan.items():
        assert spec.cidr == get_environment_settings("dev").network.subnets[name]


def test_prod_subnet_plan_sends_egress_through_the_firewall() -> None:
    plan = _plan(get_environment_settings("prod"))
    assert plan[S.GATEWAY].delegation == SERVER_FARMS_DELEGATION  # Standard v2 integrates
    assert {n for n, s in plan.items() if s.via_firewall} == {S.APP, S.FUNCTIONS}
    assert not any(s.nat_gateway for s in plan.values())
    assert not any(s.service_endpoints for s in plan.values())


def test_without_nat_no_subnet_is_attached_to_it() -> None:
    plan = _plan(_with("dev", network={"enable_nat_gateway": False}))
    assert not any(s.nat_gateway for s in plan.values())
    assert not any(s.via_firewall for s in plan.values())


def test_firewall_without_nat_still_routes_the_workload_subnets() -> None:
    plan = _plan(_with("prod", network={"enable_nat_gateway": False}))
    assert {n for n, s in plan.items() if s.via_firewall} == {S.APP, S.FUNCTIONS}
    assert not any(s.nat_gateway for s in plan.values())


def test_elastic_premium_functions_delegate_to_server_farms() -> None:
    env = _with("dev", skus={"functions_plan": FunctionsPlan.ELASTIC_PREMIUM})
    assert _plan(env)[S.FUNCTIONS].delegation == SERVER_FARMS_DELEGATION
    assert _plan(env)[S.APP].delegation == CONTAINER_APPS_DELEGATION


def test_no_apim_leaves_the_gateway_subnet_undelegated() -> None:
    env = _with("prod", features={"enable_api_management": False})
    assert _plan(env)[S.GATEWAY].delegation is None


# --- NSG rules: priorities, ports, sources, outbound denies ---------------------------------

CIDRS = get_environment_settings("dev").network.subnets


def _rules(destination: SubnetName, mode: ApimMode) -> list[dict[str, Any]]:
    return [
        {k: getattr(rule, k) for k in _FIELDS}
        for rule in inbound_rules(
            destination, CIDRS, mode, sql_client_ports=sql_ports("Proxy", private_endpoint=False)
        )
    ]


_FIELDS = (
    "name",
    "priority",
    "direction",
    "access",
    "protocol",
    "source_address_prefix",
    "destination_address_prefix",
    "destination_port_range",
    "destination_port_ranges",
)


def test_priority_constants_are_azures() -> None:
    # Custom NSG rules take priorities 100-4096: the first allow starts at the top.
    # https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#security-rules
    assert (FIRST_PRIORITY, PRIORITY_STEP, DENY_ALL_PRIORITY) == (100, 10, 4096)


def test_injected_gateway_rules_in_order_then_deny_all() -> None:
    rules = _rules(S.GATEWAY, ApimMode.INJECTED)
    assert [(r["name"], r["priority"]) for r in rules] == [
        ("allow-internet-to-apim-https", 100),
        ("allow-apim-management", 110),
        ("allow-lb-to-apim", 120),
        ("deny-all-inbound", 4096),
    ]
    https = rules[0]
    assert https["source_address_prefix"] == "Internet"
    assert https["destination_address_prefix"] == CIDRS[S.GATEWAY]
    assert (https["destination_port_range"], https["destination_port_ranges"]) == ("443", None)
    assert (https["direction"], https["access"], https["protocol"]) == ("Inbound", "Allow", "Tcp")
    deny = rules[-1]
    assert (deny["direction"], deny["access"], deny["protocol"]) == ("Inbound", "Deny", "*")
    assert (deny["source_address_prefix"], deny["destination_address_prefix"]) == ("*", "*")
    assert deny["destination_port_range"] == "*"


def test_integrated_or_absent_apim_opens_nothing_on_the_gateway_subnet() -> None:
    for mode in (ApimMode.INTEGRATED, ApimMode.NONE):
        assert [r["name"] for r in _rules(S.GATEWAY, mode)] == ["deny-all-inbound"]


def test_multi_port_flows_list_their_ports_and_subnet_sources_use_cidrs() -> None:
    rules = {r["name"]: r for r in _rules(S.APP, ApimMode.INTEGRATED)}
    gateway = rules["allow-gateway-to-app"]
    assert gateway["source_address_prefix"] == CIDRS[S.GATEWAY]
    assert (gateway["destination_port_range"], gateway["destination_port_ranges"]) == (
        None,
        ["443", "31443", "80", "31080"],
    )
    workers = rules["allow-functions-to-app"]
    assert workers["source_address_prefix"] == CIDRS[S.FUNCTIONS]
    assert workers["destination_port_ranges"] == ["443", "31443", "80", "31080"]
    assert rules["allow-app-internal"]["protocol"] == "*"
    assert [r["priority"] for r in _rules(S.APP, ApimMode.INTEGRATED)] == [
        100,
        110,
        120,
        130,
        4096,
    ]
    # Without APIM the gateway's flow is gone and the others move up.
    assert [r["name"] for r in _rules(S.APP, ApimMode.NONE)] == [
        "allow-functions-to-app",
        "allow-app-internal",
        "allow-lb-to-app",
        "deny-all-inbound",
    ]


@pytest.mark.parametrize("destination", list(S))
def test_only_private_endpoint_subnets_deny_internet_outbound(destination: SubnetName) -> None:
    outbound = [r for r in _rules(destination, ApimMode.INJECTED) if r["direction"] == "Outbound"]
    if destination in (S.DATA, S.INTEGRATION):
        (deny,) = outbound
        assert deny["name"] == "deny-internet-outbound"
        assert (deny["access"], deny["destination_address_prefix"]) == ("Deny", "Internet")
        assert deny["priority"] == 4096
    else:
        assert outbound == []


def test_every_flow_lands_on_its_destination_only() -> None:
    for flow in ACCESS_MATRIX:
        for destination in S:
            names = {r["name"] for r in _rules(destination, ApimMode.INJECTED)}
            assert (f"allow-{flow.name}" in names) is (flow.destination is destination)


# --- Private DNS zones and the firewall's address -------------------------------------------


def test_private_link_services_follow_the_feature_flags() -> None:
    always = (PrivateLink.KEY_VAULT, PrivateLink.BLOB, PrivateLink.QUEUE, PrivateLink.TABLE)
    assert private_link_services(get_environment_settings("dev")) == (
        *always,
        PrivateLink.SQL,
        PrivateLink.SERVICE_BUS,
        PrivateLink.CONTAINER_REGISTRY,
        PrivateLink.REDIS,
        PrivateLink.COSMOS,
    )
    off = {
        "enable_sql_database": False,
        "enable_service_bus": False,
        "enable_container_apps": False,
        "enable_redis": False,
        "enable_cosmos_db": False,
    }
    assert private_link_services(_with("dev", features=off)) == always
    for flag, service in [
        ("enable_sql_database", PrivateLink.SQL),
        ("enable_service_bus", PrivateLink.SERVICE_BUS),
        ("enable_container_apps", PrivateLink.CONTAINER_REGISTRY),
        ("enable_redis", PrivateLink.REDIS),
        ("enable_cosmos_db", PrivateLink.COSMOS),
    ]:
        only = _with("dev", features={**off, flag: True})
        assert private_link_services(only) == (*always, service)


def test_every_private_link_service_has_a_zone() -> None:
    assert set(PRIVATE_LINK_ZONES) == set(PrivateLink)
    assert PRIVATE_LINK_ZONES[PrivateLink.CONTAINER_REGISTRY] == (
        "privatelink.azurecr.io",
        "registry",
    )


@pytest.mark.parametrize(
    ("cidr", "address"),
    [
        ("10.2.6.0/26", "10.2.6.4"),
        ("10.9.255.192/26", "10.9.255.196"),
        ("192.168.0.0/24", "192.168.0.4"),
    ],
)
def test_firewall_takes_the_fourth_host_of_its_subnet(cidr: str, address: str) -> None:
    # Azure reserves the first four addresses of a subnet; the firewall gets the next one.
    # https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq#are-there-any-restrictions-on-using-ip-addresses-within-these-subnets
    assert firewall_private_ip(cidr) == address


def test_subnet_specs_and_the_firewall_record_are_frozen() -> None:
    spec = subnet_plan(get_environment_settings("dev"))[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.nat_gateway = True  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ACCESS_MATRIX[0].ports = ("22",)  # type: ignore[misc]
    # Records handed between layers are frozen too (building one needs a Pulumi run).
    for record in (Firewall, FirewallArgs, PrivateEndpointSite, NetworkingArgs):
        assert record.__dataclass_params__.frozen, record  # type: ignore[attr-defined]


# --- The layer alone under the mock engine (a few seconds, not a whole stack) ----------------


def _layer(stack: str, **network: Any) -> ProgramRun:
    return _layer_run(stack, tuple(sorted(network.items())))


@functools.cache
def _layer_run(stack: str, network: tuple[tuple[str, Any], ...]) -> ProgramRun:
    env = _with(stack, network=dict(network)) if network else get_environment_settings(stack)

    def program() -> None:
        layer = Networking(
            "networking",
            NetworkingArgs(
                placement=Placement(
                    "rg-x",
                    "/subscriptions/s/resourceGroups/rg-x",
                    "westus2",
                    env,
                    Namer("plat", stack, "wus2"),
                    {"env": stack},
                    "abc123",
                ),
                workspace_id=WORKSPACE,
            ),
        )
        pulumi.export("egress", layer.egress_public_ip)
        pulumi.export("site", layer.private_endpoint_site is not None)

    run = run_program(stack, config={}, program=program)
    assert run.error is None, run.error
    return run


WORKSPACE = (
    "/subscriptions/x/resourceGroups/rg-x/providers/Microsoft.OperationalInsights/workspaces/log"
)


def _named(run: ProgramRun, name: str) -> RecordedResource:
    return next(r for r in run.resources.values() if r.name == name)


def test_dev_layer_subnets_nat_and_no_protection() -> None:
    run = _layer("dev")
    vnet = run.one("azure-native:network:VirtualNetwork")
    assert vnet.inputs["enableDdosProtection"] is False
    assert "ddosProtectionPlan" not in vnet.inputs
    assert run.by_type("azure-native:network:DdosProtectionPlan") == []
    assert run.by_type("azure-native:network:AzureFirewall") == []
    nat = run.one("azure-native:network:NatGateway")
    assert nat.inputs["idleTimeoutInMinutes"] == 4
    subnets = {r.name: r.inputs for r in run.by_type("azure-native:network:Subnet")}
    assert set(subnets) == {f"networking-snet-{s.value}" for s in S}
    for name in S:
        inputs = subnets[f"networking-snet-{name.value}"]
        assert inputs["defaultOutboundAccess"] is False
        assert ("natGateway" in inputs) is (name in (S.APP, S.FUNCTIONS))
        assert "routeTable" not in inputs
        assert inputs["privateEndpointNetworkPolicies"] == (
            "Enabled" if name in (S.DATA, S.INTEGRATION) else "Disabled"
        )
        endpoints = [e["service"] for e in inputs.get("serviceEndpoints", [])]
        expected = {S.APP: ["Microsoft.Storage"], S.FUNCTIONS: ["Microsoft.Storage"]}
        expected[S.GATEWAY] = ["Microsoft.KeyVault"]
        assert endpoints == expected.get(name, [])
        delegations = inputs.get("delegations")
        if name in (S.APP, S.FUNCTIONS):
            assert delegations == [{"name": "delegation", "serviceName": CONTAINER_APPS_DELEGATION}]
        else:
            assert delegations is None
    assert run.stack_outputs == {
        "egress": run.one("azure-native:network:PublicIPAddress").outputs["ipAddress"],
        "site": False,
    }
    assert run.by_type("azure-native:privatedns:PrivateZone") == []


def test_every_nsg_sends_its_rule_logs_but_no_metrics() -> None:
    run = _layer("dev")
    settings = {r.name: r.inputs for r in run.by_type("azure-native:monitor:DiagnosticSetting")}
    for name in S:
        inputs = settings[f"networking-nsg-{name.value}-diag"]
        assert inputs["workspaceId"] == WORKSPACE
        assert "metrics" not in inputs
    nsg = _named(run, "networking-nsg-app")
    assert nsg.inputs["tags"] == {"env": "dev", "layer": "networking", "subnet": "app"}


def test_prod_layer_ddos_firewall_and_routes() -> None:
    run = _layer("prod")
    plan = run.one("azure-native:network:DdosProtectionPlan")
    vnet = run.one("azure-native:network:VirtualNetwork")
    assert vnet.inputs["enableDdosProtection"] is True
    assert vnet.inputs["ddosProtectionPlan"]["id"] == plan.id
    nat = run.one("azure-native:network:NatGateway")
    firewall_subnet = _named(run, "networking-snet-firewall")
    assert firewall_subnet.inputs["subnetName"] == "AzureFirewallSubnet"
    assert firewall_subnet.inputs["addressPrefix"] == "10.2.6.0/26"
    assert firewall_subnet.inputs["natGateway"]["id"] == nat.id
    assert vnet.urn in firewall_subnet.dependencies
    # The six subnets wait for the firewall's: one VNet update at a time.
    assert firewall_subnet.urn in _named(run, "networking-snet-gateway").dependencies
    routes = run.one("azure-native:network:RouteTable")
    assert routes.inputs["disableBgpRoutePropagation"] is True
    (route,) = routes.inputs["routes"]
    assert (route["nextHopType"], route["nextHopIpAddress"]) == ("VirtualAppliance", "10.2.6.4")
    for name in S:
        inputs = _named(run, f"networking-snet-{name.value}").inputs
        assert ("routeTable" in inputs) is (name in (S.APP, S.FUNCTIONS))
        assert "natGateway" not in inputs
    group = run.one("azure-native:network:FirewallPolicyRuleCollectionGroup").inputs
    assert group["priority"] == 200
    (collection,) = group["ruleCollections"]
    assert collection["priority"] == 200
    assert collection["action"] == {"type": "Allow"}
    for rule in collection["rules"]:
        assert rule["protocols"] == [{"protocolType": "Https", "port": 443}]
        assert rule["sourceAddresses"] == ["10.2.1.0/24", "10.2.2.0/24"]
    firewall = run.one("azure-native:network:AzureFirewall")
    diag = _named(run, "networking-firewall-diag").inputs
    assert diag["resourceUri"] == firewall.id
    assert diag["logAnalyticsDestinationType"] == "Dedicated"
    assert run.stack_outputs["site"] is True
    zones = run.by_type("azure-native:privatedns:PrivateZone")
    assert {z.inputs["privateZoneName"] for z in zones} == {
        PRIVATE_LINK_ZONES[s][0] for s in private_link_services(get_environment_settings("prod"))
    }
    links = run.by_type("azure-native:privatedns:VirtualNetworkLink")
    assert len(links) == len(zones)
    assert all(link.inputs["virtualNetwork"]["id"] == vnet.id for link in links)


def test_prod_without_nat_keeps_the_firewall_and_has_no_egress_address() -> None:
    run = _layer("prod", enable_nat_gateway=False)
    assert run.by_type("azure-native:network:NatGateway") == []
    assert "natGateway" not in _named(run, "networking-snet-firewall").inputs
    assert run.stack_outputs["egress"] is None
    assert len(run.by_type("azure-native:network:AzureFirewall")) == 1


def test_firewall_flag_without_a_subnet_builds_no_firewall() -> None:
    # The settings validator refuses this combination; the layer does not half-build it.
    run = _layer("prod", enable_firewall=False)
    assert run.by_type("azure-native:network:AzureFirewall") == []
    assert "routeTable" not in _named(run, "networking-snet-app").inputs
    run = _layer("prod", firewall_subnet_cidr=None)
    assert run.by_type("azure-native:network:AzureFirewall") == []


def test_private_endpoint_to_the_registry_uses_its_zone_and_group() -> None:
    def program() -> None:
        site = PrivateEndpointSite(
            resource_group_name="rg-x",
            location="westus2",
            subnet_ids={S.DATA: pulumi.Output.from_input("/subnets/data")},
            zone_ids={PrivateLink.CONTAINER_REGISTRY: pulumi.Output.from_input("/zones/acr")},
        )
        parent = pulumi.ComponentResource("test:x:Parent", "parent")
        add_private_endpoint(
            "registry",
            site,
            service=PrivateLink.CONTAINER_REGISTRY,
            target_resource_id="/registries/cr",
            azure_name="pep-cr",
            subnet=S.DATA,
            tags={"layer": "security"},
            parent=parent,
        )
        with pytest.raises(ValueError, match="no private DNS zone for sql"):
            add_private_endpoint(
                "sql",
                site,
                service=PrivateLink.SQL,
                target_resource_id="/servers/sql",
                azure_name="pep-sql",
                subnet=S.DATA,
                tags={},
                parent=parent,
            )

    run = run_program("dev", config={}, program=program)
    assert run.error is None, run.error
    endpoint = run.one("azure-native:network:PrivateEndpoint").inputs
    assert endpoint["subnet"]["id"] == "/subnets/data"
    assert endpoint["customNetworkInterfaceName"] == "pep-cr-nic"
    (connection,) = endpoint["privateLinkServiceConnections"]
    assert connection["groupIds"] == ["registry"]
    assert connection["privateLinkServiceId"] == "/registries/cr"
    group = run.one("azure-native:network:PrivateDnsZoneGroup").inputs
    assert group["privateDnsZoneConfigs"] == [{"name": "acr", "privateDnsZoneId": "/zones/acr"}]
    assert run.by_type("azure-native:network:PrivateEndpoint")[0].inputs["tags"] == {
        "layer": "security"
    }
