"""User request/response models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, field_validator

from platform_common.identity import Role
from platform_common.text import NoControlCharacters
from platform_common.types import UtcTimestamp

UserId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@-]+$")]


def email_key(email: str) -> str:
    """The form e-mail uniqueness is decided on: addresses differing only in case clash."""
    return email.lower()


def _key_fits(email: str) -> str:
    # A few characters grow when lower-cased (U+0130 becomes two); the key column holds 254.
    if len(email_key(email)) > 254:
        raise ValueError("is longer than 254 characters once lower-cased")
    return email


Email = Annotated[
    str,
    Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    NoControlCharacters,
    AfterValidator(_key_fits),
]
DisplayName = Annotated[str, Field(min_length=1, max_length=200), NoControlCharacters]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UserId = Field(description="The id API Management forwards as X-Caller-Id.")
    display_name: DisplayName
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


NotificationId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class NotificationCreate(BaseModel):
    """A notification as the workers record it (the id is its message id)."""

    model_config = ConfigDict(extra="forbid")

    id: NotificationId
    user_id: UserId
    kind: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9]*$")]
    title: Annotated[str, Field(min_length=1, max_length=200), NoControlCharacters]
    body: Annotated[str, Field(min_length=1, max_length=1000), NoControlCharacters]
    reference: NotificationId | None = None
    occurred_at: datetime = Field(description="When the event happened (timezone required).")

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must include a timezone offset, e.g. 2026-12-01T09:30:00Z")
        return value


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    kind: str
    title: str
    body: str
    reference: str | None
    occurred_at: datetime
    created_at: datetime

    @field_validator("occurred_at", "created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        """Stored as UTC; SQLite returns it without the offset."""
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    total: int
    limit: int
    offset: int
