"""Role assignments: no privileged roles for workloads, narrow scopes, groups rather than users.

Built-in role ids are fixed across tenants:
https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from policies.core import (
    MISSING,
    UNKNOWN,
    Finding,
    ResourceRule,
    RuleContext,
    lookup,
    unknown,
    violation,
)

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"

# Roles that can grant access, change any resource, or read every secret of a vault.
PRIVILEGED_ROLES: Mapping[str, str] = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
}
# Data-plane roles a workload should hold on one child (a secret, a container, a queue or
# topic), never on the whole account, vault or namespace. Matched after "/providers/", where
# ARM nests the child (.../blobServices/default/containers/raw); "/blobcontainers/" is the
# flattened form the offline engine's mock ids use.
CHILD_SCOPED_ROLES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "4633458b-17de-408a-b874-0445c86b69e6": ("Key Vault Secrets User", ("/secrets/",)),
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": ("Key Vault Secrets Officer", ("/secrets/",)),
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": (
        "Storage Blob Data Contributor",
        ("/containers/", "/blobcontainers/"),
    ),
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": (
        "Storage Blob Data Reader",
        ("/containers/", "/blobcontainers/"),
    ),
    "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39": (
        "Azure Service Bus Data Sender",
        ("/queues/", "/topics/"),
    ),
    "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0": (
        "Azure Service Bus Data Receiver",
        ("/queues/", "/subscriptions/"),
    ),
}
WORKLOAD_PRINCIPALS = frozenset({"serviceprincipal"})
_GUID = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
# /subscriptions/<id>, /subscriptions/<id>/resourceGroups/<rg>, or a management group.
_SUBSCRIPTION = re.compile(r"^/subscriptions/[^/]+/?$", re.IGNORECASE)
_RESOURCE_GROUP = re.compile(r"^/subscriptions/[^/]+/resourcegroups/[^/]+/?$", re.IGNORECASE)
_MANAGEMENT_GROUP = re.compile(r"^/providers/microsoft\.management/managementgroups/", re.I)


def _role(props: Mapping[str, Any]) -> Any:
    value = lookup(props, "roleDefinitionId")
    if not isinstance(value, str):
        return value
    found = _GUID.search(value.lower().rstrip("/"))
    return found.group(1) if found else value.lower()


def no_privileged_workload_roles(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Owner, Contributor, access administrators and Key Vault Administrator never go to a
    workload identity (or to a principal whose type is not stated)."""
    role = _role(props)
    if role is UNKNOWN:
        return [unknown("roleDefinitionId")]
    if role not in PRIVILEGED_ROLES:
        return []
    kind = lookup(props, "principalType")
    if kind is UNKNOWN:
        return [unknown("principalType")]
    if kind is MISSING or str(kind).lower() in WORKLOAD_PRINCIPALS:
        shown = "an unstated principal type" if kind is MISSING else f"a {kind}"
        return [
            violation(
                f"{PRIVILEGED_ROLES[role]} is granted to {shown}; workloads get the "
                "least-privileged data-plane role on the one resource they use"
            )
        ]
    return []


def narrow_scope(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """No grants on a management group, subscription or resource group; data-plane roles on
    the child (secret, container, queue/topic/subscription), not the whole account."""
    scope = lookup(props, "scope")
    if scope is UNKNOWN:
        return [unknown("scope")]
    if not isinstance(scope, str) or not scope:
        return [violation("scope is not set; name the one resource the grant is for")]
    broad = _broad(scope)
    if broad:
        return [violation(f"scope = {scope!r} grants the role on {broad}")]
    role = _role(props)
    if role is UNKNOWN:
        return [unknown("roleDefinitionId")]
    if isinstance(role, str) and role in CHILD_SCOPED_ROLES:
        label, children = CHILD_SCOPED_ROLES[role]
        tail = "/" + scope.lower().split("/providers/", 1)[-1]
        if not any(child in tail for child in children):
            return [
                violation(
                    f"{label} is granted account-wide (scope {scope!r}); scope it to the "
                    f"child it is for ({' or '.join(c.strip('/') for c in children)})"
                )
            ]
    return []


def _broad(scope: str) -> str | None:
    if _MANAGEMENT_GROUP.match(scope) or _SUBSCRIPTION.match(scope):
        return "every resource beneath it"
    if _RESOURCE_GROUP.match(scope):
        return "the whole resource group"
    return None


def groups_not_users(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """People get access through Entra groups; the principal type is stated explicitly."""
    kind = lookup(props, "principalType")
    if kind is UNKNOWN:
        return [unknown("principalType")]
    if kind is MISSING:
        return [
            violation(
                "principalType is not set; state it (Group or ServicePrincipal) so the "
                "grant's holder is reviewable"
            )
        ]
    if str(kind).lower() == "user":
        return [violation("principalType = User; grant people access through an Entra group")]
    return []


RULES = (
    ResourceRule(
        name="rbac-no-privileged-workload-roles",
        description="Owner, Contributor, User Access / RBAC Administrator and Key Vault "
        "Administrator are never granted to workload identities.",
        resource_types=(ROLE_ASSIGNMENT,),
        control="MCSB PA-7 / Azure.RBAC.LimitOwner",
        check=no_privileged_workload_roles,
    ),
    ResourceRule(
        name="rbac-narrow-scope",
        description="Role assignments are scoped to one resource: never a management group, "
        "subscription or resource group, and data-plane roles on the child, not the account.",
        resource_types=(ROLE_ASSIGNMENT,),
        control="MCSB PA-7 / Azure.RBAC.UseRGDelegation",
        check=narrow_scope,
    ),
    ResourceRule(
        name="rbac-groups-not-users",
        description="Role assignments go to groups or service principals, never to users, "
        "and state the principal type.",
        resource_types=(ROLE_ASSIGNMENT,),
        control="Azure.RBAC.UseGroups / MCSB PA-1",
        check=groups_not_users,
    ),
)
