"""The database layer: Azure SQL server and database, private and Entra-only."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import sql

from config.settings import AZURE_REGIONS, SubnetName, secondary_region
from infra.core.locks import add_delete_lock
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.database.grants import DATABASE_ROLES
from infra.database.sql_database import create_database
from infra.database.sql_server import (
    SqlAdmin,
    add_auditing_and_defender,
    add_firewall_rules,
    create_sql_server,
    set_connection_policy,
)
from infra.networking.private_endpoints import (
    PrivateEndpointSite,
    PrivateLink,
    add_private_endpoint,
)
from infra.observability.alerts import AlertContext, sql_alerts
from infra.observability.diagnostics import add_diagnostic_setting
from infra.security.managed_identity import Workload, WorkloadIdentity

DATABASE_ROLE = "app"


@dataclass(frozen=True)
class DatabaseArgs:
    """What the database layer needs from settings and the layers before it."""

    placement: Placement
    tenant_id: pulumi.Input[str]
    admin: SqlAdmin
    # Where there is no private endpoint: operator ranges and the platform's NAT egress IP.
    allowed_ip_ranges: Sequence[pulumi.Input[str]]
    identities: Mapping[Workload, WorkloadIdentity]
    private_endpoint_site: PrivateEndpointSite | None
    workspace_id: pulumi.Input[str]
    alerts: AlertContext
    alert_emails: Sequence[str]


class Database(pulumi.ComponentResource):
    """Azure SQL with no password anywhere; workloads connect with their managed identity."""

    server_id: pulumi.Output[str]
    """ARM id of the logical server."""
    server_fqdn: pulumi.Output[str]
    """<server>.database.windows.net, which services put in their connection settings."""
    database_name: pulumi.Output[str]
    """Name of the platform's database."""
    database_id: pulumi.Output[str]
    """ARM id of the database."""
    database_identities: dict[str, dict[str, pulumi.Output[str]]]
    """Workloads that get a contained user: identity name and principal id (for grants.py)."""
    listener_fqdn: pulumi.Output[str]
    """What clients connect to: the failover group's listener (it follows the primary across
    regions) where there is one, else the server's FQDN."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:database:Database", name, None, opts)
        env, namer = args.placement.env, args.placement.namer
        tags = layer_tags(args.placement.tags, "database")
        private = env.security.enable_private_endpoints
        protect = env.security.protect_data

        server = create_sql_server(
            name,
            azure_name=namer.unique_name("sql_server", args.placement.name_suffix),
            resource_group_name=args.placement.resource_group_name,
            location=args.placement.location,
            tenant_id=args.tenant_id,
            admin=args.admin,
            private=private,
            protect=protect,
            tags=tags,
            parent=self,
        )
        if private and args.private_endpoint_site is not None:
            add_private_endpoint(
                f"{name}-sql",
                args.private_endpoint_site,
                service=PrivateLink.SQL,
                target_resource_id=server.id,
                azure_name=namer.name("private_endpoint", role="sql"),
                subnet=SubnetName.DATA,
                tags=tags,
                parent=self,
            )
        else:
            add_firewall_rules(
                name,
                server=server,
                resource_group_name=args.placement.resource_group_name,
                allowed=args.allowed_ip_ranges,
            )
        set_connection_policy(
            name,
            server=server,
            resource_group_name=args.placement.resource_group_name,
            policy=env.database.connection_policy,
        )
        add_auditing_and_defender(
            name,
            server=server,
            resource_group_name=args.placement.resource_group_name,
            defender=env.database.enable_defender,
            alert_emails=args.alert_emails,
        )
        # Audit events reach Log Analytics through the master database's diagnostic setting.
        add_diagnostic_setting(
            f"{name}-sql-audit-diag",
            target_resource_id=pulumi.Output.concat(server.id, "/databases/master"),
            workspace_id=args.workspace_id,
            parent=server,
            metrics=False,
        )

        database = create_database(
            name,
            server=server,
            azure_name=namer.name("sql_database", role=DATABASE_ROLE),
            resource_group_name=args.placement.resource_group_name,
            location=args.placement.location,
            sku=env.skus.sql_database,
            settings=env.database,
            protect=protect,
            tags=tags,
            parent=self,
        )
        add_diagnostic_setting(
            f"{name}-sqldb-diag",
            target_resource_id=database.id,
            workspace_id=args.workspace_id,
            parent=database,
        )
        sql_alerts(
            f"{name}-sqldb-alerts",
            context=args.alerts,
            database_id=database.id,
            parent=self,
            tags=tags,
        )
        if protect:
            add_delete_lock(f"{name}-sql-lock", resource=server, what="Production database server")
            add_delete_lock(f"{name}-sqldb-lock", resource=database, what="Production data")

        self.listener_fqdn = server.fully_qualified_domain_name
        replica = secondary_region(env.recovery, args.placement.location)
        if env.recovery.sql_failover_group and replica is not None:
            group = self._failover_group(
                name, args=args, server=server, database=database, replica=replica, tags=tags
            )
            self.listener_fqdn = pulumi.Output.concat(group.name, ".database.windows.net")

        self.server_id = server.id
        self.server_fqdn = server.fully_qualified_domain_name
        self.database_name = database.name
        self.database_id = database.id
        self.database_identities = {
            workload: {
                "name": args.identities[Workload(workload)].name,
                "principal_id": args.identities[Workload(workload)].principal_id,
            }
            for workload in DATABASE_ROLES
        }
        self.register_outputs(
            {
                "server_id": self.server_id,
                "server_fqdn": self.server_fqdn,
                "database_name": self.database_name,
                "database_id": self.database_id,
                "database_identities": self.database_identities,
                "listener_fqdn": self.listener_fqdn,
            }
        )

    def _failover_group(
        self,
        name: str,
        *,
        args: DatabaseArgs,
        server: sql.Server,
        database: sql.Database,
        replica: str,
        tags: Mapping[str, str],
    ) -> sql.FailoverGroup:
        """A partner server in the secondary region, configured like the primary, and the
        failover group that geo-replicates the database to it (RPO 5 s, one listener).

        https://learn.microsoft.com/azure/azure-sql/database/failover-group-sql-db
        """
        place = args.placement
        env = place.env
        private = env.security.enable_private_endpoints
        protect = env.security.protect_data
        partner_namer = dataclasses.replace(place.namer, region_code=AZURE_REGIONS[replica])
        partner = create_sql_server(
            f"{name}-secondary",
            azure_name=partner_namer.unique_name("sql_server", place.name_suffix),
            resource_group_name=place.resource_group_name,
            location=replica,
            tenant_id=args.tenant_id,
            admin=args.admin,
            private=private,
            protect=protect,
            tags=tags,
            parent=self,
        )
        if private and args.private_endpoint_site is not None:
            # A private endpoint may target a resource in another region: the workloads reach
            # the partner (and the listener after a failover) through the data subnet.
            add_private_endpoint(
                f"{name}-secondary-sql",
                args.private_endpoint_site,
                service=PrivateLink.SQL,
                target_resource_id=partner.id,
                azure_name=place.namer.name("private_endpoint", role="sql2"),
                subnet=SubnetName.DATA,
                tags=tags,
                parent=self,
            )
        else:
            add_firewall_rules(
                f"{name}-secondary",
                server=partner,
                resource_group_name=place.resource_group_name,
                allowed=args.allowed_ip_ranges,
            )
        set_connection_policy(
            f"{name}-secondary",
            server=partner,
            resource_group_name=place.resource_group_name,
            policy=env.database.connection_policy,
        )
        add_auditing_and_defender(
            f"{name}-secondary",
            server=partner,
            resource_group_name=place.resource_group_name,
            defender=env.database.enable_defender,
            alert_emails=args.alert_emails,
        )
        add_diagnostic_setting(
            f"{name}-secondary-sql-audit-diag",
            target_resource_id=pulumi.Output.concat(partner.id, "/databases/master"),
            workspace_id=args.workspace_id,
            parent=partner,
            metrics=False,
        )
        if protect:
            add_delete_lock(
                f"{name}-secondary-sql-lock", resource=partner, what="Production database replica"
            )
        return sql.FailoverGroup(
            f"{name}-fog",
            failover_group_name=place.namer.unique_name(
                "sql_server", place.name_suffix, role="fog"
            ),
            server_name=server.name,
            resource_group_name=place.resource_group_name,
            partner_servers=[sql.PartnerInfoArgs(id=partner.id)],
            databases=[database.id],
            # Azure fails over on its own after the grace period (>= 60 min, data loss
            # possible); the runbook forces it sooner when the region is known lost.
            read_write_endpoint=sql.FailoverGroupReadWriteEndpointArgs(
                failover_policy=sql.ReadWriteEndpointFailoverPolicy.AUTOMATIC,
                failover_with_data_loss_grace_period_minutes=env.recovery.sql_failover_grace_minutes,
            ),
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=server),
        )
