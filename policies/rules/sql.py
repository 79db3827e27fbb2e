"""Azure SQL: Entra-only authentication, TLS 1.2, private access, auditing on every server."""

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
    azure_name,
    expect,
    lookup,
    of_type,
    unknown,
    violation,
)

SERVER = "azure-native:sql:Server"
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
    ResourceRule(
        name="sql-entra-only-auth",
        description="SQL servers use Entra-only authentication and have no SQL admin password.",
        resource_types=(SERVER,),
        control="CKV2_AZURE_27",
        check=entra_only_auth,
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
