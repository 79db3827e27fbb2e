"""The SPA behind Front Door: its Static Web App reachable only through the profile, the
profile's WAF attached in Prevention where users are, origins checked over TLS."""

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
from policies.rules.frontdoor import SECURITY_POLICY, WAF_POLICY

STATIC_SITE = "azure-native:web:StaticSite"
PROFILE = "azure-native:cdn:Profile"
ORIGIN = "azure-native:cdn:AFDOrigin"
# forwardingGateway (the X-Azure-FDID lock) is honoured on the Standard plan only:
# https://learn.microsoft.com/azure/static-web-apps/front-door-manual
LOCKABLE_SKUS = frozenset({"standard"})


def static_sites_behind_front_door(
    resources: Sequence[ResourceRecord], ctx: RuleContext
) -> list[Finding]:
    """Where a stack has a Front Door profile, each Static Web App is one of its origins and
    on the Standard plan, whose forwardingGateway admits only that profile's X-Azure-FDID."""
    if not of_type(resources, PROFILE):
        return []
    origins = of_type(resources, ORIGIN)
    findings: list[Finding] = []
    for site in of_type(resources, STATIC_SITE):
        sku = lookup(site.props, "sku.name")
        if sku is UNKNOWN:
            findings.append(unknown("sku.name", site.urn))
        elif not (isinstance(sku, str) and sku.lower() in LOCKABLE_SKUS):
            findings.append(
                violation(
                    f"sku.name = {sku!r}: behind Front Door the app must be on Standard, the "
                    "plan whose forwardingGateway refuses requests without the profile's "
                    "X-Azure-FDID; on another plan its azurestaticapps.net host bypasses the WAF",
                    site.urn,
                )
            )
        verdicts = [_origin_of(origin, site) for origin in origins]
        if True in verdicts:
            continue
        if None in verdicts:
            findings.append(unknown("AFDOrigin.hostName", site.urn))
        else:
            findings.append(
                violation(
                    "no cdn:AFDOrigin points at this Static Web App's default host name while "
                    "the stack has a Front Door profile: people reach it around the WAF",
                    site.urn,
                )
            )
    return findings


def _origin_of(origin: ResourceRecord, site: ResourceRecord) -> bool | None:
    """Through the recorded dependency: an app's default host name is Azure's own
    (<words>-<hash>.<n>.azurestaticapps.net), never derived from its resource name."""
    deps = origin.property_dependencies.get("hostName") or origin.dependencies
    if site.urn in deps:
        return True
    return None if lookup(origin.props, "hostName") is UNKNOWN else False


def attached_waf_prevents(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """In staging and prod, each security policy attaches a WAF policy of this stack that
    runs in Prevention mode: a detecting policy lets every attack through to the origin."""
    if not ctx.profile.waf_prevention:
        return []
    findings: list[Finding] = []
    wafs = of_type(resources, WAF_POLICY)
    for policy in of_type(resources, SECURITY_POLICY):
        target = lookup(policy.props, "parameters.wafPolicy.id")
        hits = [w for w in wafs if refers_to(policy, "parameters", target, w)]
        if not hits:
            if target is UNKNOWN:
                findings.append(unknown("parameters.wafPolicy.id", policy.urn))
            else:
                findings.append(
                    violation(
                        f"parameters.wafPolicy.id = {target!r} is not a WAF policy of this "
                        f"stack, so its mode cannot be checked; {ctx.environment} attaches "
                        "the security layer's policy",
                        policy.urn,
                    )
                )
            continue
        for waf in hits:
            mode = lookup(waf.props, "policySettings.mode")
            if mode is UNKNOWN:
                findings.append(unknown("policySettings.mode", policy.urn))
            elif mode != "Prevention":
                findings.append(
                    violation(
                        f"the attached WAF policy runs in {mode!r} mode; {ctx.environment} "
                        "attaches one in Prevention, which blocks what it detects",
                        policy.urn,
                    )
                )
    return findings


def origin_tls_checked(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Front Door checks the origin's certificate name (Azure's default is to check)."""
    return expect(
        props,
        "enforceCertificateNameCheck",
        [True],
        "without it Front Door accepts any certificate from the origin, so HTTPS to the "
        "origin stops proving who answers",
        default=True,
    )


RULES = (
    StackRule(
        name="static-web-app-behind-front-door",
        description="Where Front Door exists, each Static Web App is its origin and on the "
        "Standard plan, locked to the profile's X-Azure-FDID.",
        resource_types=(STATIC_SITE, ORIGIN, PROFILE),
        control="MCSB NS-6",
        check=static_sites_behind_front_door,
    ),
    StackRule(
        name="frontdoor-attached-waf-prevention",
        description="In staging and prod, Front Door security policies attach a WAF policy "
        "in Prevention mode.",
        resource_types=(SECURITY_POLICY, WAF_POLICY),
        control="CKV_AZURE_123 / MCSB NS-6",
        check=attached_waf_prevents,
    ),
    ResourceRule(
        name="frontdoor-origin-certificate-check",
        description="Front Door origins are reached over TLS with the certificate name checked.",
        resource_types=(ORIGIN,),
        control="MCSB DP-3",
        check=origin_tls_checked,
    ),
)
