"""Route permissions from one table per service: who may do what, on whose records.

Each service declares `action -> Rule` once (its `permissions.py`); every route takes
`Depends(authorize(TABLE, "action"))`, and ownership scoping comes from the same rule.
A caller's scope for an action is the most privileged grant among its roles, so holding
several roles can never reach further than one of those roles reaches alone: trader
(own orders) plus viewer (reads every order) may read every order, but still amend only
its own, because viewer grants no amend at all.

No `from __future__ import annotations`: FastAPI must evaluate `Authorize.__call__`'s
Annotated hint, and a callable instance carries no module globals to resolve it with.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Annotated

from fastapi import Header

from platform_common.errors import ProblemError
from platform_common.identity import (
    CALLER_ID_HEADER,
    CALLER_ROLES_HEADER,
    Caller,
    Role,
    get_caller,
)


class Scope(IntEnum):
    """How far a grant reaches; a larger value is more privileged."""

    OWN = 1
    """Only records whose owner is the caller."""
    ALL = 2
    """Every record."""


@dataclass(frozen=True)
class Rule:
    """Who may perform one action: per-role grants, plus grants that need no role."""

    grants: Mapping[Role, Scope] = field(default_factory=dict)
    everyone: Scope | None = None
    """Granted to any identified caller whatever its roles (e.g. reading one's own account)."""
    public: bool = False
    """No identity needed at all (public reference data the gateway may cache)."""

    def scope_for(self, roles: frozenset[Role]) -> Scope | None:
        """The most privileged applicable grant, or None when nothing applies."""
        applicable = [self.grants[role] for role in roles if role in self.grants]
        if self.everyone is not None:
            applicable.append(self.everyone)
        return max(applicable, default=None)


PermissionTable = Mapping[str, Rule]


@dataclass(frozen=True)
class Access:
    """An authorized caller and how far its grant for this action reaches."""

    caller: Caller
    scope: Scope

    def covers(self, owner_id: str) -> bool:
        """True when the caller may act on a record owned by `owner_id`."""
        return self.scope is Scope.ALL or owner_id == self.caller.caller_id

    @property
    def owner_filter(self) -> str | None:
        """The owner id every query must be limited to, or None for every record."""
        return None if self.scope is Scope.ALL else self.caller.caller_id


class Authorize:
    """FastAPI dependency for one action of a table: 401 without identity, 403 without a grant.

    A class (not a closure) so tests can find each route's action in its dependency tree.
    """

    def __init__(self, table: PermissionTable, action: str) -> None:
        if action not in table:
            raise KeyError(f"action {action!r} is not in the permission table")
        self.action = action
        self.rule = table[action]
        if self.rule.public:
            raise ValueError(f"action {action!r} is public: use Public, not Authorize")

    async def __call__(
        self,
        x_caller_id: Annotated[str | None, Header(alias=CALLER_ID_HEADER, max_length=128)] = None,
        x_caller_roles: Annotated[
            str | None, Header(alias=CALLER_ROLES_HEADER, max_length=512)
        ] = None,
    ) -> Access:
        # Async and reading the headers itself: no I/O here, and FastAPI would run a sync
        # dependency (get_caller among them) in a worker thread, a hop on every request.
        caller = get_caller(x_caller_id, x_caller_roles)
        scope = self.rule.scope_for(caller.roles)
        if scope is None:
            raise ProblemError(403, "Forbidden", f"{self.action} requires {self._allowed()}.")
        return Access(caller=caller, scope=scope)

    def _allowed(self) -> str:
        if not self.rule.grants:
            return "an identified caller"
        return "one of roles: " + ", ".join(sorted(role.value for role in self.rule.grants))


class Public:
    """Marks a route whose action the table declares public; it reads no identity."""

    def __init__(self, table: PermissionTable, action: str) -> None:
        if not table[action].public:
            raise ValueError(f"action {action!r} is not public in its table")
        self.action = action
        self.rule = table[action]

    def __call__(self) -> None:
        return None


def authorize(table: PermissionTable, action: str) -> Authorize:
    """The dependency a route declares for `action`; unknown actions fail at import."""
    return Authorize(table, action)


def public(table: PermissionTable, action: str) -> Public:
    """The dependency of a route the table marks public."""
    return Public(table, action)
