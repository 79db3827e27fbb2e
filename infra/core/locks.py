"""Delete locks for production data: `protect` stops Pulumi, the lock stops everyone else."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization

LOCK_NAME = "do-not-delete"


def add_delete_lock(
    name: str, *, resource: pulumi.CustomResource, what: str
) -> authorization.ManagementLockByScope:
    """A CanNotDelete lock on `resource`, parented to it so it goes only when it goes.

    https://learn.microsoft.com/azure/azure-resource-manager/management/lock-resources
    """
    return authorization.ManagementLockByScope(
        name,
        lock_name=LOCK_NAME,
        scope=resource.id,
        level="CanNotDelete",
        notes=f"{what}: remove this lock deliberately before any deletion.",
        opts=pulumi.ResourceOptions(parent=resource),
    )
