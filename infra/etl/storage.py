"""ETL staging storage: Entra-only blob account, soft delete, versioning and the blob lifecycle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import pulumi
from pulumi_azure_native import monitor, storage

from config.settings import EtlSettings, SecuritySettings
from infra.core.locks import add_delete_lock
from infra.observability.diagnostics import add_diagnostic_setting


class Container(StrEnum):
    """The three stages an ETL file passes through (seed 001: FIRDS/FITRS downloads)."""

    RAW = "raw"  # files as downloaded from ESMA, GLEIF, OpenFIGI
    STAGED = "staged"  # parsed records, ready to load into the products database
    ARCHIVE = "archive"  # what was loaded, kept for record keeping


CONTAINERS = tuple(Container)
LIFECYCLE_RULE_NAME = "etl-files"
# Storage rejects the AllMetrics category other resources take; Transaction is the one
# metric category both the account and its blob service accept.
# https://learn.microsoft.com/azure/storage/blobs/monitor-blob-storage-reference
STORAGE_METRIC_CATEGORY = "Transaction"
VERSION_RULE_NAME = "etl-old-versions"


def sku_name(etl: EtlSettings) -> str:
    """Standard_<redundancy> from settings: LRS in dev and qa, GRS where the environment
    mirrors prod (staging, prod).

    Not ZRS while files are archived: the archive tier exists only on LRS, GRS and RA-GRS
    accounts (the settings validator holds this), so prod's seven-year record copies get a
    second region instead. https://learn.microsoft.com/azure/storage/blobs/access-tiers-overview
    """
    return f"Standard_{etl.storage_redundancy}"


@dataclass(frozen=True)
class StagingStorageArgs:
    """Everything the staging account's definition depends on."""

    azure_name: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    location: str
    security: SecuritySettings
    etl: EtlSettings
    # Public addresses let through the account firewall where there is no private endpoint.
    allowed_ip_ranges: Sequence[pulumi.Input[str]]
    # Subnets with the Microsoft.Storage service endpoint let through where there is no
    # private endpoint (see EtlArgs.allowed_subnet_ids).
    allowed_subnet_ids: Sequence[pulumi.Input[str]]
    tags: Mapping[str, str]


@dataclass(frozen=True)
class StagingStorage:
    """The account and what later code scopes grants and diagnostics to."""

    account: storage.StorageAccount
    containers: dict[Container, storage.BlobContainer]
    blob_service_id: pulumi.Output[str]


def storage_network_rules(
    *,
    private: bool,
    allowed_ip_ranges: Sequence[pulumi.Input[str]],
    allowed_subnet_ids: Sequence[pulumi.Input[str]],
) -> storage.NetworkRuleSetArgs:
    """Deny by default; behind a private endpoint nothing else, otherwise the allowed ranges and
    subnets (same-region traffic ignores IP rules, so an in-VNet caller needs its subnet).

    Trusted services with a managed identity (Data Factory, Azure Monitor) pass.
    https://learn.microsoft.com/azure/storage/common/storage-network-security-trusted-azure-services
    """
    return storage.NetworkRuleSetArgs(
        default_action=storage.DefaultAction.DENY,
        bypass="AzureServices",
        ip_rules=[] if private else [storage_ip_rule(ip) for ip in allowed_ip_ranges],
        virtual_network_rules=(
            []
            if private
            else [
                storage.VirtualNetworkRuleArgs(
                    virtual_network_resource_id=subnet_id, action=storage.Action.ALLOW
                )
                for subnet_id in allowed_subnet_ids
            ]
        ),
    )


def storage_ip_rule(address: pulumi.Input[str]) -> storage.IPRuleArgs:
    """One firewall rule. Storage refuses /31 and /32 prefixes: a single address goes bare.

    https://learn.microsoft.com/azure/storage/common/storage-network-security-limitations
    """
    if isinstance(address, str) and address.endswith("/31"):
        raise ValueError(
            f"allowed IP range {address}: storage firewalls do not take /31 ranges; "
            "list the two addresses separately"
        )
    value = pulumi.Output.from_input(address).apply(lambda v: v.removesuffix("/32"))
    return storage.IPRuleArgs(i_p_address_or_range=value, action=storage.Action.ALLOW)


