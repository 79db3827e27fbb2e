"""Security layer: Key Vault, managed identities, role assignments, Front Door WAF policy."""

from infra.security.component import Security, SecurityArgs
from infra.security.managed_identity import MICROSERVICES, Workload, WorkloadIdentity
from infra.security.rbac import BuiltInRole, assign_role, role_assignment_name

__all__ = [
    "MICROSERVICES",
    "BuiltInRole",
    "Security",
    "SecurityArgs",
    "Workload",
    "WorkloadIdentity",
    "assign_role",
    "role_assignment_name",
]
