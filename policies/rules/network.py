"""NSGs: from the Internet only HTTPS (and APIM management) to the gateway subnet.

Gateway convention: an NSG belongs to the gateway subnet when its `subnet` tag is
"gateway" (infra/networking tags every NSG with its subnet's name). A standalone
network:SecurityRule has no tags, so its NSG counts as the gateway's when
`networkSecurityGroupName` has a hyphen-separated segment "gateway" (infra/core/naming.py
puts the role there: nsg-plat-gateway-prod-wus2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core import (
    ALWAYS_MANDATORY,
    MISSING,
    UNKNOWN,
    Finding,
    ResourceRule,
    RuleContext,
    expect,
    expect_present,
    lookup,
    unknown,
    violation,
)

NSG = "azure-native:network:NetworkSecurityGroup"
SECURITY_RULE = "azure-native:network:SecurityRule"
SUBNET = "azure-native:network:Subnet"
VNET = "azure-native:network:VirtualNetwork"
FIREWALL = "azure-native:network:AzureFirewall"
FIREWALL_POLICY = "azure-native:network:FirewallPolicy"
RULE_COLLECTION_GROUP = "azure-native:network:FirewallPolicyRuleCollectionGroup"
GATEWAY_SUBNET = "gateway"
MANAGEMENT_SUBNET = "management"
# Subnets Azure forbids (or that must not get) an NSG.
# https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview
NO_NSG_SUBNETS = frozenset(
    {"azurefirewallsubnet", "azurefirewallmanagementsubnet", "gatewaysubnet", "routeserversubnet"}
)
# What Checkov and Azure treat as "from anywhere": https://learn.microsoft.com/azure/virtual-network/service-tags-overview
INTERNET_SOURCES = frozenset({"*", "internet", "any", "0.0.0.0", "0.0.0.0/0", "::/0", "/0"})  # noqa: S104
# SSH, RDP, WinRM over HTTP and HTTPS.
MANAGEMENT_PORTS = (22, 3389, 5985, 5986)
# Clients to the APIM gateway, and the APIM management endpoint of classic tiers.
DEFAULT_INTERNET_PORTS = (443, 3443)
ALLOWED_PORTS_OPTION = "allowedInternetPorts"
MAX_PORT = 65535

PortRanges = list[tuple[int, int]]


def no_internet_management_ports(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """No inbound Allow from the Internet to SSH, RDP or WinRM, in any environment."""
    findings: list[Finding] = []
    for label, rule in _security_rules(props, ctx.resource_type):
        if rule is UNKNOWN:
            findings.append(unknown(label))
            continue
        exposed = _internet_inbound_allow(rule)
        ports = _port_ranges(rule)
        if exposed is None or ports is None:
            if exposed is not False:
                findings.append(unknown(f"{label} source or ports"))
            continue
        if not exposed:
            continue
        hit = [p for p in MANAGEMENT_PORTS if any(lo <= p <= hi for lo, hi in ports)]
        if hit:
            findings.append(
                violation(
                    f"{label} allows inbound from the Internet to management port(s) "
                    f"{', '.join(map(str, hit))}; use Bastion or a jump host in the management "
                    "subnet"
                )
            )
    return findings


def internet_inbound_gateway_only(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Internet inbound only to the gateway subnet's NSG, and only on the allowed ports."""
    allowed = {int(p) for p in ctx.option(ALLOWED_PORTS_OPTION, DEFAULT_INTERNET_PORTS)}
    gateway = _is_gateway_nsg(props, ctx.resource_type)
    findings: list[Finding] = []
    for label, rule in _security_rules(props, ctx.resource_type):
        if rule is UNKNOWN:
            findings.append(unknown(label))
            continue
        exposed = _internet_inbound_allow(rule)
        if exposed is False:
            continue
        ports = _port_ranges(rule)
        if exposed is None or ports is None:
            findings.append(unknown(f"{label} source or ports"))
            continue
        if gateway is None:
            findings.append(unknown("the NSG's subnet (tags.subnet / networkSecurityGroupName)"))
            continue
        if not gateway:
            findings.append(
                violation(
                    f"{label} allows inbound from the Internet on an NSG that is not the gateway "
                    f"subnet's (tag subnet={GATEWAY_SUBNET}); only API Management is public"
                )
            )
            continue
        extra = [
            f"{lo}-{hi}" if lo != hi else str(lo)
            for lo, hi in ports
            if not _within(lo, hi, allowed)
        ]
        if extra:
            findings.append(
                violation(
                    f"{label} allows inbound from the Internet to port(s) {', '.join(extra)}; "
                    f"allowed: {', '.join(map(str, sorted(allowed)))}"
                )
            )
    return findings


