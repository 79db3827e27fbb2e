"""Front Door: every endpoint behind a WAF security policy; WAF on, blocking in staging/prod."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policies.core import (
    MISSING,
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
ROUTE = "azure-native:cdn:Route"
CUSTOM_DOMAIN = "azure-native:cdn:AFDCustomDomain"
# Default rule sets: DRS 2.x on Premium (Microsoft_DefaultRuleSet), classic DefaultRuleSet.
# https://learn.microsoft.com/azure/web-application-firewall/afds/waf-front-door-drs
DEFAULT_RULE_SETS = frozenset({"microsoft_defaultruleset", "defaultruleset"})
PREMIUM_SKU = "premium_azurefrontdoor"
# Front Door Standard/Premium WAF: Microsoft.Network/FrontDoorWebApplicationFirewallPolicies.
WAF_POLICY = "azure-native:frontdoor:Policy"


def endpoints_have_waf(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """Each AFD endpoint is a domain of a WebApplicationFirewall security policy, or serves
    only custom domains (routes on it) that are."""
    findings: list[Finding] = []
    policies = of_type(resources, SECURITY_POLICY)
    domains = of_type(resources, CUSTOM_DOMAIN)
    routes = of_type(resources, ROUTE)
    for endpoint in of_type(resources, ENDPOINT):
        verdicts = [_both(_is_waf(p), _covers(p, endpoint)) for p in policies]
        if True not in verdicts:
            verdicts.append(_custom_domains_covered(endpoint, routes, domains, policies))
        if True in verdicts:
            continue
        if None in verdicts:
            findings.append(unknown("SecurityPolicy.parameters", endpoint.urn))
        else:
            findings.append(
                violation(
                    "no cdn:SecurityPolicy of type WebApplicationFirewall (with a wafPolicy) "
                    "associates this endpoint or the custom domains it serves; its traffic is "
                    "not inspected",
                    endpoint.urn,
                )
            )
    return findings


def _custom_domains_covered(
    endpoint: ResourceRecord,
    routes: Sequence[ResourceRecord],
    domains: Sequence[ResourceRecord],
    policies: Sequence[ResourceRecord],
) -> bool | None:
    """True when the endpoint's routes serve only custom domains, each WAF-protected."""
    mine = [r for r in routes if _route_on(r, endpoint)]
    if not mine:
        return False
    served: list[bool | None] = []
    for route in mine:
        if lookup(route.props, "linkToDefaultDomain") != "Disabled":
            return False  # the *.azurefd.net host stays reachable without the WAF
        refs = lookup(route.props, "customDomains")
        if refs is UNKNOWN:
            return None
        for ref in refs if isinstance(refs, list) else []:
            target = lookup(ref, "id")
            hits = [d for d in domains if refers_to(route, "customDomains", target, d)]
            if not hits:
                served.append(None if target is UNKNOWN else False)
            for domain in hits:
                cover = [_both(_is_waf(p), _covers(p, domain)) for p in policies]
                served.append(True if True in cover else (None if None in cover else False))
    if not served or False in served:
        return False
    return None if None in served else True


def _route_on(route: ResourceRecord, endpoint: ResourceRecord) -> bool:
    name = lookup(route.props, "endpointName")
    if name is UNKNOWN:
        deps = route.property_dependencies.get("endpointName") or route.dependencies
        return endpoint.urn in deps
    return isinstance(name, str) and name == lookup(endpoint.props, "endpointName")


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


