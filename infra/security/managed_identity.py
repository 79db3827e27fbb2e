"""One user-assigned managed identity per workload, so each gets only its own grants."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import pulumi
from pulumi_azure_native import managedidentity

from infra.core.naming import Namer


class Workload(StrEnum):
    """Everything that runs code in the platform and needs an identity of its own."""

    USERS = "users"
    ORDERS = "orders"
    PRODUCTS = "products"
    PAYMENTS = "payments"
    WORKERS = "workers"
    GATEWAY = "gateway"


MICROSERVICES = (Workload.USERS, Workload.ORDERS, Workload.PRODUCTS, Workload.PAYMENTS)


@dataclass(frozen=True)
class WorkloadIdentity:
    """What later layers need of an identity: attach it, grant it, and tell code its client id."""

    id: pulumi.Output[str]
    name: pulumi.Output[str]
    principal_id: pulumi.Output[str]
    client_id: pulumi.Output[str]


def create_identities(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    location: str,
    namer: Namer,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> dict[Workload, WorkloadIdentity]:
    identities: dict[Workload, WorkloadIdentity] = {}
    for workload in Workload:
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-id-{workload.value}",
            resource_name_=namer.name("managed_identity", role=workload.value),
            resource_group_name=resource_group_name,
            location=location,
            tags={**tags, "workload": workload.value},
            opts=pulumi.ResourceOptions(parent=parent),
        )
        identities[workload] = WorkloadIdentity(
            id=identity.id,
            name=identity.name,
            principal_id=identity.principal_id,
            client_id=identity.client_id,
        )
    return identities
