"""Azure Managed Redis: one Entra-only, TLS-only database for the microservices' caches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import redisenterprise

from config.settings import SubnetName
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.networking.private_endpoints import (
    PrivateEndpointSite,
    PrivateLink,
    add_private_endpoint,
)
from infra.observability.diagnostics import add_diagnostic_setting
from infra.security.managed_identity import Workload, WorkloadIdentity

# Orders caches instrument look-ups during validation; products caches reference data reads.
CACHE_CLIENTS = (Workload.ORDERS, Workload.PRODUCTS)
# Azure Managed Redis serves its database on 10000.
DATABASE_PORT = 10000
# EnterpriseCluster: one endpoint that any Redis client (redis-py's plain client included)
# can use, and multi-key commands work across slots. OSSCluster is faster at scale but needs
# cluster-aware clients; at these cache sizes the proxy costs nothing that matters. Fixed at
# creation. https://learn.microsoft.com/azure/redis/architecture#cluster-policies
CLUSTERING_POLICY = "EnterpriseCluster"


@dataclass(frozen=True)
class RedisArgs:
    """What the cache needs from settings and from the layers before it."""

    placement: Placement
    identities: Mapping[Workload, WorkloadIdentity]
    private_endpoint_site: PrivateEndpointSite | None
    workspace_id: pulumi.Input[str]


class Redis(pulumi.ComponentResource):
    """The cache cluster, its database and who may use it. No access keys exist to export."""

    cluster_id: pulumi.Output[str]
    """ARM id of the Azure Managed Redis cluster."""
    database_id: pulumi.Output[str]
    """ARM id of the cluster's `default` database."""
    host_name: pulumi.Output[str]
    """<name>.<region>.redis.azure.net - clients connect here with an Entra token."""
    port: int
    """TCP port of the database (TLS)."""

    def __init__(
        self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:redis:Redis", name, None, opts)
        env = args.placement.env
        tags = layer_tags(args.placement.tags, "redis")
        private = env.security.enable_private_endpoints

        cluster = redisenterprise.RedisEnterprise(
            f"{name}-cluster",
            cluster_name=args.placement.namer.unique_name("redis", args.placement.name_suffix),
            resource_group_name=args.placement.resource_group_name,
            location=args.placement.location,
            sku=redisenterprise.SkuArgs(name=env.skus.redis),
            minimum_tls_version="1.2",
            # Without replication a node failure loses the cache and there is no SLA: fine for
            # dev, not where users are. https://learn.microsoft.com/azure/redis/high-availability
            high_availability="Enabled" if env.security.protect_data else "Disabled",
            public_network_access="Disabled" if private else "Enabled",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        database = redisenterprise.Database(
            f"{name}-db",
            cluster_name=cluster.name,
            resource_group_name=args.placement.resource_group_name,
            # The only database name Azure Managed Redis accepts.
            database_name="default",
            client_protocol="Encrypted",
            # Entra ID only: no keys to leak or rotate.
            # https://learn.microsoft.com/azure/redis/entra-for-authentication
            access_keys_authentication="Disabled",
            clustering_policy=CLUSTERING_POLICY,
            # Every entry the services write carries a TTL; only those may be evicted.
            eviction_policy="VolatileLRU",
            port=DATABASE_PORT,
            opts=pulumi.ResourceOptions(parent=cluster),
        )
        # One assignment write per database at a time: Azure fails concurrent ones, so each
        # waits for the one before (Azure/azure-dev#6640, microsoft/aspire#13043; the plan's
        # serial-sibling check in offline/hazards.py holds this).
        previous: redisenterprise.AccessPolicyAssignment | None = None
        for workload in CACHE_CLIENTS:
            previous = redisenterprise.AccessPolicyAssignment(
                f"{name}-access-{workload.value}",
                access_policy_assignment_name=workload.value,
                cluster_name=cluster.name,
                database_name=database.name,
                resource_group_name=args.placement.resource_group_name,
                # "default" is the only data access policy: read and write all keys.
                access_policy_name="default",
                user=redisenterprise.AccessPolicyAssignmentPropertiesUserArgs(
                    object_id=args.identities[workload].principal_id
                ),
                opts=pulumi.ResourceOptions(
                    parent=database, depends_on=[previous] if previous else None
                ),
            )

        # Metrics are the cluster's; connection audit logs (REDConnectionEvents) the database's.
        # https://learn.microsoft.com/azure/azure-monitor/reference/supported-logs/microsoft-cache-redisenterprise-databases-logs
        add_diagnostic_setting(
            f"{name}-cluster-diag",
            target_resource_id=cluster.id,
            workspace_id=args.workspace_id,
            parent=cluster,
            logs=False,
        )
        add_diagnostic_setting(
            f"{name}-db-diag",
            target_resource_id=database.id,
            workspace_id=args.workspace_id,
            parent=database,
            metrics=False,
            log_analytics_destination_type="Dedicated",
        )
        if args.private_endpoint_site is not None:
            add_private_endpoint(
                f"{name}-cluster",
                args.private_endpoint_site,
                service=PrivateLink.REDIS,
                target_resource_id=cluster.id,
                azure_name=args.placement.namer.name("private_endpoint", role="redis"),
                subnet=SubnetName.DATA,
                tags=tags,
                parent=self,
            )

        self.cluster_id = cluster.id
        self.database_id = database.id
        self.host_name = cluster.host_name
        self.port = DATABASE_PORT
        self.register_outputs(
            {
                "cluster_id": self.cluster_id,
                "database_id": self.database_id,
                "host_name": self.host_name,
                "port": self.port,
            }
        )
