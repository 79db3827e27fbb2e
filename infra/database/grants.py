"""Contained database users for the workload identities: T-SQL the pipeline runs after `up`.

ARM cannot create database users. Connected as the server's Entra admin, this creates one
user per managed identity (`WITH OBJECT_ID`, so the server needs no directory-read
permission) and gives it only the database roles its workload needs. Every statement is
idempotent, so the step runs on every deployment.
https://learn.microsoft.com/sql/t-sql/statements/create-user-transact-sql
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# What each workload does in the database. Schema changes are made by the migrations the
# pipeline runs as the Entra admin, so no workload holds db_ddladmin or db_owner.
DATABASE_ROLES: Mapping[str, tuple[str, ...]] = {
    "users": ("db_datareader", "db_datawriter"),
    "orders": ("db_datareader", "db_datawriter"),
    "products": ("db_datareader", "db_datawriter"),
    "payments": ("db_datareader", "db_datawriter"),
    "workers": ("db_datareader", "db_datawriter"),
}
ALLOWED_ROLES = frozenset({"db_datareader", "db_datawriter"})
_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,127}$")


@dataclass(frozen=True)
class DatabaseUser:
    """A managed identity as a contained user: its identity resource name and principal id."""

    name: str
    principal_id: str
    roles: tuple[str, ...]


def users_from_outputs(
    identities: Mapping[str, Mapping[str, str]], roles: Mapping[str, Sequence[str]] = DATABASE_ROLES
) -> list[DatabaseUser]:
    """Users from the stack output `database_identities` ({workload: {name, principal_id}})."""
    users = []
    for workload, workload_roles in roles.items():
        if workload not in identities:
            raise ValueError(
                f"stack output database_identities has no {workload!r}; "
                f"found: {', '.join(sorted(identities))}"
            )
        identity = identities[workload]
        users.append(
            DatabaseUser(
                name=identity["name"],
                principal_id=identity["principal_id"],
                roles=tuple(workload_roles),
            )
        )
    return users


def grant_statements(users: Sequence[DatabaseUser]) -> list[str]:
    """Idempotent T-SQL that creates each user and adds it to its roles."""
    statements = []
    for user in users:
        if not _USER_NAME.match(user.name):
            raise ValueError(f"unsafe database user name {user.name!r}")
        object_id = str(uuid.UUID(user.principal_id))
        unknown = set(user.roles) - ALLOWED_ROLES
        if unknown:
            raise ValueError(
                f"{user.name}: roles {sorted(unknown)} are not allowed; "
                f"allowed: {', '.join(sorted(ALLOWED_ROLES))}"
            )
        # Names and ids are validated above; T-SQL DDL takes no parameters for them.
        statements.append(
            f"IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'{user.name}') "  # noqa: S608
            f"CREATE USER [{user.name}] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '{object_id}';"
        )
        for role in user.roles:
            statements.append(
                "IF NOT EXISTS (SELECT 1 FROM sys.database_role_members m "  # noqa: S608
                "JOIN sys.database_principals r ON r.principal_id = m.role_principal_id "
                "JOIN sys.database_principals u ON u.principal_id = m.member_principal_id "
                f"WHERE r.name = N'{role}' AND u.name = N'{user.name}') "
                f"ALTER ROLE [{role}] ADD MEMBER [{user.name}];"
            )
    return statements
