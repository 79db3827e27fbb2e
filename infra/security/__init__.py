"""Security layer: Key Vault, managed identities, role assignments, Front Door WAF policy."""

from infra.security.component import Security, SecurityArgs
from infra.security.managed_identity import MICROSERVICES, Workload, WorkloadIdentity
from infra.security.rbac import BuiltInRole, assign_role, role_assignment_name
from infra.security.secrets import VAULT_SECRETS, VaultSecret, secret_values

__all__ = [
    "MICROSERVICES",
    "VAULT_SECRETS",
    "BuiltInRole",
    "Security",
    "SecurityArgs",
    "VaultSecret",
    "Workload",
    "WorkloadIdentity",
    "assign_role",
    "role_assignment_name",
    "secret_values",
]
