"""Storage accounts: encrypted transport, no anonymous or key-based access, recoverable blobs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policies.core import (
    ALWAYS_MANDATORY,
    MISSING,
    UNKNOWN,
    Finding,
    ResourceRecord,
    ResourceRule,
    RuleContext,
    StackRule,
    as_number,
    azure_name,
    expect,
    lookup,
    of_type,
    unknown,
    violation,
)

ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
CONTAINER = "azure-native:storage:BlobContainer"
# PSRule's default minimum for Azure.Storage.SoftDelete and ContainerSoftDelete.
MIN_SOFT_DELETE_DAYS = 7


def https_only(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """HTTPS only; Azure's default (API 2019-04-01 on) is true, so unset passes."""
    return expect(
        props, "enableHttpsTrafficOnly", [True], "plain HTTP exposes data in transit", default=True
    )


def minimum_tls(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """TLS 1.2 or later, stated explicitly: older accounts defaulted to TLS 1.0."""
    return expect(props, "minimumTlsVersion", ["TLS1_2", "TLS1_3"], "TLS 1.0 and 1.1 are retired")


def no_public_blob_access(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """No anonymous blob reads; stated explicitly since the default changed by API version."""
    return expect(
        props, "allowBlobPublicAccess", [False], "containers must never be readable anonymously"
    )


def no_shared_key_access(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Entra ID only: account keys and SAS signed with them bypass RBAC and never expire."""
    return expect(
        props,
        "allowSharedKeyAccess",
        [False],
        "clients use managed identities; unset means keys are allowed",
    )


def blob_soft_delete(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """Every account has blob service properties with soft delete on (deleted blobs recoverable)."""
    findings: list[Finding] = []
    services = of_type(resources, BLOB_SERVICE)
    for account in of_type(resources, ACCOUNT):
        mine = [s for s in services if _serves(s, account)]
        unsure = [s for s in services if _serves(s, account) is None]
        if not mine:
            if unsure:
                findings.append(unknown("BlobServiceProperties.accountName", account.urn))
            else:
                findings.append(
                    violation(
                        "no storage:BlobServiceProperties with deleteRetentionPolicy.enabled "
                        "= true for this account; deleted blobs could not be recovered",
                        account.urn,
                    )
                )
            continue
        for service in mine:
            findings += [
                Finding(f.message, service.urn, f.unknown)
                for f in expect(
                    service.props,
                    "deleteRetentionPolicy.enabled",
                    [True],
                    "deleted blobs must stay recoverable",
                )
            ]
    return findings


def container_private(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """A container is never anonymously readable, whatever the account allows; default None."""
    return expect(
        props,
        "publicAccess",
        ["None"],
        "anonymous reads bypass authorization and logging",
        default="None",
    )


def soft_delete_days(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Blob and container soft delete on, each keeping deletions at least 7 days."""
    findings: list[Finding] = []
    for policy, what in (
        ("deleteRetentionPolicy", "blobs"),
        ("containerDeleteRetentionPolicy", "containers"),
    ):
        enabled, days = lookup(props, f"{policy}.enabled"), lookup(props, f"{policy}.days")
        if UNKNOWN in (enabled, days):
            findings.append(unknown(policy))
        elif enabled is not True:
            shown = "is not set" if enabled is MISSING else f"= {enabled!r}"
            findings.append(
                violation(f"{policy}.enabled {shown}; deleted {what} must stay recoverable")
            )
        elif (as_number(days) or 0) < MIN_SOFT_DELETE_DAYS:
            shown = "is not set" if days is MISSING else f"= {as_number(days)}"
            findings.append(
                violation(
                    f"{policy}.days {shown}; keep deleted {what} at least "
                    f"{MIN_SOFT_DELETE_DAYS} days"
                )
            )
    return findings


def _serves(service: ResourceRecord, account: ResourceRecord) -> bool | None:
    value = lookup(service.props, "accountName")
    name = azure_name(account)
    if value is UNKNOWN or name is UNKNOWN:
        deps = service.property_dependencies.get("accountName") or service.dependencies
        return True if account.urn in deps else None
    return isinstance(value, str) and isinstance(name, str) and value.lower() == name.lower()


RULES = (
    ResourceRule(
        name="storage-https-only",
        description="Storage accounts accept HTTPS only.",
        resource_types=(ACCOUNT,),
        control="CKV_AZURE_3",
        check=https_only,
    ),
    ResourceRule(
        name="storage-min-tls",
        description="Storage accounts require TLS 1.2 or later.",
        resource_types=(ACCOUNT,),
        control="CKV_AZURE_44",
        check=minimum_tls,
    ),
    ResourceRule(
        name="storage-no-public-blob-access",
        description="Storage accounts forbid anonymous (public) blob access.",
        resource_types=(ACCOUNT,),
        control="CKV_AZURE_190",
        check=no_public_blob_access,
        enforcement=ALWAYS_MANDATORY,
    ),
    ResourceRule(
        name="storage-no-shared-key",
        description="Storage accounts disable Shared Key authorization (Entra ID only).",
        resource_types=(ACCOUNT,),
        control="CKV2_AZURE_40",
        check=no_shared_key_access,
    ),
    StackRule(
        name="storage-blob-soft-delete",
        description="Every storage account has blob soft delete enabled.",
        resource_types=(ACCOUNT, BLOB_SERVICE),
        control="CKV2_AZURE_38",
        check=blob_soft_delete,
    ),
    ResourceRule(
        name="storage-container-private",
        description="Blob containers allow no anonymous access (publicAccess None).",
        resource_types=(CONTAINER,),
        control="CKV_AZURE_34 / Azure.Storage.BlobAccessType",
        check=container_private,
        enforcement=ALWAYS_MANDATORY,
    ),
    ResourceRule(
        name="storage-soft-delete-days",
        description="Blob services keep deleted blobs and containers at least 7 days.",
        resource_types=(BLOB_SERVICE,),
        control="Azure.Storage.SoftDelete / Azure.Storage.ContainerSoftDelete",
        check=soft_delete_days,
    ),
)
