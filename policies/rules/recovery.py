"""Cross-region copies for disaster recovery (seed 000: RTO < 4 h, RPO < 1 h): in prod every
stateful store keeps a copy in a second region; each copy is configured to be usable."""

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
    unknown,
    violation,
)

NAMESPACE = "azure-native:servicebus:Namespace"
FAILOVER_GROUP = "azure-native:sql:FailoverGroup"
REPLICATION = "azure-native:containerregistry:Replication"
REGISTRY = "azure-native:containerregistry:Registry"
DATABASE = "azure-native:sql:Database"
# Where the objectives apply: prod (config/recovery.py; staging rehearses without copies).
RECOVERY_ENVIRONMENTS = frozenset({"prod"})


def servicebus_geo_replicated(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """A prod Premium namespace replicates to a secondary region; Standard cannot."""
    tier = lookup(props, "sku.name")
    if ctx.environment not in RECOVERY_ENVIRONMENTS or tier not in ("Premium", UNKNOWN):
        return []
    locations = lookup(props, "geoDataReplication.locations")
    roles = [lookup(loc, "roleType") for loc in locations] if isinstance(locations, list) else []
    if tier is UNKNOWN or locations is UNKNOWN or UNKNOWN in roles:
        return [unknown("sku.name / geoDataReplication.locations")]
    if "Secondary" not in roles:
        return [
            violation(
                "geoDataReplication has no Secondary location: messages in a lost region "
                "would be lost with it; replicate to a secondary region (RPO < 1 h)"
            )
        ]
    return []


def failover_group_complete(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """A failover group names its databases and partner, and fails over on its own."""
    out: list[Finding] = []
    for path in ("databases", "partnerServers"):
        value = lookup(props, path)
        if value is UNKNOWN:
            out.append(unknown(path))
        elif value is MISSING or value == []:
            out.append(violation(f"{path} is empty: the failover group would protect nothing"))
    out += expect(
        props,
        "readWriteEndpoint.failoverPolicy",
        ["Automatic"],
        "with Manual, a region loss waits for an operator to notice before any recovery",
    )
    return out


def replica_endpoint_enabled(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """A replica with its regional endpoint off serves no pulls; Azure's default is on."""
    return expect(
        props,
        "regionEndpointEnabled",
        [True],
        "a disabled replica cannot serve images when the home region is lost",
        default=True,
    )


def prod_copies(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """In prod, every registry has a geo-replica and every SQL database a failover group."""
    if ctx.environment not in RECOVERY_ENVIRONMENTS:
        return []
    out: list[Finding] = []
    replicated = {_name(r.props.get("registryName")) for r in of_type(resources, REPLICATION)}
    for registry in of_type(resources, REGISTRY):
        name = _name(registry.props.get("registryName"))
        if name is UNKNOWN or UNKNOWN in replicated:
            out.append(unknown("registryName", registry.urn))
        elif name not in replicated:
            out.append(
                violation(
                    "prod registry without a geo-replica: a region loss takes every image "
                    "with it (CKV_AZURE_165)",
                    registry.urn,
                )
            )
    grouped: list[Any] = []
    for group in of_type(resources, FAILOVER_GROUP):
        databases = group.props.get("databases")
        grouped += databases if isinstance(databases, list) else [UNKNOWN]
    for database in of_type(resources, DATABASE):
        name = _name(database.props.get("databaseName"))
        if name is UNKNOWN or any(not isinstance(g, str) for g in grouped):
            out.append(unknown("databases", database.urn))
        elif not any(g.lower().endswith(f"/databases/{name}") for g in grouped):
            out.append(
                violation(
                    "prod database in no failover group: geo-restore takes about 12 h, beyond "
                    "the 4 h objective",
                    database.urn,
                )
            )
    return out


def _name(value: Any) -> Any:
    return UNKNOWN if value is UNKNOWN or not isinstance(value, str) else value.lower()


RULES = (
    ResourceRule(
        name="servicebus-geo-replicated",
        description="In prod, Premium Service Bus namespaces replicate to a secondary region.",
        resource_types=(NAMESPACE,),
        control="Azure.ServiceBus.GeoReplica / MCSB BR-1",
        check=servicebus_geo_replicated,
    ),
    ResourceRule(
        name="sql-failover-group-complete",
        description="SQL failover groups name their databases and partner server and fail "
        "over automatically.",
        resource_types=(FAILOVER_GROUP,),
        control="MCSB BR-1 (seed 000 RTO/RPO)",
        check=failover_group_complete,
    ),
    ResourceRule(
        name="acr-replica-endpoint-enabled",
        description="Container registry geo-replicas keep their regional endpoint enabled.",
        resource_types=(REPLICATION,),
        control="Azure.ACR.GeoReplica",
        check=replica_endpoint_enabled,
    ),
    StackRule(
        name="prod-cross-region-copies",
        description="In prod, every container registry has a geo-replica and every SQL "
        "database is in a failover group.",
        resource_types=(REGISTRY, REPLICATION, DATABASE, FAILOVER_GROUP),
        control="CKV_AZURE_165 / Azure.ACR.GeoReplica / MCSB BR-1",
        check=prod_copies,
    ),
)