def outbound_restricted(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """No outbound Allow to anywhere (egress goes through the firewall and NAT), and no
    outbound SSH/RDP except from the management subnet (Azure.NSG.LateralTraversal)."""
    management = _subnet_tag(props, ctx.resource_type) == MANAGEMENT_SUBNET
    findings: list[Finding] = []
    for label, rule in _security_rules(props, ctx.resource_type):
        if rule is UNKNOWN:
            findings.append(unknown(label))
            continue
        direction, access = lookup(rule, "direction"), lookup(rule, "access")
        destinations = _prefixes(rule, "destination")
        ports = _port_ranges(rule)
        if UNKNOWN in (direction, access) or destinations is None or ports is None:
            findings.append(unknown(f"{label} direction, destination or ports"))
            continue
        if str(direction).lower() != "outbound" or str(access).lower() != "allow":
            continue
        if any(d.strip().lower() in INTERNET_SOURCES for d in destinations):
            findings.append(
                violation(
                    f"{label} allows outbound to any destination; egress leaves through the "
                    "firewall, so allow only the service tags or prefixes a subnet needs"
                )
            )
            continue
        hit = [p for p in (22, 3389) if any(lo <= p <= hi for lo, hi in ports)]
        if hit and not management:
            findings.append(
                violation(
                    f"{label} allows outbound to port(s) {', '.join(map(str, hit))} from a "
                    "non-management subnet; lateral SSH/RDP comes only from management"
                )
            )
    return findings


def _prefixes(rule: Mapping[str, Any], side: str) -> list[str] | None:
    single = lookup(rule, f"{side}AddressPrefix")
    many = lookup(rule, f"{side}AddressPrefixes")
    if single is UNKNOWN or many is UNKNOWN:
        return None
    found: list[Any] = [single] if isinstance(single, str) else []
    found += many if isinstance(many, list) else []
    if UNKNOWN in found:
        return None
    return [str(p) for p in found]


def _subnet_tag(props: Mapping[str, Any], resource_type: str) -> str | None:
    if resource_type == SECURITY_RULE:
        name = lookup(props, "networkSecurityGroupName")
        parts = name.lower().split("-") if isinstance(name, str) else []
        return MANAGEMENT_SUBNET if MANAGEMENT_SUBNET in parts else None
    tag = lookup(props, "tags.subnet")
    return tag.lower() if isinstance(tag, str) else None


def subnet_has_nsg(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Every subnet (standalone, or inline in a VNet) has an NSG, except those Azure forbids."""
    if ctx.resource_type == SUBNET:
        return _subnet_nsg("subnet", props, lookup(props, "subnetName"))
    subnets = lookup(props, "subnets")
    if subnets is UNKNOWN:
        return [unknown("subnets")]
    findings: list[Finding] = []
    for index, subnet in enumerate(subnets if isinstance(subnets, list) else []):
        findings += _subnet_nsg(f"subnets[{index}]", subnet, lookup(subnet, "name"))
    return findings


def _subnet_nsg(label: str, subnet: Any, name: Any) -> list[Finding]:
    if name is UNKNOWN:
        return [unknown(f"{label} name")]
    if isinstance(name, str) and name.lower() in NO_NSG_SUBNETS:
        return []
    if lookup(subnet, "networkSecurityGroup") is UNKNOWN:
        return [unknown(f"{label} networkSecurityGroup")]
    nsg = lookup(subnet, "networkSecurityGroup.id")
    if nsg is UNKNOWN:
        return [unknown(f"{label} networkSecurityGroup.id")]
    if isinstance(nsg, str) and nsg:
        return []
    shown = f"{label} {name!r}" if isinstance(name, str) else label
    return [violation(f"{shown} has no networkSecurityGroup; traffic to it is unfiltered")]


def threat_intel_deny(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Threat intelligence denies known-malicious IPs and domains (Azure's default only alerts).

    A firewall with a firewall policy takes the mode from the policy; a classic one sets it.
    """
    if ctx.resource_type == FIREWALL:
        policy = lookup(props, "firewallPolicy.id")
        if policy is UNKNOWN or (isinstance(policy, str) and policy):
            return []
    return expect(
        props,
        "threatIntelMode",
        ["Deny"],
        "known-malicious addresses must be blocked, not only logged",
        default="Alert",
    )


def firewall_uses_policy(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Rules live in a firewall policy (one place, rule collection groups), not classic rules."""
    return expect_present(props, "firewallPolicy.id", "attach a network:FirewallPolicy")


def no_any_to_any(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """No Allow rule from any source to any destination (or any FQDN) in a collection group."""
    collections = lookup(props, "ruleCollections")
    if collections is UNKNOWN:
        return [unknown("ruleCollections")]
    findings: list[Finding] = []
    for collection in collections if isinstance(collections, list) else []:
        action = lookup(collection, "action.type")
        if action is UNKNOWN:
            findings.append(unknown("ruleCollections[].action.type"))
            continue
        if not (isinstance(action, str) and action.lower() == "allow"):
            continue
        rules = lookup(collection, "rules")
        for rule in rules if isinstance(rules, list) else []:
            verdict = _any_to_any(rule)
            name = lookup(rule, "name")
            if verdict is None:
                findings.append(unknown(f"rule {name!r} sources or destinations"))
            elif verdict:
                findings.append(
                    violation(
                        f"rule {name!r} in collection {lookup(collection, 'name')!r} allows any "
                        "source to any destination; name the sources and destinations"
                    )
                )
    return findings


def _any_to_any(rule: Any) -> bool | None:
    sources = lookup(rule, "sourceAddresses")
    groups = lookup(rule, "sourceIpGroups")
    kind = lookup(rule, "ruleType")
    if kind == "ApplicationRule":
        targets = lookup(rule, "targetFqdns")
    else:
        targets = lookup(rule, "destinationAddresses")
    if UNKNOWN in (sources, groups, targets, kind):
        return None
    source_list = sources if isinstance(sources, list) else []
    target_list = targets if isinstance(targets, list) else []
    if UNKNOWN in source_list or UNKNOWN in target_list:
        return None
    named_groups = isinstance(groups, list) and bool(groups)
    return "*" in source_list and not named_groups and "*" in target_list


def _security_rules(props: Mapping[str, Any], resource_type: str) -> list[tuple[str, Any]]:
    if resource_type == SECURITY_RULE:
        name = lookup(props, "name")
        return [(f"rule {name!r}" if isinstance(name, str) else "security rule", props)]
    rules = lookup(props, "securityRules")
    if rules is UNKNOWN:
        return [("securityRules", UNKNOWN)]
    if not isinstance(rules, list):
        return []
    labelled: list[tuple[str, Any]] = []
    for index, rule in enumerate(rules):
        name = lookup(rule, "name") if isinstance(rule, Mapping) else MISSING
        labelled.append(
            (f"rule {name!r}" if isinstance(name, str) else f"securityRules[{index}]", rule)
        )
    return labelled


def _internet_inbound_allow(rule: Mapping[str, Any]) -> bool | None:
    direction, access = lookup(rule, "direction"), lookup(rule, "access")
    if UNKNOWN in (direction, access):
        return None
    if str(direction).lower() != "inbound" or str(access).lower() != "allow":
        return False
    sources: list[Any] = []
    single, many = lookup(rule, "sourceAddressPrefix"), lookup(rule, "sourceAddressPrefixes")
    if single is UNKNOWN or many is UNKNOWN:
        return None
    if isinstance(single, str):
        sources.append(single)
    if isinstance(many, list):
        sources += many
    if UNKNOWN in sources:
        return None
    return any(str(s).strip().lower() in INTERNET_SOURCES for s in sources)


def _port_ranges(rule: Mapping[str, Any]) -> PortRanges | None:
    single, many = lookup(rule, "destinationPortRange"), lookup(rule, "destinationPortRanges")
    if single is UNKNOWN or many is UNKNOWN:
        return None
    specs: list[Any] = [single] if isinstance(single, str | int) else []
    if isinstance(many, list):
        specs += many
    if UNKNOWN in specs:
        return None
    ranges: PortRanges = []
    for spec in specs:
        text = str(spec).strip()
        if text == "*":
            ranges.append((0, MAX_PORT))
        elif "-" in text:
            low, _, high = text.partition("-")
            if low.strip().isdigit() and high.strip().isdigit():
                ranges.append((int(low), int(high)))
        elif text.isdigit():
            ranges.append((int(text), int(text)))
    return ranges


def _within(low: int, high: int, allowed: set[int]) -> bool:
    return all(port in allowed for port in range(low, high + 1)) if high - low < 1024 else False


def _is_gateway_nsg(props: Mapping[str, Any], resource_type: str) -> bool | None:
    if resource_type == SECURITY_RULE:
        name = lookup(props, "networkSecurityGroupName")
        if name is UNKNOWN:
            return None
        return isinstance(name, str) and GATEWAY_SUBNET in name.lower().split("-")
    subnet = lookup(props, "tags.subnet")
    if subnet is UNKNOWN:
        return None
    return isinstance(subnet, str) and subnet.lower() == GATEWAY_SUBNET


RULES = (
    ResourceRule(
        name="nsg-no-internet-management-ports",
        description="NSGs never allow inbound SSH, RDP or WinRM (22, 3389, 5985, 5986) from the "
        "Internet.",
        resource_types=(NSG, SECURITY_RULE),
        control="CKV_AZURE_10 / CKV_AZURE_9",
        check=no_internet_management_ports,
        enforcement=ALWAYS_MANDATORY,
    ),
    ResourceRule(
        name="nsg-internet-inbound-gateway-only",
        description="Inbound from the Internet only on the gateway subnet's NSG, and only to "
        "ports 443 and 3443.",
        resource_types=(NSG, SECURITY_RULE),
        control="CKV_AZURE_160 / MCSB NS-1",
        check=internet_inbound_gateway_only,
        options_schema={
            ALLOWED_PORTS_OPTION: {
                "type": "array",
                "items": {"type": "integer"},
                "description": "Ports the gateway NSG may open to the Internet.",
            }
        },
    ),
    ResourceRule(
        name="nsg-outbound-restricted",
        description="NSGs allow no outbound traffic to any destination, and outbound SSH/RDP "
        "only from the management subnet.",
        resource_types=(NSG, SECURITY_RULE),
        control="Azure.NSG.LateralTraversal / MCSB NS-1",
        check=outbound_restricted,
    ),
    ResourceRule(
        name="subnet-nsg-required",
        description="Every subnet has a network security group, except the firewall, gateway "
        "and route server subnets where Azure forbids one.",
        resource_types=(SUBNET, VNET),
        control="CKV2_AZURE_31 / Azure.VNET.UseNSGs",
        check=subnet_has_nsg,
    ),
    ResourceRule(
        name="firewall-threat-intel-deny",
        description="Firewall policies (and classic firewalls) deny known-malicious traffic "
        "(threatIntelMode Deny).",
        resource_types=(FIREWALL_POLICY, FIREWALL),
        control="Azure.Firewall.PolicyMode / Azure.Firewall.Mode / CKV_AZURE_216",
        check=threat_intel_deny,
    ),
    ResourceRule(
        name="firewall-no-any-to-any",
        description="Firewall policy rule collections have no Allow rule from any source to "
        "any destination.",
        resource_types=(RULE_COLLECTION_GROUP,),
        control="MCSB NS-3",
        check=no_any_to_any,
    ),
    ResourceRule(
        name="firewall-uses-policy",
        description="Azure Firewalls are managed through a firewall policy.",
        resource_types=(FIREWALL,),
        control="CKV_AZURE_219",
        check=firewall_uses_policy,
    ),
)
