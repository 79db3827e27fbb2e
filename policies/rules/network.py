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
    lookup,
    unknown,
    violation,
)

NSG = "azure-native:network:NetworkSecurityGroup"
SECURITY_RULE = "azure-native:network:SecurityRule"
GATEWAY_SUBNET = "gateway"
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
)
