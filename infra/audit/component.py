"""The audit layer: the immutable store of audit records, written by the workers alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from config.settings import SubnetName
from infra.audit.store import (
    AUDIT_CONTAINER,
    AuditStoreArgs,
    add_audit_diagnostics,
    create_audit_store,
)
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.networking.private_endpoints import (
    PrivateEndpointSite,
    PrivateLink,
    add_private_endpoint,
)
from infra.security.managed_identity import Workload, WorkloadIdentity
from infra.security.rbac import BuiltInRole, assign_role


@dataclass(frozen=True)
class AuditTrailArgs:
    """What the audit layer needs from settings and from the layers before it."""

    placement: Placement
    # Public ranges let through the account firewall where it has no private endpoint.
    allowed_ip_ranges: Sequence[pulumi.Input[str]]
    identities: Mapping[Workload, WorkloadIdentity]
    subscription_id: pulumi.Input[str]
    private_endpoint_site: PrivateEndpointSite | None
    workspace_id: pulumi.Input[str]
    # Subnets let in by VNet rule where there is no private endpoint: the workers' (the only
    # writer). Same-region traffic ignores IP rules (see EtlArgs.allowed_subnet_ids).
    allowed_subnet_ids: Sequence[pulumi.Input[str]] = ()


class AuditTrail(pulumi.ComponentResource):
    """Audit records where nobody can alter them: WORM blobs, written only by the workers."""

    account_id: pulumi.Output[str]
    """ARM id of the audit storage account."""
    account_name: pulumi.Output[str]
    """Azure name of the audit storage account."""
    account_url: pulumi.Output[str]
    """https://<account>.blob.core.windows.net: the workers' AUDIT_BLOB_ACCOUNT_URL."""
    container_name: str
    """The records' container: the workers' AUDIT_BLOB_CONTAINER (audit-records)."""

    def __init__(
        self, name: str, args: AuditTrailArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:audit:AuditTrail", name, None, opts)
        env, namer = args.placement.env, args.placement.namer
        tags = layer_tags(args.placement.tags, "audit")
        private = env.security.enable_private_endpoints
        if private and args.private_endpoint_site is None:
            raise ValueError(
                "private endpoints are on but no private endpoint site was given: the audit "
                "account would have public access off and no way in"
            )

        store = create_audit_store(
            name,
            AuditStoreArgs(
                azure_name=namer.unique_name(
                    "storage_account", args.placement.name_suffix, role="aud"
                ),
                resource_group_name=args.placement.resource_group_name,
                location=args.placement.location,
                security=env.security,
                audit=env.audit,
                allowed_ip_ranges=args.allowed_ip_ranges,
                allowed_subnet_ids=args.allowed_subnet_ids,
                tags=tags,
            ),
            parent=self,
        )
        add_audit_diagnostics(name, store=store, workspace_id=args.workspace_id)
        if private and args.private_endpoint_site is not None:
            add_private_endpoint(
                f"{name}-st-blob",
                args.private_endpoint_site,
                service=PrivateLink.BLOB,
                target_resource_id=store.account.id,
                azure_name=namer.name("private_endpoint", role="aud-blob"),
                subnet=SubnetName.DATA,
                tags=tags,
                parent=self,
            )

        # The workers ship records from audit-queue to blobs (If-None-Match: *); nobody else
        # writes. Contributor on the container, not the account: no other container exists
        # to reach, and the grant cannot outlive the container's purpose.
        assign_role(
            f"{name}-st-records-workers",
            role=BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR,
            scope=store.container.id,
            principal_id=args.identities[Workload.WORKERS].principal_id,
            subscription_id=args.subscription_id,
            parent=self,
            description="workers write audit records (version-level WORM keeps them)",
        )

        self.account_id = store.account.id
        self.account_name = store.account.name
        self.account_url = store.account.primary_endpoints.apply(lambda e: e.blob.rstrip("/"))
        self.container_name = AUDIT_CONTAINER
        self.register_outputs(
            {
                "account_id": self.account_id,
                "account_name": self.account_name,
                "account_url": self.account_url,
                "container_name": self.container_name,
            }
        )
