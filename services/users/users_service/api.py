"""User account routes under /v1, plus /v1/me for the forwarded caller."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from platform_common.app import INTERNAL_OPERATION
from platform_common.audit import audit_change, audit_outcome, audit_read
from platform_common.authz import Access, authorize, public
from platform_common.db import open_session
from platform_common.errors import PROBLEM_RESPONSES, ProblemError
from platform_common.identity import Caller, Role
from users_service.client_address import require_gateway
from users_service.models import Notification, User
from users_service.passwords import passwords_for
from users_service.permissions import PERMISSIONS
from users_service.schemas import (
    AuthenticateRequest,
    AuthenticateVerdict,
    CallerOut,
    NotificationCreate,
    NotificationOut,
    NotificationPage,
    PasswordChange,
    PasswordSet,
    RolesUpdate,
    UserCreate,
    UserOut,
    UserPage,
    email_key,
)
from users_service.settings import UsersSettings, get_settings

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["users"], responses=PROBLEM_RESPONSES)
# Reached only over internal ingress by the platform's workers; left out of the OpenAPI
# document API Management imports, so the gateway has no route to it.
internal_router = APIRouter(
    prefix="/internal/v1", tags=["internal"], responses=PROBLEM_RESPONSES, include_in_schema=False
)
# Called by API Management (and the local gateway) only. In the OpenAPI document, so it is
# fuzzed and typed, but marked `x-internal`: the gateway's importer drops such operations.
gateway_router = APIRouter(prefix="/internal/v1", tags=["internal"])


def get_session(
    request: Request, settings: Annotated[UsersSettings, Depends(get_settings)]
) -> Iterator[Session]:
    yield from open_session(request, settings)


SessionDep = Annotated[Session, Depends(get_session)]
CanReadMe = Annotated[Access, Depends(authorize(PERMISSIONS, "me.read"))]
CanCreate = Annotated[Access, Depends(authorize(PERMISSIONS, "users.create"))]
CanList = Annotated[Access, Depends(authorize(PERMISSIONS, "users.list"))]
CanRead = Annotated[Access, Depends(authorize(PERMISSIONS, "users.read"))]
CanUpdateRoles = Annotated[Access, Depends(authorize(PERMISSIONS, "users.roles.update"))]
CanSetPassword = Annotated[Access, Depends(authorize(PERMISSIONS, "users.password.set"))]
CanChangePassword = Annotated[Access, Depends(authorize(PERMISSIONS, "me.password.change"))]
CanListNotifications = Annotated[Access, Depends(authorize(PERMISSIONS, "notifications.list"))]
CanRecordNotifications = Annotated[Access, Depends(authorize(PERMISSIONS, "notifications.record"))]
UserIdPath = Annotated[str, Path(min_length=1, max_length=128)]
SettingsDep = Annotated[UsersSettings, Depends(get_settings)]


def to_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        display_name=user.display_name,
        email=user.email,
        roles=[Role(r) for r in user.roles.split(",") if r],
        active=user.active,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


@router.get("/me", summary="The caller identity forwarded by the gateway")
def me(session: SessionDep, access: CanReadMe) -> CallerOut:
    caller = access.caller
    user = session.get(User, caller.caller_id)
    return CallerOut(
        caller_id=caller.caller_id,
        forwarded_roles=sorted(caller.roles),
        account=to_out(user) if user else None,
    )


@router.post("/users", status_code=status.HTTP_201_CREATED, summary="Create an account (admin)")
def create_user(body: UserCreate, session: SessionDep, _access: CanCreate) -> UserOut:
    key = email_key(body.email)
    clash = session.scalar(select(User).where(or_(User.id == body.id, User.email_key == key)))
    if clash is not None:
        raise ProblemError(409, "User exists", "A user with this id or e-mail already exists.")
    now = datetime.now(UTC)
    user = User(
        id=body.id,
        display_name=body.display_name,
        email=body.email,
        email_key=key,
        roles=",".join(r.value for r in body.roles),
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    out = to_out(user)
    audit_change(session, resource_id=user.id, after=out.model_dump(mode="json"), status_code=201)
    session.commit()
    return out


@router.get("/users", summary="List accounts (admin, risk_manager)")
def list_users(
    *,
    session: SessionDep,
    _access: CanList,
    role: Role | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> UserPage:
    stmt = select(User)
    if role is not None:
        # Roles are stored comma-joined; wrap both sides in commas to match whole names.
        stmt = stmt.where(("," + User.roles + ",").like(f"%,{role.value},%"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(User.id).limit(limit).offset(offset))
    page = UserPage(items=[to_out(u) for u in rows], total=total, limit=limit, offset=offset)
    # Only admins and risk managers list accounts: every list reads other people's data.
    audit_read(
        session,
        resource_id=None,
        details={"role": role, "limit": limit, "offset": offset, "returned": len(page.items)},
    )
    return page


@router.get("/users/{user_id}", summary="Get an account (admin, risk_manager, or the user)")
def get_user(*, user_id: UserIdPath, session: SessionDep, access: CanRead) -> UserOut:
    # Another user's account is answered like a missing one: ids are not enumerable.
    user = session.get(User, user_id) if access.covers(user_id) else None
    if user is None:
        raise ProblemError(404, "User not found", f"No user {user_id}.")
    out = to_out(user)
    if user_id != access.caller.caller_id:  # answered by a role, not by ownership
        audit_read(session, resource_id=user_id)
    return out


@router.put("/users/{user_id}/roles", summary="Replace roles / activation (admin)")
def set_roles(
    *, user_id: UserIdPath, body: RolesUpdate, session: SessionDep, _access: CanUpdateRoles
) -> UserOut:
    user = session.get(User, user_id)
    if user is None:
        raise ProblemError(404, "User not found", f"No user {user_id}.")
    before = to_out(user).model_dump(mode="json")
    user.roles = ",".join(r.value for r in body.roles)
    user.active = body.active
    user.updated_at = datetime.now(UTC)
    out = to_out(user)
    audit_change(session, resource_id=user.id, before=before, after=out.model_dump(mode="json"))
    session.commit()
    return out


@router.get("/me/notifications", summary="The caller's notifications, newest first")
def my_notifications(
    *,
    session: SessionDep,
    access: CanListNotifications,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> NotificationPage:
    mine = select(Notification).where(Notification.user_id == access.caller.caller_id)
    total = session.scalar(select(func.count()).select_from(mine.subquery())) or 0
    rows = session.scalars(
        mine.order_by(Notification.created_at.desc(), Notification.id).limit(limit).offset(offset)
    )
    return NotificationPage(
        items=[NotificationOut.model_validate(n) for n in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive UTC; compare instants, not representations."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _same_terms(stored: Notification, body: NotificationCreate) -> bool:
    return (
        stored.user_id,
        stored.kind,
        stored.title,
        stored.body,
        stored.reference,
        _utc(stored.occurred_at),
    ) == (body.user_id, body.kind, body.title, body.body, body.reference, _utc(body.occurred_at))


def _replay(stored: Notification, body: NotificationCreate) -> JSONResponse:
    if not _same_terms(stored, body):
        raise ProblemError(
            409, "Notification id reused", f"Notification {body.id} was recorded with other terms."
        )
    out = NotificationOut.model_validate(stored)
    return JSONResponse(out.model_dump(mode="json"), status_code=200)


@internal_router.post(
    "/notifications",
    status_code=status.HTTP_201_CREATED,
    response_model=NotificationOut,
    summary="Record a notification (workers only); a repeat of the same id is a no-op",
    responses={200: {"model": NotificationOut, "description": "Already recorded"}},
)
def record_notification(
    body: NotificationCreate,
    session: SessionDep,
    settings: SettingsDep,
    access: CanRecordNotifications,
) -> NotificationOut | JSONResponse:
    if access.caller.caller_id != settings.workers_caller_id:
        raise ProblemError(
            403, "Forbidden", "notifications.record is reserved to the workers' identity."
        )
    existing = session.get(Notification, body.id)
    if existing is not None:
        return _replay(existing, body)
    if session.get(User, body.user_id) is None:
        raise ProblemError(422, "Unknown user", f"No user {body.user_id} to notify.")
    notification = Notification(
        id=body.id,
        user_id=body.user_id,
        kind=body.kind,
        title=body.title,
        body=body.body,
        reference=body.reference,
        # Stored as UTC: SQLite keeps no offset, so a local time would shift on reading.
        occurred_at=_utc(body.occurred_at),
        created_at=datetime.now(UTC),
    )
    session.add(notification)
    try:
        # Its INSERT flushes the notification: a concurrent delivery's row is found here.
        audit_change(
            session,
            resource_id=notification.id,
            after=NotificationOut.model_validate(notification).model_dump(mode="json"),
            status_code=201,
        )
        session.commit()
    except IntegrityError:
        # Another delivery of the same message recorded it first.
        session.rollback()
        raced = session.get(Notification, body.id)
        if raced is None:
            raise
        return _replay(raced, body)
    return NotificationOut.model_validate(notification)


def _refuse_email_as_password(user: User, password: str, field: str) -> None:
    if password.strip().lower() == user.email_key:
        raise ProblemError(
            422,
            "Password rejected",
            "The password must not be the account's e-mail address; choose 12-128 "
            "characters of something else (a passphrase works well).",
            errors=[{"loc": ["body", field], "msg": "equals the e-mail", "type": "policy"}],
        )


@router.put(
    "/users/{user_id}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set or reset an account's password (admin)",
)
def set_password(
    *,
    user_id: UserIdPath,
    body: PasswordSet,
    session: SessionDep,
    settings: SettingsDep,
    access: CanSetPassword,
) -> None:
    user = session.get(User, user_id)
    if user is None:
        raise ProblemError(404, "User not found", f"No user {user_id}.")
    _refuse_email_as_password(user, body.password, "password")
    _audited_password_change(session, user, passwords_for(settings).hash(body.password))
    session.commit()
    logger.info("password set", extra={"user_id": user.id, "caller_id": access.caller.caller_id})


@router.put(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change the caller's own password (the current one is required)",
)
def change_my_password(
    *, body: PasswordChange, session: SessionDep, settings: SettingsDep, access: CanChangePassword
) -> None:
    user = session.get(User, access.caller.caller_id)
    if user is None:
        raise ProblemError(404, "User not found", f"No account {access.caller.caller_id}.")
    passwords = passwords_for(settings)
    if not passwords.verify(user.password_hash, body.current_password).matched:
        raise ProblemError(
            403, "Current password is wrong", "current_password does not match this account."
        )
    _refuse_email_as_password(user, body.new_password, "new_password")
    _audited_password_change(session, user, passwords.hash(body.new_password))
    session.commit()
    logger.info("password changed", extra={"user_id": user.id})


def _audited_password_change(session: Session, user: User, new_hash: str) -> None:
    """Store the new hash; the record says the hash changed (masked whole), never to what."""
    before = {"password_hash": user.password_hash, "updated_at": user.updated_at}
    user.password_hash = new_hash
    user.updated_at = datetime.now(UTC)
    after = {"password_hash": user.password_hash, "updated_at": user.updated_at}
    audit_change(session, resource_id=user.id, before=before, after=after, status_code=204)


def _audit_sign_in(
    session: Session,
    user: User,
    details: dict[str, object],
    actor: Caller,
    before: dict[str, object] | None = None,
) -> None:
    """A sign-in's record; after a rehash, with the (masked) hash change."""
    after = {"password_hash": user.password_hash} if before is not None else None
    audit_change(
        session, resource_id=user.id, before=before, after=after, details=details, actor=actor
    )


