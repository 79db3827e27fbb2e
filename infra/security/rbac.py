"""Role assignments with the narrowest built-in role, named so that re-runs never churn."""

from __future__ import annotations

import uuid
from enum import StrEnum

import pulumi
from pulumi_azure_native import authorization

# Fixed namespace for role assignment names: uuid5(namespace, "<project>/<stack>/<logical name>").
ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("6f1c1f7e-7d0a-4c55-9a39-3c1f0c2b8a11")


class BuiltInRole(StrEnum):
    """Built-in role definition ids: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles"""

    KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
    ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
    SERVICE_BUS_DATA_SENDER = "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"
    SERVICE_BUS_DATA_RECEIVER = "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"
    STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
    STORAGE_QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
    STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
    MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
    # The bootstrap's deployers: encrypt and decrypt with the secrets-provider key.
    KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"


def role_assignment_name(logical_name: str) -> str:
    """A GUID that depends only on the project, stack and logical name: stable across runs."""
    key = f"{pulumi.get_project()}/{pulumi.get_stack()}/{logical_name}"
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, key))


def assign_role(
    name: str,
    *,
    role: BuiltInRole,
    scope: pulumi.Input[str],
    principal_id: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    parent: pulumi.Resource,
    description: str,
) -> authorization.RoleAssignment:
    """Grant `role` on `scope` to a managed identity's service principal."""
    return authorization.RoleAssignment(
        name,
        role_assignment_name=role_assignment_name(name),
        scope=scope,
        principal_id=principal_id,
        # Set explicitly so a just-created identity is not looked up before it replicates.
        principal_type="ServicePrincipal",
        role_definition_id=pulumi.Output.concat(
            "/subscriptions/",
            subscription_id,
            "/providers/Microsoft.Authorization/roleDefinitions/",
            role.value,
        ),
        description=description,
        opts=pulumi.ResourceOptions(parent=parent),
    )
