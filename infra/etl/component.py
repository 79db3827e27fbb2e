"""The ETL layer: staging blob storage, its grants and diagnostics, Data Factory where flagged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from config.settings import SubnetName
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.etl.data_factory import create_data_factory, factory_principal_id
from infra.etl.storage import (
    CONTAINERS,
    Container,
    StagingStorageArgs,
    add_storage_diagnostics,
    create_staging_storage,
)
from infra.networking.private_endpoints import (
    PrivateEndpointSite,
    PrivateLink,
    add_private_endpoint,
)
from infra.observability.diagnostics import add_diagnostic_setting
from infra.security.managed_identity import Workload, WorkloadIdentity
from infra.security.rbac import BuiltInRole, assign_role

# Containers Data Factory pipelines read from and write to; the archive stays the workers'.
DATA_FACTORY_CONTAINERS = (Container.RAW, Container.STAGED)


@dataclass(frozen=True)
class EtlArgs:
    """What the ETL layer needs from settings and from the layers before it."""

    placement: Placement
    # Public ranges let through the storage firewall where it has no private endpoint:
    # the operators' ranges and the platform's own NAT egress address.
    allowed_ip_ranges: Sequence[pulumi.Input[str]]
    identities: Mapping[Workload, WorkloadIdentity]
    subscription_id: pulumi.Input[str]
    private_endpoint_site: PrivateEndpointSite | None
    workspace_id: pulumi.Input[str]
    # IP rules do not match traffic from the account's own region, so VNet-integrated
    # workers in dev/qa are only let in by a VNet rule on their subnet, which needs the
    # Microsoft.Storage service endpoint on it (a networking change; empty until then).
    # https://learn.microsoft.com/azure/storage/common/storage-network-security#restrictions-for-ip-network-rules
    allowed_subnet_ids: Sequence[pulumi.Input[str]] = ()


class Etl(pulumi.ComponentResource):
    """Where ETL files land, are staged and archived, with the least access that moves them."""

    storage_account_id: pulumi.Output[str]
    """ARM id of the staging storage account."""
    storage_account_name: pulumi.Output[str]
    """Azure name of the staging storage account (the workers' `__accountName`)."""
    blob_endpoint: pulumi.Output[str]
    """https://<account>.blob.core.windows.net/ - what the workers connect to with Entra ID."""
    container_names: list[str]
    """The containers files pass through: raw, staged, archive."""
    data_factory_id: pulumi.Output[str] | None
    """ARM id of the Data Factory, where the environment has one."""

    def __init__(
        self, name: str, args: EtlArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:etl:Etl", name, None, opts)
        env, namer = args.placement.env, args.placement.namer
        tags = layer_tags(args.placement.tags, "etl")

        staging = create_staging_storage(
            name,
            StagingStorageArgs(
                azure_name=namer.unique_name(
                    "storage_account", args.placement.name_suffix, role="etl"
                ),
                resource_group_name=args.placement.resource_group_name,
                location=args.placement.location,
                security=env.security,
                etl=env.etl,
                allowed_ip_ranges=args.allowed_ip_ranges,
                allowed_subnet_ids=args.allowed_subnet_ids,
                tags=tags,
            ),
            parent=self,
        )
        account = staging.account
        # The account sends metrics only; blob logs come from its blob service.
        add_storage_diagnostics(
            f"{name}-st-diag",
            target_resource_id=account.id,
            workspace_id=args.workspace_id,
            parent=account,
            logs=False,
        )
        add_storage_diagnostics(
            f"{name}-st-blob-diag",
            target_resource_id=staging.blob_service_id,
            workspace_id=args.workspace_id,
            parent=account,
            logs=True,
        )
        if args.private_endpoint_site is not None:
            add_private_endpoint(
                f"{name}-st-blob",
                args.private_endpoint_site,
                service=PrivateLink.BLOB,
                target_resource_id=account.id,
                azure_name=namer.name("private_endpoint", role="etl-blob"),
                subnet=SubnetName.DATA,
                tags=tags,
                parent=self,
            )

        # The ETL worker downloads into raw, writes parsed records to staged and moves what
        # it loaded to archive: Blob Data Contributor on each container, not on the account.
        # The products service reads instruments from SQL, never from blobs, so it gets
        # nothing here (there is no narrower built-in reader role in BuiltInRole either).
        workers = args.identities[Workload.WORKERS]
        for container in CONTAINERS:
            assign_role(
                f"{name}-st-{container.value}-workers",
                role=BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR,
                scope=staging.containers[container].id,
                principal_id=workers.principal_id,
                subscription_id=args.subscription_id,
                parent=self,
                description=f"ETL worker reads and writes the {container.value} container",
            )

        self.data_factory_id = None
        if env.features.enable_data_factory:
            factory = create_data_factory(
                name,
                azure_name=namer.unique_name(
                    "data_factory", args.placement.name_suffix, role="etl"
                ),
                resource_group_name=args.placement.resource_group_name,
                location=args.placement.location,
                private=env.security.enable_private_endpoints,
                tags=tags,
                parent=self,
            )
            add_diagnostic_setting(
                f"{name}-adf-diag",
                target_resource_id=factory.id,
                workspace_id=args.workspace_id,
                parent=factory,
                # Pipeline and activity runs land in ADFPipelineRun / ADFActivityRun.
                log_analytics_destination_type="Dedicated",
            )
            for container in DATA_FACTORY_CONTAINERS:
                assign_role(
                    f"{name}-st-{container.value}-adf",
                    role=BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR,
                    scope=staging.containers[container].id,
                    principal_id=factory_principal_id(factory),
                    subscription_id=args.subscription_id,
                    parent=self,
                    description=f"Data Factory pipelines read and write {container.value}",
                )
            self.data_factory_id = factory.id

        self.storage_account_id = account.id
        self.storage_account_name = account.name
        self.blob_endpoint = account.primary_endpoints.apply(lambda e: e.blob)
        self.container_names = [c.value for c in CONTAINERS]
        self.register_outputs(
            {
                "storage_account_id": self.storage_account_id,
                "storage_account_name": self.storage_account_name,
                "blob_endpoint": self.blob_endpoint,
                "container_names": self.container_names,
                "data_factory_id": self.data_factory_id,
            }
        )
