"""Serverless Cosmos DB (NoSQL) holding the ETL run log; Entra-only, data-plane RBAC."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import cosmosdb

from config.settings import SubnetName
from infra.core.locks import add_delete_lock
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.networking.private_endpoints import (
    PrivateEndpointSite,
    PrivateLink,
    add_private_endpoint,
)
from infra.observability.diagnostics import add_diagnostic_setting
from infra.security.managed_identity import Workload, WorkloadIdentity
from infra.security.rbac import role_assignment_name

DATABASE_NAME = "etl"
RUNS_CONTAINER = "runs"
# One logical partition per pipeline (firds, fitrs, gleif, openfigi): a run is looked up
# by its pipeline, and the latest runs of one pipeline are one partition's query.
RUNS_PARTITION_KEY = "/pipeline"
# "Cosmos DB Built-in Data Contributor": read and write items, no control-plane rights.
# https://learn.microsoft.com/azure/cosmos-db/nosql/security/reference-data-plane-roles
DATA_CONTRIBUTOR_ROLE = "00000000-0000-0000-0000-000000000002"
SECONDS_PER_DAY = 86_400


def runs_ttl_seconds(delete_after_days: int) -> int:
    """A run's record lives as long as the files it produced do (the blob lifecycle)."""
    return delete_after_days * SECONDS_PER_DAY


@dataclass(frozen=True)
class CosmosArgs:
    """What the run log needs from settings and from the layers before it."""

    placement: Placement
    # Public ranges let through the account firewall where it has no private endpoint.
    allowed_ip_ranges: Sequence[pulumi.Input[str]]
    identities: Mapping[Workload, WorkloadIdentity]
    private_endpoint_site: PrivateEndpointSite | None
    workspace_id: pulumi.Input[str]


class Cosmos(pulumi.ComponentResource):
    """The account, the `etl` database with its `runs` container, and the worker's grant."""

    account_id: pulumi.Output[str]
    """ARM id of the Cosmos DB account."""
    account_name: pulumi.Output[str]
    """Azure name of the Cosmos DB account."""
    endpoint: pulumi.Output[str]
    """https://<account>.documents.azure.com:443/ - the workers connect with an Entra token."""
    database_name: str
    """The SQL (NoSQL API) database: `etl`."""
    container_name: str
    """The run-log container: `runs`, partitioned by /pipeline."""

    def __init__(
        self, name: str, args: CosmosArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:cosmos:Cosmos", name, None, opts)
        env = args.placement.env
        tags = layer_tags(args.placement.tags, "cosmos")
        private = env.security.enable_private_endpoints
        protect = env.security.protect_data

        account = cosmosdb.DatabaseAccount(
            f"{name}-account",
            account_name=args.placement.namer.unique_name(
                "cosmos_account", args.placement.name_suffix
            ),
            resource_group_name=args.placement.resource_group_name,
            location=args.placement.location,
            kind="GlobalDocumentDB",
            database_account_offer_type=cosmosdb.DatabaseAccountOfferType.STANDARD,
            # Pay per request: a run log written a few times a day needs no provisioned RU/s.
            # https://learn.microsoft.com/azure/cosmos-db/serverless
            capabilities=[cosmosdb.CapabilityArgs(name="EnableServerless")],
            locations=[
                cosmosdb.LocationArgs(location_name=args.placement.location, failover_priority=0)
            ],
            consistency_policy=cosmosdb.ConsistencyPolicyArgs(
                default_consistency_level=cosmosdb.DefaultConsistencyLevel.SESSION
            ),
            # Entra ID only, and keys could not change databases or containers even if enabled.
            # https://learn.microsoft.com/azure/cosmos-db/how-to-setup-rbac#disable-local-auth
            disable_local_auth=True,
            disable_key_based_metadata_write_access=True,
            minimal_tls_version="Tls12",
            public_network_access="Disabled" if private else "Enabled",
            ip_rules=(
                []
                if private
                else [
                    cosmosdb.IpAddressOrRangeArgs(ip_address_or_range=ip)
                    for ip in args.allowed_ip_ranges
                ]
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        if protect:
            add_delete_lock(f"{name}-account-lock", resource=account, what="ETL run history")
        child = pulumi.ResourceOptions(parent=account)
        database = cosmosdb.SqlResourceSqlDatabase(
            f"{name}-db",
            account_name=account.name,
            resource_group_name=args.placement.resource_group_name,
            database_name=DATABASE_NAME,
            resource=cosmosdb.SqlDatabaseResourceArgs(id=DATABASE_NAME),
            tags=tags,
            opts=child,
        )
        cosmosdb.SqlResourceSqlContainer(
            f"{name}-runs",
            account_name=account.name,
            resource_group_name=args.placement.resource_group_name,
            database_name=DATABASE_NAME,
            container_name=RUNS_CONTAINER,
            resource=cosmosdb.SqlContainerResourceArgs(
                id=RUNS_CONTAINER,
                partition_key=cosmosdb.ContainerPartitionKeyArgs(
                    paths=[RUNS_PARTITION_KEY], kind="Hash", version=2
                ),
                default_ttl=runs_ttl_seconds(env.etl.delete_after_days),
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=database, depends_on=[database]),
        )

        # The ETL worker writes one item per run; scoped to the `etl` database, not the account.
        workers = args.identities[Workload.WORKERS]
        assignment_name = f"{name}-data-workers"
        cosmosdb.SqlResourceSqlRoleAssignment(
            assignment_name,
            account_name=account.name,
            resource_group_name=args.placement.resource_group_name,
            role_assignment_id=role_assignment_name(assignment_name),
            role_definition_id=pulumi.Output.concat(
                account.id, "/sqlRoleDefinitions/", DATA_CONTRIBUTOR_ROLE
            ),
            scope=pulumi.Output.concat(account.id, "/dbs/", DATABASE_NAME),
            principal_id=workers.principal_id,
            opts=pulumi.ResourceOptions(parent=account, depends_on=[database]),
        )

        # Cosmos DB logs go to resource-specific tables (CDBDataPlaneRequests, ...); its
        # platform metrics are read from Azure Monitor directly.
        # https://learn.microsoft.com/azure/cosmos-db/monitor-resource-logs
        add_diagnostic_setting(
            f"{name}-account-diag",
            target_resource_id=account.id,
            workspace_id=args.workspace_id,
            parent=account,
            metrics=False,
            log_analytics_destination_type="Dedicated",
        )
        if args.private_endpoint_site is not None:
            add_private_endpoint(
                f"{name}-account",
                args.private_endpoint_site,
                service=PrivateLink.COSMOS,
                target_resource_id=account.id,
                azure_name=args.placement.namer.name("private_endpoint", role="cosmos"),
                subnet=SubnetName.DATA,
                tags=tags,
                parent=self,
            )

        self.account_id = account.id
        self.account_name = account.name
        self.endpoint = account.document_endpoint
        self.database_name = DATABASE_NAME
        self.container_name = RUNS_CONTAINER
        self.register_outputs(
            {
                "account_id": self.account_id,
                "account_name": self.account_name,
                "endpoint": self.endpoint,
                "database_name": self.database_name,
                "container_name": self.container_name,
            }
        )
