"""Azure SQL: Entra-only authentication, TLS 1.2, private access, auditing on every server."""

from __future__ import annotations

import ipaddress
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
    azure_name,
    expect,
    lookup,
    of_type,
    unknown,
    violation,
)

SERVER = "azure-native:sql:Server"
FIREWALL_RULE = "azure-native:sql:FirewallRule"
ENTRA_ONLY = "azure-native:sql:ServerAzureADOnlyAuthentication"
# Wider than one /24 is no longer "a few known addresses" (PSRule Azure.SQL.FirewallIPRange).
MAX_ADDRESSES_OPTION = "maxAddresses"
DEFAULT_MAX_ADDRESSES = 256
AUDITING = (
    "azure-native:sql:ServerBlobAuditingPolicy",
    "azure-native:sql:ExtendedServerBlobAuditingPolicy",
)


def entra_only_auth(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Entra-only authentication and no SQL admin password; it is set when the server is created."""
    findings = expect(
        props,
        "administrators.azureADOnlyAuthentication",
        [True],
        "SQL logins are passwords outside Entra ID",
    )
    password = lookup(props, "administratorLoginPassword")
    if password is not MISSING:
        findings.append(
            violation("administratorLoginPassword is set; an Entra-only server has no SQL admin")
        )
    return findings


def entra_only_anywhere(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """Entra-only set on the server, or by its sql:ServerAzureADOnlyAuthentication child."""
    findings: list[Finding] = []
    switches = of_type(resources, ENTRA_ONLY)
    for server in of_type(resources, SERVER):
        own = entra_only_auth(server.props, RuleContext(ctx.environment, ctx.options, SERVER))
        settled = [f for f in own if "administratorLoginPassword" in f.message]
        flag = [f for f in own if f not in settled]
        if flag:
            verdicts = [_switch_on(s, server) for s in switches]
            if True in verdicts:
                flag = []
            elif None in verdicts:
                flag = [unknown("ServerAzureADOnlyAuthentication", server.urn)]
        findings += [Finding(f.message, server.urn, f.unknown) for f in settled + flag]
    return findings


def _switch_on(switch: ResourceRecord, server: ResourceRecord) -> bool | None:
    linked = _audits(switch, server)
    value = lookup(switch.props, "azureADOnlyAuthentication")
    if linked is False or value is False or value is MISSING:
        return False
    if linked is None or value is UNKNOWN:
        return None
    return value is True


def firewall_rule(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """No "allow Azure services" (0.0.0.0-0.0.0.0), no allow-all, no wide ranges."""
    start, end = lookup(props, "startIpAddress"), lookup(props, "endIpAddress")
    if UNKNOWN in (start, end):
        return [unknown("startIpAddress / endIpAddress")]
    try:
        low = ipaddress.IPv4Address(str(start))
        high = ipaddress.IPv4Address(str(end))
    except ValueError:
        return [
            violation(f"startIpAddress {start!r} / endIpAddress {end!r} are not IPv4 addresses")
        ]
    if str(low) == str(high) == "0.0.0.0":  # noqa: S104
        return [
            violation(
                "0.0.0.0-0.0.0.0 is 'Allow Azure services': every Azure customer's resources may "
                "connect; use a private endpoint or the caller's own addresses"
            )
        ]
    limit = int(ctx.option(MAX_ADDRESSES_OPTION, DEFAULT_MAX_ADDRESSES))
    size = int(high) - int(low) + 1
    if size > limit:
        return [
            violation(
                f"{low}-{high} admits {size} addresses (allowed: at most {limit}); list the "
                "callers' addresses instead"
            )
        ]
    return []


def minimum_tls(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    return expect(props, "minimalTlsVersion", ["1.2", "1.3"], "TLS 1.0 and 1.1 are retired")


def private_access(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    if not ctx.profile.private_endpoints:
        return []
    return expect(
        props,
        "publicNetworkAccess",
        ["Disabled"],
        f"{ctx.environment} reaches SQL through its private endpoint only",
    )


def auditing_enabled(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """Every server has a (extended) server blob auditing policy with state Enabled."""
    findings: list[Finding] = []
    policies = of_type(resources, *AUDITING)
    for server in of_type(resources, SERVER):
        links = [(p, _audits(p, server)) for p in policies]
        mine = [p for p, linked in links if linked]
        if not mine:
            if any(linked is None for _, linked in links):
                findings.append(unknown("ServerBlobAuditingPolicy.serverName", server.urn))
            else:
                findings.append(
                    violation(
                        "no sql:ServerBlobAuditingPolicy or ExtendedServerBlobAuditingPolicy "
                        "for this server; auditing is off",
                        server.urn,
                    )
                )
            continue
        states = [lookup(p.props, "state") for p in mine]
        if any(isinstance(s, str) and s.lower() == "enabled" for s in states):
            continue
        if UNKNOWN in states:
            findings.append(unknown("ServerBlobAuditingPolicy.state", server.urn))
        else:
            findings.append(
                violation(
                    'the server\'s auditing policy state is not Enabled; set state = "Enabled"',
                    server.urn,
                )
            )
    return findings


def _audits(policy: ResourceRecord, server: ResourceRecord) -> bool | None:
    value = lookup(policy.props, "serverName")
    name = azure_name(server)
    if value is UNKNOWN or name is UNKNOWN:
        deps = policy.property_dependencies.get("serverName") or policy.dependencies
        return True if server.urn in deps else None
    return isinstance(value, str) and isinstance(name, str) and value.lower() == name.lower()


RULES = (
    StackRule(
        name="sql-entra-only-auth",
        description="SQL servers use Entra-only authentication (on the server or through "
        "sql:ServerAzureADOnlyAuthentication) and have no SQL admin password.",
        resource_types=(SERVER, ENTRA_ONLY),
        control="CKV2_AZURE_27 / Azure.SQL.AADOnly",
        check=entra_only_anywhere,
    ),
    ResourceRule(
        name="sql-firewall-rules-narrow",
        description="SQL firewall rules never allow Azure services (0.0.0.0) or all addresses, "
        "and admit at most maxAddresses (256) addresses.",
        resource_types=(FIREWALL_RULE,),
        control="CKV_AZURE_11 / CKV2_AZURE_34 / Azure.SQL.AllowAzureAccess",
        check=firewall_rule,
        options_schema={
            MAX_ADDRESSES_OPTION: {
                "type": "integer",
                "description": "Most addresses one SQL firewall rule may admit.",
            }
        },
    ),
    ResourceRule(
        name="sql-min-tls",
        description="SQL servers require TLS 1.2 or later.",
        resource_types=(SERVER,),
        control="CKV_AZURE_52",
        check=minimum_tls,
    ),
    ResourceRule(
        name="sql-no-public-network",
        description="SQL servers disable public network access where private endpoints are "
        "required (staging, prod).",
        resource_types=(SERVER,),
        control="CKV_AZURE_113",
        check=private_access,
    ),
    StackRule(
        name="sql-auditing-enabled",
        description="Every SQL server has a server blob auditing policy with state Enabled.",
        resource_types=(SERVER, *AUDITING),
        control="CKV_AZURE_23",
        check=auditing_enabled,
    ),
)