def waf_managed_rules(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """A default (DRS) managed rule set, blocking; request bodies inspected; no custom rule
    that allows everything. Standard has no managed rules, so staging and prod need Premium."""
    findings: list[Finding] = []
    sku = lookup(props, "sku.name")
    if sku is UNKNOWN:
        findings.append(unknown("sku.name"))
    elif not (isinstance(sku, str) and sku.lower() == PREMIUM_SKU):
        if ctx.profile.waf_prevention:
            findings.append(
                violation(
                    f"sku.name = {sku!r}; {ctx.environment} needs Premium_AzureFrontDoor for "
                    "managed rule sets (Standard has custom rules only)"
                )
            )
    else:
        findings += _default_rule_set(props)
    findings += expect(
        props,
        "policySettings.requestBodyCheck",
        ["Enabled"],
        "attacks in request bodies must be inspected",
        default="Enabled",
    )
    findings += _allow_all_custom_rules(props)
    return findings


def _default_rule_set(props: Mapping[str, Any]) -> list[Finding]:
    sets = lookup(props, "managedRules.managedRuleSets")
    if sets is UNKNOWN:
        return [unknown("managedRules.managedRuleSets")]
    listed = sets if isinstance(sets, list) else []
    kinds = [(lookup(s, "ruleSetType"), lookup(s, "ruleSetAction")) for s in listed]
    for kind, action in kinds:
        if isinstance(kind, str) and kind.lower() in DEFAULT_RULE_SETS:
            if action is UNKNOWN:
                return [unknown("managedRuleSets[].ruleSetAction")]
            if action in ("Log",):
                return [violation('the default rule set runs with ruleSetAction "Log"; block')]
            return []
    if any(UNKNOWN in pair for pair in kinds):
        return [unknown("managedRules.managedRuleSets[].ruleSetType")]
    return [
        violation(
            "managedRules has no Microsoft_DefaultRuleSet; without it the WAF checks only "
            "custom rules"
        )
    ]


def _allow_all_custom_rules(props: Mapping[str, Any]) -> list[Finding]:
    rules = lookup(props, "customRules.rules")
    if rules is UNKNOWN:
        return [unknown("customRules.rules")]
    findings: list[Finding] = []
    for rule in rules if isinstance(rules, list) else []:
        action, conditions = lookup(rule, "action"), lookup(rule, "matchConditions")
        if UNKNOWN in (action, conditions):
            findings.append(unknown("customRules.rules[]"))
            continue
        if action != "Allow" or not isinstance(conditions, list):
            continue
        # A custom rule's match conditions are ANDed: it admits every request only when each
        # of them matches everything, and one narrow condition narrows the rule.
        # https://learn.microsoft.com/azure/web-application-firewall/afds/waf-front-door-custom-rules
        verdicts = [_matches_everything(c) for c in conditions]
        if not verdicts or False in verdicts:
            continue
        if None in verdicts:
            findings.append(unknown("customRules.rules[].matchConditions"))
        else:
            findings.append(
                violation(
                    f"custom rule {lookup(rule, 'name')!r} allows every request; it skips the "
                    "managed rules for all traffic"
                )
            )
    return findings


def _matches_everything(condition: Any) -> bool | None:
    operator, negate = lookup(condition, "operator"), lookup(condition, "negateCondition")
    values = lookup(condition, "matchValue")
    listed = values if isinstance(values, list) else []
    if UNKNOWN in (condition, operator, negate, values, *listed):
        return None
    if negate is True:
        return False
    if operator == "Any":
        return True
    opens = {"0.0.0.0/0", "::/0"}
    return operator == "IPMatch" and isinstance(values, list) and bool(opens & set(values))


def routes_https_only(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Routes forward to origins over HTTPS and redirect clients from HTTP."""
    findings = expect(
        props,
        "forwardingProtocol",
        ["HttpsOnly"],
        "MatchRequest and HttpOnly send requests to the origin in plain HTTP",
        default="MatchRequest",
    )
    protocols = lookup(props, "supportedProtocols")
    if protocols is UNKNOWN or (isinstance(protocols, list) and UNKNOWN in protocols):
        return [*findings, unknown("supportedProtocols")]
    # Azure's default serves both HTTP and HTTPS.
    accepts_http = protocols is MISSING or (isinstance(protocols, list) and "Http" in protocols)
    if accepts_http:
        findings += expect(
            props,
            "httpsRedirect",
            ["Enabled"],
            "a route that accepts HTTP must redirect it to HTTPS",
            default="Disabled",
        )
    return findings


def custom_domain_tls(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Custom domains accept TLS 1.2 or later only."""
    return expect(
        props,
        "tlsSettings.minimumTlsVersion",
        ["TLS12", "TLS13"],
        "TLS 1.0 and 1.1 are retired",
    )


RULES = (
    StackRule(
        name="frontdoor-endpoint-waf",
        description="Every Front Door endpoint is covered by a WAF security policy, directly or "
        "through the custom domains its routes serve.",
        resource_types=(ENDPOINT, SECURITY_POLICY, ROUTE, CUSTOM_DOMAIN),
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
    ResourceRule(
        name="frontdoor-waf-managed-rules",
        description="Front Door WAF policies run the default managed rule set (Premium) in "
        "block mode, inspect request bodies and have no allow-all custom rule.",
        resource_types=(WAF_POLICY,),
        control="CKV_AZURE_133 / Azure.FrontDoorWAF.RuleGroups",
        check=waf_managed_rules,
    ),
    ResourceRule(
        name="frontdoor-route-https",
        description="Front Door routes forward over HTTPS only and redirect HTTP to HTTPS.",
        resource_types=(ROUTE,),
        control="Azure.CDN.HTTP / MCSB DP-3",
        check=routes_https_only,
    ),
    ResourceRule(
        name="frontdoor-custom-domain-tls",
        description="Front Door custom domains require TLS 1.2 or later.",
        resource_types=(CUSTOM_DOMAIN,),
        control="Azure.CDN.MinTLS / MCSB DP-3",
        check=custom_domain_tls,
    ),
)
