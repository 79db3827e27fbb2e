"""Caller identity forwarded by API Management, and role checks on write routes.

API Management authenticates the caller (basic auth against Key Vault-held
credentials), strips any client-supplied identity headers and sets
`X-Caller-Id` and `X-Caller-Roles` (comma-separated). Services are only
reachable through the gateway (internal Container Apps ingress), so they trust
these headers and never see credentials.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Header

from platform_common.errors import ProblemError

CALLER_ID_HEADER = "X-Caller-Id"
CALLER_ROLES_HEADER = "X-Caller-Roles"


class Role(StrEnum):
    """Platform roles; the users service is the source of truth for assignments."""

    TRADER = "trader"
    RISK_MANAGER = "risk_manager"
    ADMIN = "admin"
    VIEWER = "viewer"


@dataclass(frozen=True)
class Caller:
    """The authenticated caller as forwarded by the gateway."""

    caller_id: str
    roles: frozenset[Role]

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)


def parse_roles(raw: str | None) -> frozenset[Role]:
    """Unknown role names are dropped: they grant nothing."""
    if not raw:
        return frozenset()
    known = {role.value for role in Role}
    return frozenset(
        Role(part) for part in (p.strip().lower() for p in raw.split(",")) if part in known
    )


def get_caller(
    x_caller_id: Annotated[str | None, Header(alias=CALLER_ID_HEADER, max_length=128)] = None,
    x_caller_roles: Annotated[str | None, Header(alias=CALLER_ROLES_HEADER, max_length=512)] = None,
) -> Caller:
    """401 when the gateway forwarded no identity."""
    caller_id = (x_caller_id or "").strip()
    if not caller_id:
        raise ProblemError(
            401,
            "Unauthenticated",
            f"Missing {CALLER_ID_HEADER} header; call the API through the gateway.",
            headers={"WWW-Authenticate": 'Basic realm="platform"'},
        )
    return Caller(caller_id=caller_id, roles=parse_roles(x_caller_roles))


def require_roles(*roles: Role) -> Callable[..., Awaitable[Caller]]:
    """Dependency factory: 401 without identity, 403 without one of `roles`.

    The check is async because it does no I/O: FastAPI runs a sync dependency in a worker
    thread, a hop per request for a few string comparisons.
    """
    allowed = frozenset(roles)

    async def dependency(
        x_caller_id: Annotated[str | None, Header(alias=CALLER_ID_HEADER, max_length=128)] = None,
        x_caller_roles: Annotated[
            str | None, Header(alias=CALLER_ROLES_HEADER, max_length=512)
        ] = None,
    ) -> Caller:
        caller = get_caller(x_caller_id, x_caller_roles)
        if not caller.has_any(allowed):
            raise ProblemError(
                403,
                "Forbidden",
                f"Requires one of roles: {', '.join(sorted(r.value for r in allowed))}.",
            )
        return caller

    return dependency


ANY_ROLE = (Role.VIEWER, Role.TRADER, Role.RISK_MANAGER, Role.ADMIN)
