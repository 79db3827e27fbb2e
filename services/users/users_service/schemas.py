"""User request/response models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, field_validator

from platform_common.erasure import PSEUDONYM_PREFIX
from platform_common.identity import Role
from platform_common.text import NoControlCharacters
from platform_common.types import UtcTimestamp

# The platform's own workloads call the services as `svc-<name>` (WORKERS_CALLER_ID is
# svc-workers): an account with such an id would, signed in through the gateway, carry the
# workers' caller id to every service.
WORKLOAD_ID_PREFIX = "svc-"


def _not_a_pseudonym(value: str) -> str:
    # Erased accounts take `erased-<hex>` ids (platform_common.erasure); a new account must
    # not look like one, or an erasure record could be mistaken for it.
    if value.startswith(PSEUDONYM_PREFIX):
        raise ValueError(f"must not start with {PSEUDONYM_PREFIX!r} (reserved for erased users)")
    if value.lower().startswith(WORKLOAD_ID_PREFIX):
        raise ValueError(
            f"must not start with {WORKLOAD_ID_PREFIX!r} (reserved for the platform's workloads)"
        )
    return value


UserId = Annotated[
    str,
    Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@-]+$"),
    AfterValidator(_not_a_pseudonym),
]


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


# Password policy: 12-128 characters, any Unicode (OWASP: no composition rules, allow long
# passphrases); the e-mail check needs the account, so the route applies it.
# https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html#implement-proper-password-strength-controls
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
NewPassword = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        description=f"{PASSWORD_MIN_LENGTH}-{PASSWORD_MAX_LENGTH} characters, not the e-mail.",
        json_schema_extra={"format": "password", "writeOnly": True},
    ),
]
# What a sign-in may present: anything up to a bound (a wrong one is 401, not 422).
PresentedPassword = Annotated[
    str, Field(max_length=1024, json_schema_extra={"format": "password", "writeOnly": True})
]


class PasswordSet(BaseModel):
    """An admin sets or resets an account's password."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    password: NewPassword


class PasswordChange(BaseModel):
    """A user changes their own password, proving they know the current one."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    current_password: PresentedPassword
    new_password: NewPassword


class AuthenticateRequest(BaseModel):
    """Basic credentials as the gateway received them (username = the user's e-mail)."""

    model_config = ConfigDict(hide_input_in_errors=True)

    username: Annotated[str, Field(min_length=1, max_length=254)]
    password: PresentedPassword


class AuthenticateVerdict(BaseModel):
    """Who the caller is: the gateway sets X-Caller-Id / X-Caller-Roles from this."""

    user_id: str
    username: str
    roles: list[Role]
    active: bool
