"""Rules across resources: private endpoints, diagnostic settings, protected prod data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from policies.core import (
    UNKNOWN,
    Finding,
    ResourceRecord,
    RuleContext,
    StackRule,
    lookup,
    of_type,
    refers_to,
    unknown,
    violation,
)

PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"

# Data services that staging and prod reach through a private endpoint only.
PRIVATE_LINK_TYPES: tuple[str, ...] = (
    "azure-native:sql:Server",
    "azure-native:servicebus:Namespace",
    "azure-native:keyvault:Vault",
    "azure-native:storage:StorageAccount",
    "azure-native:containerregistry:Registry",
    "azure-native:redisenterprise:RedisEnterprise",
    "azure-native:cosmosdb:DatabaseAccount",
)

# Resources whose logs and metrics must reach Log Analytics. SQL sends per database (the
# server itself has only the master database's); the workspace is left out, since it would
# only log queries against itself.
DIAGNOSTIC_TYPES: tuple[str, ...] = (
    "azure-native:keyvault:Vault",
    "azure-native:servicebus:Namespace",
    "azure-native:sql:Database",
    "azure-native:storage:StorageAccount",
    "azure-native:web:WebApp",
    "azure-native:app:ManagedEnvironment",
    "azure-native:apimanagement:ApiManagementService",
    "azure-native:network:NetworkSecurityGroup",
    "azure-native:network:AzureFirewall",
    "azure-native:cdn:Profile",
    "azure-native:containerregistry:Registry",
    "azure-native:cosmosdb:DatabaseAccount",
    "azure-native:datafactory:Factory",
)

# Storage accounts have metrics only; their logs come from each service (blobServices/default).
# https://learn.microsoft.com/azure/storage/blobs/monitor-blob-storage-reference
METRICS_ONLY_TYPES: tuple[str, ...] = ("azure-native:storage:StorageAccount",)

# Data that must survive a mistaken `pulumi destroy` or a replace in prod.
PROTECTED_TYPES: tuple[str, ...] = (
    "azure-native:sql:Server",
    "azure-native:sql:Database",
    "azure-native:storage:StorageAccount",
    "azure-native:keyvault:Vault",
)

_CONNECTION_LISTS = ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections")


def private_endpoints(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """Where the environment requires it, each data service has a private endpoint to it."""
    if not ctx.profile.private_endpoints:
        return []
    endpoints = of_type(resources, PRIVATE_ENDPOINT)
    findings: list[Finding] = []
    for service in of_type(resources, *PRIVATE_LINK_TYPES):
        verdicts = [v for pe in endpoints for v in _endpoint_targets(pe, service)]
        if True in verdicts:
            continue
        if None in verdicts:
            findings.append(unknown("privateLinkServiceConnections", service.urn))
        else:
            findings.append(
                violation(
                    f"no network:PrivateEndpoint connects to this service; {ctx.environment} "
                    "reaches data services privately only",
                    service.urn,
                )
            )
    return findings


def _endpoint_targets(endpoint: ResourceRecord, service: ResourceRecord) -> list[bool | None]:
    verdicts: list[bool | None] = []
    for prop in _CONNECTION_LISTS:
        connections = lookup(endpoint.props, prop)
        if connections is UNKNOWN:
            verdicts.append(refers_to(endpoint, prop, UNKNOWN, service))
            continue
        for connection in connections if isinstance(connections, list) else []:
            target = lookup(connection, "privateLinkServiceId")
            verdicts.append(refers_to(endpoint, prop, target, service))
    return verdicts


def diagnostic_settings(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """Each resource type that supports them sends its logs to the Log Analytics workspace."""
    settings = of_type(resources, DIAGNOSTIC_SETTING)
    findings: list[Finding] = []
    for target in of_type(resources, *DIAGNOSTIC_TYPES):
        links = [
            (s, refers_to(s, "resourceUri", lookup(s.props, "resourceUri"), target))
            for s in settings
        ]
        mine = [s for s, linked in links if linked]
        if not mine:
            if any(linked is None for _, linked in links):
                findings.append(unknown("DiagnosticSetting.resourceUri", target.urn))
            else:
                findings.append(
                    violation(
                        "no monitor:DiagnosticSetting sends this resource's logs to Log Analytics",
                        target.urn,
                    )
                )
            continue
        # An unknown workspaceId (preview) is still a workspace, created in the same update.
        workspaces = [lookup(s.props, "workspaceId") for s in mine]
        if not any(_has_value(w) or w is UNKNOWN for w in workspaces):
            findings.append(
                violation(
                    "the resource's diagnostic setting has no workspaceId; logs miss Log Analytics",
                    target.urn,
                )
            )
            continue
        findings += _content(target, mine)
    return findings


def _content(target: ResourceRecord, settings: Sequence[ResourceRecord]) -> list[Finding]:
    """Some setting must actually enable logs (metrics for metrics-only types)."""
    key = "metrics" if target.type in METRICS_ONLY_TYPES else "logs"
    verdicts = [_enabled(lookup(s.props, key)) for s in settings]
    if True in verdicts:
        return []
    if None in verdicts:
        return [unknown(f"DiagnosticSetting.{key}", target.urn)]
    what = "metric" if key == "metrics" else "log category or category group"
    return [
        violation(
            f"the resource's diagnostic setting enables no {what} ({key} is empty or all "
            "disabled); a workspace id alone sends nothing",
            target.urn,
        )
    ]


def _enabled(entries: Any) -> bool | None:
    if entries is UNKNOWN:
        return None
    if not isinstance(entries, list):
        return False
    verdicts: list[bool | None] = []
    for entry in entries:
        if entry is UNKNOWN:
            verdicts.append(None)
            continue
        on = lookup(entry, "enabled")
        named = lookup(entry, "category"), lookup(entry, "categoryGroup")
        if on is UNKNOWN:
            verdicts.append(None)
        elif on is True and any(isinstance(n, str) and n for n in named):
            verdicts.append(True)
        elif on is True and UNKNOWN in named:
            verdicts.append(None)
    if True in verdicts:
        return True
    return None if None in verdicts else False


def _has_value(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def protected_prod_data(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """In prod, SQL servers and databases, storage accounts and key vaults have `protect`."""
    if ctx.environment != "prod":
        return []
    return [
        violation(
            "prod data resource without protect=True; a destroy or replace would delete its data",
            resource.urn,
        )
        for resource in of_type(resources, *PROTECTED_TYPES)
        if not resource.protect
    ]


RULES = (
    StackRule(
        name="private-endpoints-required",
        description="Where private endpoints are required (staging, prod), every SQL server, "
        "Service Bus namespace, key vault, storage account, registry, Redis and Cosmos account "
        "has a private endpoint.",
        resource_types=(*PRIVATE_LINK_TYPES, PRIVATE_ENDPOINT),
        control="MCSB NS-2 (CKV2_AZURE_45, CKV2_AZURE_32, CKV2_AZURE_33)",
        check=private_endpoints,
    ),
    StackRule(
        name="diagnostic-settings-required",
        description="Every resource that supports diagnostic settings sends them to Log Analytics, "
        "with logs (metrics for storage accounts) actually enabled.",
        resource_types=(*DIAGNOSTIC_TYPES, DIAGNOSTIC_SETTING),
        control="MCSB LT-3 / LT-4 (Azure.KeyVault.Logs, Azure.ServiceBus.AuditLogs)",
        check=diagnostic_settings,
    ),
    StackRule(
        name="prod-data-protected",
        description="In prod, SQL servers and databases, storage accounts and key vaults are "
        "protected (Pulumi protect option).",
        resource_types=PROTECTED_TYPES,
        control="Platform rule (DESIGN.md)",
        check=protected_prod_data,
    ),
)
