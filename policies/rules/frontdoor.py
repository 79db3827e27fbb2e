"""Front Door: every endpoint behind a WAF security policy; WAF on, blocking in staging/prod."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policies.core import (
    UNKNOWN,
    Finding,
    ResourceRecord,
    ResourceRule,
    RuleContext,
    StackRule,
    expect,
    lookup,
    of_type,
    refers_to,
    unknown,
    violation,
)

ENDPOINT = "azure-native:cdn:AFDEndpoint"
SECURITY_POLICY = "azure-native:cdn:SecurityPolicy"
# Front Door Standard/Premium WAF: Microsoft.Network/FrontDoorWebApplicationFirewallPolicies.
WAF_POLICY = "azure-native:frontdoor:Policy"


def endpoints_have_waf(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """Each AFD endpoint is a domain of a WebApplicationFirewall security policy."""
    findings: list[Finding] = []
    policies = of_type(resources, SECURITY_POLICY)
    for endpoint in of_type(resources, ENDPOINT):
        verdicts = [_both(_is_waf(p), _covers(p, endpoint)) for p in policies]
        if True in verdicts:
            continue
        if None in verdicts:
            findings.append(unknown("SecurityPolicy.parameters", endpoint.urn))
        else:
            findings.append(
                violation(
                    "no cdn:SecurityPolicy of type WebApplicationFirewall (with a wafPolicy) "
                    "associates this endpoint; its traffic is not inspected",
                    endpoint.urn,
                )
            )
    return findings


def _both(first: bool | None, second: bool | None) -> bool | None:
    if first is False or second is False:
        return False
    return True if first and second else None


def _is_waf(policy: ResourceRecord) -> bool | None:
    kind = lookup(policy.props, "parameters.type")
    waf = lookup(policy.props, "parameters.wafPolicy.id")
    if kind is UNKNOWN:
        return None
    if not (isinstance(kind, str) and kind == "WebApplicationFirewall"):
        return False
    # An unknown id during preview is still a linked WAF policy, created in the same update.
    return waf is UNKNOWN or (isinstance(waf, str) and bool(waf))


def _covers(policy: ResourceRecord, endpoint: ResourceRecord) -> bool | None:
    associations = lookup(policy.props, "parameters.associations")
    references: list[Any] = []
    if associations is UNKNOWN:
        references.append(UNKNOWN)
    for association in associations if isinstance(associations, list) else []:
        domains = lookup(association, "domains")
        if domains is UNKNOWN:
            references.append(UNKNOWN)
        for domain in domains if isinstance(domains, list) else []:
            references.append(lookup(domain, "id"))
    verdicts = [refers_to(policy, "parameters", ref, endpoint) for ref in references]
    if True in verdicts:
        return True
    return None if None in verdicts else False


def waf_policy_mode(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Enabled everywhere; Prevention where users are (staging, prod), else Detection is allowed."""
    findings = expect(
        props,
        "policySettings.enabledState",
        ["Enabled"],
        "a disabled policy inspects nothing",
    )
    modes = ["Prevention"] if ctx.profile.waf_prevention else ["Prevention", "Detection"]
    findings += expect(
        props,
        "policySettings.mode",
        modes,
        f"{ctx.environment} must block attacks, not only log them"
        if ctx.profile.waf_prevention
        else "the WAF must at least detect",
    )
    return findings


RULES = (
    StackRule(
        name="frontdoor-endpoint-waf",
        description="Every Front Door endpoint is covered by a WAF security policy.",
        resource_types=(ENDPOINT, SECURITY_POLICY),
        control="CKV_AZURE_121",
        check=endpoints_have_waf,
    ),
    ResourceRule(
        name="frontdoor-waf-mode",
        description="Front Door WAF policies are enabled, in Prevention mode in staging and prod.",
        resource_types=(WAF_POLICY,),
        control="CKV_AZURE_123",
        check=waf_policy_mode,
    ),
)
