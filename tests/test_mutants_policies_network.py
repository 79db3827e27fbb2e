"""NSG rule boundaries that the rule fixtures leave open (mutants of policies/rules/network.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core import Finding, normalize
from policies.rules import network
from tests.policies.builders import UNKNOWN_STRING, ctx


def _nsg(rule: Mapping[str, Any], subnet: str = "app") -> dict[str, Any]:
    props: dict[str, Any] = normalize({"tags": {"subnet": subnet}, "securityRules": [rule]})
    return props


def _violations(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings if not f.unknown]


def _outbound(port: str, access: str = "Allow", destination: str = "10.1.0.0/24") -> dict[str, Any]:
    return {
        "name": "out",
        "direction": "Outbound",
        "access": access,
        "destinationAddressPrefix": destination,
        "destinationPortRange": port,
    }


def test_outbound_ssh_range_from_a_non_management_subnet_is_a_violation() -> None:
    """A range 20-25 contains 22 although neither of its ends is 22."""
    findings = network.outbound_restricted(_nsg(_outbound("20-25")), ctx(resource_type=network.NSG))
    assert any("22" in m for m in _violations(findings))


def test_outbound_ssh_from_the_management_nsg_is_allowed() -> None:
    """An NSG (not a standalone rule) is judged by its subnet tag, not by an NSG name."""
    props = _nsg(_outbound("22"), subnet="management")
    assert network.outbound_restricted(props, ctx(resource_type=network.NSG)) == []
    assert _violations(
        network.outbound_restricted(_nsg(_outbound("22")), ctx(resource_type=network.NSG))
    )


def test_outbound_deny_to_anywhere_is_not_an_allow() -> None:
    props = _nsg(_outbound("*", access="Deny", destination="*"))
    assert network.outbound_restricted(props, ctx(resource_type=network.NSG)) == []
    props = _nsg(_outbound("*", access="Allow", destination="*"))
    assert _violations(network.outbound_restricted(props, ctx(resource_type=network.NSG)))


def test_an_empty_port_spec_opens_no_port() -> None:
    """Only `*` means every port; an empty spec matches none."""
    rule = {
        "name": "in",
        "direction": "Inbound",
        "access": "Allow",
        "sourceAddressPrefix": "Internet",
        "destinationPortRange": "",
    }
    check = network.no_internet_management_ports
    assert check(_nsg(rule), ctx(resource_type=network.NSG)) == []
    star = {**rule, "destinationPortRange": "*"}
    assert _violations(check(_nsg(star), ctx(resource_type=network.NSG)))


def _inbound(port: str, access: str = "Allow") -> dict[str, Any]:
    return {
        "name": "in",
        "direction": "Inbound",
        "access": access,
        "sourceAddressPrefix": "Internet",
        "destinationPortRange": port,
    }


def test_an_unknown_rule_does_not_hide_the_rules_after_it() -> None:
    """One rule unknown in preview: the NSG's other rules are still judged."""
    unknown_first = normalize({"tags": {"subnet": "app"}, "securityRules": [UNKNOWN_STRING]})
    unknown_first["securityRules"].append(_inbound("22"))
    for check in (network.no_internet_management_ports, network.internet_inbound_gateway_only):
        findings = check(unknown_first, ctx(resource_type=network.NSG))
        assert [f.unknown for f in findings] == [True, False], check.__name__
    outbound = normalize({"tags": {"subnet": "app"}, "securityRules": [UNKNOWN_STRING]})
    outbound["securityRules"].append(_outbound("22"))
    findings = network.outbound_restricted(outbound, ctx(resource_type=network.NSG))
    assert [f.unknown for f in findings] == [True, False]


def test_an_access_that_is_not_allow_opens_nothing() -> None:
    """Only Allow opens traffic: an empty (not yet valid) access is not an Allow either way."""
    inbound = network.no_internet_management_ports(
        _nsg(_inbound("22", access="")), ctx(resource_type=network.NSG)
    )
    assert inbound == []
    outbound = network.outbound_restricted(
        _nsg(_outbound("22", access="")), ctx(resource_type=network.NSG)
    )
    assert outbound == []


def test_the_gateway_message_names_a_port_range_as_a_range() -> None:
    props = _nsg(_inbound("8000-8080"), subnet="gateway")
    findings = network.internet_inbound_gateway_only(props, ctx(resource_type=network.NSG))
    assert len(findings) == 1
    assert "port(s) 8000-8080;" in findings[0].message
    single = network.internet_inbound_gateway_only(
        _nsg(_inbound("80"), subnet="gateway"), ctx(resource_type=network.NSG)
    )
    assert "port(s) 80;" in single[0].message


def test_every_rule_of_the_nsg_is_judged_after_one_that_passes_or_is_unknown() -> None:
    """A Deny, an inbound rule, or an undecidable rule first does not end the NSG's review."""
    deny = _inbound("443", access="Deny")
    unknown_source = {**_inbound("443"), "sourceAddressPrefix": UNKNOWN_STRING}
    gateway_only = network.internet_inbound_gateway_only
    for first in (deny, unknown_source):
        props = normalize({"tags": {"subnet": "app"}, "securityRules": [first, _inbound("443")]})
        assert _violations(gateway_only(props, ctx(resource_type=network.NSG)))
    tagless = normalize({"tags": {"subnet": UNKNOWN_STRING}})
    tagless["securityRules"] = [_inbound("443"), _inbound("22")]
    assert len(gateway_only(tagless, ctx(resource_type=network.NSG))) == 2
    outbound = _nsg(_inbound("443"))
    outbound["securityRules"].append(_outbound("*", destination="*"))
    assert _violations(network.outbound_restricted(outbound, ctx(resource_type=network.NSG)))
