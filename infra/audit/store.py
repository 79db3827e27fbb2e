"""The audit account: Entra-only StorageV2 with version-level immutability (WORM) from creation.

Rules Azure enforces only at deploy time, and where this program holds them:
- version-level immutability needs blob versioning (the blob service below turns it on; the
  `audit-store-immutable` policy rule checks it) and is not supported on accounts with a
  hierarchical namespace (`isHnsEnabled` is stated false, and checked by the same rule);
- account-level version immutability can only be enabled when the account is created: a
  change to it replaces the account (offline/hazards.py CHANGE_HAZARDS);
- a Locked policy can only be extended, never shortened, unlocked or removed, and an account
  with protected versions cannot be deleted (CHANGE_HAZARDS, the prod delete lock);
- a policy is created Disabled or Unlocked and locked by a later update
  (config/audit.py `create_unlocked`).
https://learn.microsoft.com/azure/storage/blobs/immutable-version-level-worm-policies
https://learn.microsoft.com/azure/storage/blobs/immutable-policy-configure-version-scope
https://learn.microsoft.com/azure/storage/blobs/immutable-storage-overview
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import monitor, storage

from config.settings import AuditSettings, SecuritySettings
from infra.core.locks import add_delete_lock
from infra.etl.storage import STORAGE_METRIC_CATEGORY, storage_network_rules
from infra.observability.diagnostics import DIAGNOSTIC_SETTING_NAME, add_diagnostic_setting

# The container the workers write one block blob per record to (issue 18's contract).
AUDIT_CONTAINER = "audit-records"
# The tag that marks the account as the audit store, for the policy pack and for people.
PURPOSE_TAG = "purpose"
AUDIT_PURPOSE = "audit-trail"
# Blob service logs a record's writer and reader leave: who wrote, read or tried to delete.
# https://learn.microsoft.com/azure/storage/blobs/monitor-blob-storage-reference#resource-logs
BLOB_LOG_CATEGORIES = ("StorageRead", "StorageWrite", "StorageDelete")
# Soft delete beside WORM: once a version's retention has expired and it is deleted, it stays
# restorable this long (PSRule's Azure.Storage.SoftDelete asks for at least 7).
SOFT_DELETE_DAYS = 30


def sku_name(audit: AuditSettings) -> str:
    """Standard_<redundancy>: LRS where people test, geo-redundant where records matter."""
    return f"Standard_{audit.storage_redundancy}"


def immutability(audit: AuditSettings) -> storage.ImmutableStorageAccountArgs:
    """Version-level WORM on for the account, with its default time-based policy.

    Every blob version in every container inherits the account's policy unless it carries its
    own: `retention_days` from the version's creation, Locked in prod.
    """
    return storage.ImmutableStorageAccountArgs(
        enabled=True,
        immutability_policy=storage.AccountImmutabilityPolicyPropertiesArgs(
            immutability_period_since_creation_in_days=audit.retention_days,
            state=storage.AccountImmutabilityPolicyState(audit.policy_state),
            allow_protected_append_writes=audit.allow_protected_append_writes,
        ),
    )


@dataclass(frozen=True)
class AuditStoreArgs:
    """Everything the audit account's definition depends on."""

    azure_name: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    location: str
    security: SecuritySettings
    audit: AuditSettings
    allowed_ip_ranges: Sequence[pulumi.Input[str]]
    allowed_subnet_ids: Sequence[pulumi.Input[str]]
    tags: Mapping[str, str]


@dataclass(frozen=True)
class AuditStore:
    """The account, its one container, and the blob service id diagnostics go to."""

    account: storage.StorageAccount
    container: storage.BlobContainer
    blob_service_id: pulumi.Output[str]


def create_audit_store(name: str, args: AuditStoreArgs, parent: pulumi.Resource) -> AuditStore:
    """The account with WORM from creation, versioning on, one container, no lifecycle rule.

    No ManagementPolicy: a lifecycle delete rule is the one thing that could remove records
    once their retention ends, and records are removed by people, deliberately.
    """
    private = args.security.enable_private_endpoints
    account = storage.StorageAccount(
        f"{name}-st",
        account_name=args.azure_name,
        resource_group_name=args.resource_group_name,
        location=args.location,
        kind="StorageV2",
        sku=storage.SkuArgs(name=sku_name(args.audit)),
        access_tier=storage.AccessTier.HOT,
        # Version-level immutability is not supported with a hierarchical namespace.
        is_hns_enabled=False,
        enable_https_traffic_only=True,
        minimum_tls_version="TLS1_2",
        allow_blob_public_access=False,
        # Entra ID only: the workers write with their identity, nobody holds a key.
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
        immutable_storage_with_versioning=immutability(args.audit),
        tags={**args.tags, PURPOSE_TAG: AUDIT_PURPOSE},
        opts=pulumi.ResourceOptions(parent=parent, protect=args.security.protect_data),
    )
    child = pulumi.ResourceOptions(parent=account)
    blob_service = storage.BlobServiceProperties(
        f"{name}-st-blob",
        account_name=account.name,
        resource_group_name=args.resource_group_name,
        blob_services_name="default",
        # Version-level immutability protects versions: versioning must be on.
        is_versioning_enabled=True,
        delete_retention_policy=storage.DeleteRetentionPolicyArgs(
            enabled=True, days=SOFT_DELETE_DAYS
        ),
        container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(
            enabled=True, days=SOFT_DELETE_DAYS
        ),
        opts=child,
    )
    container = storage.BlobContainer(
        f"{name}-st-records",
        account_name=account.name,
        resource_group_name=args.resource_group_name,
        container_name=AUDIT_CONTAINER,
        public_access=storage.PublicAccess.NONE,
        # Set only at the container's creation; the account's default policy applies to it.
        immutable_storage_with_versioning=storage.ImmutableStorageWithVersioningArgs(enabled=True),
        # The blob service (versioning) first: a WORM container on an unversioned account fails.
        opts=pulumi.ResourceOptions(parent=account, depends_on=[blob_service]),
    )
    if args.security.protect_data:
        add_delete_lock(f"{name}-st-lock", resource=account, what="Production audit records")
    return AuditStore(
        account=account,
        container=container,
        blob_service_id=pulumi.Output.all(account.id, blob_service.id).apply(
            lambda ids: f"{ids[0]}/blobServices/default"
        ),
    )


def add_audit_diagnostics(
    name: str,
    *,
    store: AuditStore,
    workspace_id: pulumi.Input[str],
) -> None:
    """Metrics of the account; the blob service's read, write and delete logs and metrics."""
    add_diagnostic_setting(
        f"{name}-st-diag",
        target_resource_id=store.account.id,
        workspace_id=workspace_id,
        parent=store.account,
        logs=False,
        metric_category=STORAGE_METRIC_CATEGORY,
    )
    monitor.DiagnosticSetting(
        f"{name}-st-blob-diag",
        name=DIAGNOSTIC_SETTING_NAME,
        resource_uri=store.blob_service_id,
        workspace_id=workspace_id,
        logs=[
            monitor.DiagnosticsLogSettingsArgs(category=category, enabled=True)
            for category in BLOB_LOG_CATEGORIES
        ],
        metrics=[
            monitor.DiagnosticsMetricSettingsArgs(category=STORAGE_METRIC_CATEGORY, enabled=True)
        ],
        opts=pulumi.ResourceOptions(parent=store.account),
    )
