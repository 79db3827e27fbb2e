"""User request/response models."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from platform_common.identity import Role
from platform_common.types import UtcTimestamp

UserId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@-]+$")]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UserId = Field(description="The id API Management forwards as X-Caller-Id.")
    display_name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Email
    roles: Annotated[list[Role], Field(min_length=1, max_length=4)]

    @field_validator("roles")
    @classmethod
    def _unique(cls, roles: list[Role]) -> list[Role]:
        return sorted(set(roles))


class RolesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: Annotated[list[Role], Field(min_length=1, max_length=4)]
    # Strict: lax mode would take 0/1 and "yes" for a field the schema types boolean.
    active: StrictBool = True

    @field_validator("roles")
    @classmethod
    def _unique(cls, roles: list[Role]) -> list[Role]:
        return sorted(set(roles))


class UserOut(BaseModel):
    id: str
    display_name: str
    email: str
    roles: list[Role]
    active: bool
    created_at: UtcTimestamp
    updated_at: UtcTimestamp


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


class CallerOut(BaseModel):
    """What the gateway forwarded, plus the stored account when one exists."""

    caller_id: str
    forwarded_roles: list[Role]
    account: UserOut | None