def lifecycle_rules(etl: EtlSettings) -> list[storage.ManagementPolicyRuleArgs]:
    """Hot -> cool -> archive (where set) -> delete by days since last write; old versions
    expire too. The settings validator keeps every step past its tier's minimum days."""
    prefixes = [f"{c.value}/" for c in CONTAINERS]
    return [
        storage.ManagementPolicyRuleArgs(
            name=LIFECYCLE_RULE_NAME,
            enabled=True,
            type="Lifecycle",
            definition=storage.ManagementPolicyDefinitionArgs(
                filters=storage.ManagementPolicyFilterArgs(
                    blob_types=["blockBlob"], prefix_match=prefixes
                ),
                actions=storage.ManagementPolicyActionArgs(
                    base_blob=storage.ManagementPolicyBaseBlobArgs(
                        tier_to_cool=storage.DateAfterModificationArgs(
                            days_after_modification_greater_than=etl.cool_after_days
                        ),
                        tier_to_archive=(
                            storage.DateAfterModificationArgs(
                                days_after_modification_greater_than=etl.archive_after_days
                            )
                            if etl.archive_after_days is not None
                            else None
                        ),
                        delete=storage.DateAfterModificationArgs(
                            days_after_modification_greater_than=etl.delete_after_days
                        ),
                    ),
                ),
            ),
        ),
        # Versioning keeps every overwritten file; an old version stays restorable as long
        # as a deleted blob does (the soft-delete window), then goes.
        storage.ManagementPolicyRuleArgs(
            name=VERSION_RULE_NAME,
            enabled=True,
            type="Lifecycle",
            definition=storage.ManagementPolicyDefinitionArgs(
                filters=storage.ManagementPolicyFilterArgs(
                    blob_types=["blockBlob"], prefix_match=prefixes
                ),
                actions=storage.ManagementPolicyActionArgs(
                    version=storage.ManagementPolicyVersionArgs(
                        delete=storage.DateAfterCreationArgs(
                            days_after_creation_greater_than=etl.soft_delete_days
                        )
                    )
                ),
            ),
        ),
    ]


def create_staging_storage(
    name: str, args: StagingStorageArgs, parent: pulumi.Resource
) -> StagingStorage:
    """The account, its blob service settings, containers and lifecycle; locked where protected."""
    security = args.security
    private = security.enable_private_endpoints
    account = storage.StorageAccount(
        f"{name}-st",
        account_name=args.azure_name,
        resource_group_name=args.resource_group_name,
        location=args.location,
        kind="StorageV2",
        sku=storage.SkuArgs(name=sku_name(args.etl)),
        access_tier=storage.AccessTier.HOT,
        enable_https_traffic_only=True,
        minimum_tls_version="TLS1_2",
        allow_blob_public_access=False,
        # Entra ID only: no account keys, so no SAS signed with them and no connection strings.
        # https://learn.microsoft.com/azure/storage/common/shared-key-authorization-prevent
        allow_shared_key_access=False,
        default_to_o_auth_authentication=True,
        allow_cross_tenant_replication=False,
        public_network_access="Disabled" if private else "Enabled",
        network_rule_set=storage_network_rules(
            private=private,
            allowed_ip_ranges=args.allowed_ip_ranges,
            allowed_subnet_ids=args.allowed_subnet_ids,
        ),
        tags=dict(args.tags),
        opts=pulumi.ResourceOptions(parent=parent, protect=security.protect_data),
    )
    child = pulumi.ResourceOptions(parent=account)
    blob_service = storage.BlobServiceProperties(
        f"{name}-st-blob",
        account_name=account.name,
        resource_group_name=args.resource_group_name,
        blob_services_name="default",
        # https://learn.microsoft.com/azure/storage/blobs/soft-delete-blob-overview
        delete_retention_policy=storage.DeleteRetentionPolicyArgs(
            enabled=True, days=args.etl.soft_delete_days
        ),
        container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(
            enabled=True, days=args.etl.soft_delete_days
        ),
        is_versioning_enabled=True,
        opts=child,
    )
    containers = {
        container: storage.BlobContainer(
            f"{name}-st-{container.value}",
            account_name=account.name,
            resource_group_name=args.resource_group_name,
            container_name=container.value,
            public_access=storage.PublicAccess.NONE,
            opts=child,
        )
        for container in CONTAINERS
    }
    storage.ManagementPolicy(
        f"{name}-st-lifecycle",
        account_name=account.name,
        resource_group_name=args.resource_group_name,
        # The API accepts only this name: one policy per account.
        management_policy_name="default",
        policy=storage.ManagementPolicySchemaArgs(rules=lifecycle_rules(args.etl)),
        opts=child,
    )
    if security.protect_data:
        add_delete_lock(f"{name}-st-lock", resource=account, what="Production ETL records")
    return StagingStorage(
        account=account,
        containers=containers,
        # The documented id of the account's one blob service; diagnostics on it carry the
        # blob logs, which the account itself cannot send.
        blob_service_id=pulumi.Output.all(account.id, blob_service.id).apply(
            lambda ids: f"{ids[0]}/blobServices/default"
        ),
    )


def add_storage_diagnostics(
    name: str,
    *,
    target_resource_id: pulumi.Input[str],
    workspace_id: pulumi.Input[str],
    parent: pulumi.Resource,
    logs: bool,
) -> monitor.DiagnosticSetting:
    """Diagnostics for a storage account (metrics only) or its blob service (logs too).

    Storage answers `AllMetrics` with 400, so its metric category is `Transaction`.
    Blob logs always land in the resource-specific StorageBlobLogs table.
    """
    return add_diagnostic_setting(
        name,
        target_resource_id=target_resource_id,
        workspace_id=workspace_id,
        parent=parent,
        logs=logs,
        metric_category=STORAGE_METRIC_CATEGORY,
    )
