"""Caller identity forwarded by API Management (route permissions: platform_common.authz).

API Management authenticates the caller (basic auth against Key Vault-held
credentials), strips any client-supplied identity headers and sets
`X-Caller-Id` and `X-Caller-Roles` (comma-separated). Services are only
reachable through the gateway (internal Container Apps ingress), so they trust
these headers and never see credentials.
"""

from __future__ import annotations

import unicodedata
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


def parse_roles(raw: str | None) -> frozenset[Role]:
    """Unknown role names are dropped: they grant nothing."""
    if not raw:
        return frozenset()
    known = {role.value for role in Role}
    return frozenset(
        Role(part) for part in (p.strip().lower() for p in raw.split(",")) if part in known
    )


def header_text(raw: str | None, name: str) -> str | None:
    """The header as UTF-8 text; 400 if it is not UTF-8 or holds control characters.

    ASGI servers hand Starlette raw bytes, which it decodes as latin-1, so a UTF-8 id
    would arrive as mojibake (`JosÃ©`). Re-reading the same bytes as UTF-8 undoes that.
    """
    if raw is None:
        return None
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except UnicodeEncodeError:
        text = raw  # already decoded text (a direct call, not an HTTP header)
    except UnicodeDecodeError as exc:
        raise ProblemError(
            400, "Invalid header", f"{name} must be UTF-8 text (invalid byte at {exc.start})."
        ) from exc
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise ProblemError(400, "Invalid header", f"{name} must not contain control characters.")
    return text


def get_caller(
    x_caller_id: Annotated[str | None, Header(alias=CALLER_ID_HEADER, max_length=128)] = None,
    x_caller_roles: Annotated[str | None, Header(alias=CALLER_ROLES_HEADER, max_length=512)] = None,
) -> Caller:
    """400 for a header that is not UTF-8 text; 401 when the gateway forwarded no identity."""
    caller_id = (header_text(x_caller_id, CALLER_ID_HEADER) or "").strip()
    if not caller_id:
        raise ProblemError(
            401,
            "Unauthenticated",
            f"Missing {CALLER_ID_HEADER} header; call the API through the gateway.",
            headers={"WWW-Authenticate": 'Basic realm="platform"'},
        )
    roles = parse_roles(header_text(x_caller_roles, CALLER_ROLES_HEADER))
    return Caller(caller_id=caller_id, roles=roles)