def _invalid_credentials() -> ProblemError:
    """One answer for an unknown user, a wrong password and an account without one."""
    return ProblemError(
        401,
        "Invalid credentials",
        "The username or password is not valid.",
        headers={"WWW-Authenticate": 'Basic realm="platform"'},
    )


@gateway_router.post(
    "/authenticate",
    summary="Who presented these credentials (gateway only)",
    openapi_extra=INTERNAL_OPERATION,
    dependencies=[
        Depends(require_gateway),
        Depends(public(PERMISSIONS, "credentials.authenticate")),
    ],
    responses={
        401: PROBLEM_RESPONSES[401] | {"description": "Unknown user or wrong password"},
        403: PROBLEM_RESPONSES[403] | {"description": "Caller outside AUTHENTICATE_ALLOWED_CIDRS"},
        422: PROBLEM_RESPONSES[422],
        503: PROBLEM_RESPONSES[503],
    },
)
def authenticate(
    body: AuthenticateRequest, session: SessionDep, settings: SettingsDep
) -> AuthenticateVerdict:
    """One Argon2id verification whatever the outcome, and one answer for every failure."""
    user = session.scalar(select(User).where(User.email_key == email_key(body.username)))
    passwords = passwords_for(settings)
    verdict = passwords.verify(user.password_hash if user else None, body.password)
    # The user name is the e-mail: `details` masks it (personal_data); the password never
    # enters a record.
    details: dict[str, object] = {"username": body.username}
    if user is None or not verdict.matched:
        logger.info("authentication refused")
        audit_outcome(
            session,
            outcome="denied",
            status_code=401,
            resource_id=user.id if user else None,
            details={**details, "reason": "unknown user" if user is None else "wrong password"},
        )
        raise _invalid_credentials()
    actor = Caller(user.id, frozenset(Role(r) for r in user.roles.split(",") if r))
    details["active"] = user.active
    if verdict.rehash:
        # Parameters changed since this hash was made: store one with today's.
        before: dict[str, object] = {"password_hash": user.password_hash}
        user.password_hash = passwords.hash(body.password)
        details["rehashed"] = True
        _audit_sign_in(session, user, details, actor, before=before)
        session.commit()
        logger.info("password rehashed", extra={"user_id": user.id})
    else:
        _audit_sign_in(session, user, details, actor)
        session.commit()
    return AuthenticateVerdict(
        user_id=user.id,
        username=user.email,
        roles=[Role(r) for r in user.roles.split(",") if r],
        active=user.active,
    )
