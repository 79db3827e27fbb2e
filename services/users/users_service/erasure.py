"""Erasure of a user (GDPR Art. 17) and the retention purge of users-api's personal data.

The first request pseudonymises the account in one transaction: the row keeps no personal
field and takes the pseudonym as its id, the user's notifications go, outbox rows naming
the user are deleted (published) or rewritten (unpublished), and the erasures row, the
UserErased event and the audit record commit with it. The other services learn of it from
the event (the workers call their erasure routes); the workers then call this service's
internal route, which deletes the UserErased row itself, the last place the id was kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from platform_common.app import dispatcher_for
from platform_common.audit import audit_change, audit_read
from platform_common.authz import Access, authorize
from platform_common.erasure import (
    ErasureOut,
    ErasureRequest,
    ErasureStatus,
    PurgeOut,
    PurgeRequest,
    audit_replay,
    find_erasure,
    mark_completed,
    new_pseudonym,
    purge_cutoff,
    purge_published_outbox,
    record_erasure,
    require_workers,
    rowcount,
    scrub_outbox,
)
from platform_common.errors import PROBLEM_RESPONSES, ProblemError
from platform_common.outbox import DomainEvent, enqueue
from users_service.api import SessionDep, SettingsDep, UserIdPath
from users_service.models import Notification, User, erasures, outbox
from users_service.permissions import PERMISSIONS
from users_service.settings import UsersSettings

SERVICE = "users"
USER_ERASED = "UserErased"
ERASED_DISPLAY_NAME = "Erased user"
ERASED_EMAIL_DOMAIN = "erased.invalid"  # RFC 2606: .invalid never resolves

router = APIRouter(prefix="/v1", tags=["users"], responses=PROBLEM_RESPONSES)
internal_router = APIRouter(
    prefix="/internal/v1", tags=["internal"], responses=PROBLEM_RESPONSES, include_in_schema=False
)
CanErase = Annotated[Access, Depends(authorize(PERMISSIONS, "users.erase"))]
CanReadErasure = Annotated[Access, Depends(authorize(PERMISSIONS, "users.erasure.read"))]
CanApply = Annotated[Access, Depends(authorize(PERMISSIONS, "erasures.apply"))]
CanPurge = Annotated[Access, Depends(authorize(PERMISSIONS, "retention.purge"))]


def _erase(session: Session, settings: UsersSettings, user: User, access: Access) -> ErasureOut:
    """Everything of one erasure, added to the session's transaction (not committed)."""
    original, pseudonym, now = user.id, new_pseudonym(), datetime.now(UTC)
    notifications = rowcount(
        session.execute(delete(Notification).where(Notification.user_id == original))
    )
    # A primary key change, issued as one UPDATE (the ORM would do the same).
    session.execute(
        update(User)
        .where(User.id == original)
        .values(
            id=pseudonym,
            display_name=ERASED_DISPLAY_NAME,
            email=f"{pseudonym}@{ERASED_EMAIL_DOMAIN}",
            email_key=f"{pseudonym}@{ERASED_EMAIL_DOMAIN}",
            password_hash=None,
            roles="",
            active=False,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.expunge(user)
    counts = {"users": 1, "notifications": notifications}
    counts |= scrub_outbox(session, outbox, original, pseudonym)
    done = record_erasure(
        session,
        erasures,
        user_id=original,
        pseudonym=pseudonym,
        requested_by=access.caller.caller_id,
        counts=counts,
    )
    # The one message that must carry the original id: each service finds its rows by it.
    enqueue(
        session,
        outbox,
        DomainEvent(USER_ERASED, pseudonym, 1, {"user_id": original, "pseudonym": pseudonym}),
        [settings.servicebus_events_topic],
    )
    audit_change(session, resource_id=pseudonym, resource_type="user", details=counts)
    return done


def _replayed(session: Session, answer: ErasureOut) -> ErasureOut:
    """A repeated request is audited too, under the pseudonym (platform_common.erasure)."""
    audit_replay(session, answer.pseudonym)
    return answer


@router.post(
    "/users/{user_id}/erasure",
    summary="Erase a user's personal data (admin); a repeat answers the same",
    responses={
        404: PROBLEM_RESPONSES[404] | {"description": "No such user"},
        409: PROBLEM_RESPONSES[409] | {"description": "An admin cannot erase their own account"},
    },
)
def erase_user(
    *,
    user_id: UserIdPath,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    access: CanErase,
) -> ErasureOut:
    # Asked again by the original id or by the pseudonym: the same answer, nothing changed.
    recorded = find_erasure(session, erasures, user_id=user_id, pseudonym=user_id)
    if recorded is not None:
        return _replayed(session, recorded.answer())
    if user_id == access.caller.caller_id:
        raise ProblemError(
            409,
            "Cannot erase yourself",
            "An admin cannot erase their own account (it would end the session that asks); "
            "another admin must make the request.",
        )
    user = session.get(User, user_id)
    if user is None:
        # A concurrent request may have erased it since the first look.
        raced = find_erasure(session, erasures, user_id=user_id, pseudonym=None)
        if raced is not None:
            return _replayed(session, raced.answer())
        raise ProblemError(404, "User not found", f"No user {user_id}.")
    try:
        done = _erase(session, settings, user, access)
        session.commit()
    except IntegrityError:
        # A concurrent request erased the same user first: answer as it did.
        session.rollback()
        raced = find_erasure(session, erasures, user_id=user_id, pseudonym=None)
        if raced is None:
            raise
        return _replayed(session, raced.answer())
    background.add_task(dispatcher_for(request.app, settings).dispatch_pending)
    return done


@router.get(
    "/users/{user_id}/erasure",
    summary="When and as what a user was erased (admin); by original id or pseudonym",
    responses={404: PROBLEM_RESPONSES[404] | {"description": "No erasure of this user"}},
)
def get_erasure(
    *, user_id: UserIdPath, session: SessionDep, _access: CanReadErasure
) -> ErasureStatus:
    done = find_erasure(session, erasures, user_id=user_id, pseudonym=user_id)
    if done is None:
        raise ProblemError(404, "Erasure not found", f"No erasure of user {user_id}.")
    # An admin reading about another person: audited, under the pseudonym.
    by = "pseudonym" if user_id == done.pseudonym else "user_id"
    audit_read(session, resource_id=done.pseudonym, resource_type="user", details={"by": by})
    return done


@internal_router.post(
    "/erasures", summary="The other services have the erasure: delete its UserErased row"
)
def apply_erasure(
    body: ErasureRequest, session: SessionDep, settings: SettingsDep, access: CanApply
) -> ErasureStatus:
    require_workers(access.caller.caller_id, settings.workers_caller_id, "erasures.apply")
    done = find_erasure(session, erasures, user_id=body.user_id, pseudonym=None)
    if done is None or done.pseudonym != body.pseudonym:
        raise ProblemError(
            404,
            "Erasure not found",
            f"users-api erased no user as {body.pseudonym} with that user_id; only the "
            "UserErased events it published are finished here.",
        )
    if done.completed_at is not None:
        audit_replay(session, done.pseudonym)
        return done
    # The workers hold the event, so its row (unpublished or not) has done its work.
    deleted = scrub_outbox(session, outbox, body.user_id, body.pseudonym, delete_all=True)
    completed_at = mark_completed(session, erasures, body.pseudonym)
    audit_change(session, resource_id=body.pseudonym, resource_type="user", details=deleted)
    session.commit()
    return done.model_copy(update={"completed_at": completed_at})


@internal_router.post("/retention/purge", summary="Delete personal data past its retention")
def purge(
    session: SessionDep,
    settings: SettingsDep,
    access: CanPurge,
    body: PurgeRequest | None = None,
) -> PurgeOut:
    require_workers(access.caller.caller_id, settings.workers_caller_id, "retention.purge")
    days = settings.personal_data_retention_days
    cutoff = purge_cutoff(body, settings.environment, days)
    counts = {
        "notifications": rowcount(
            session.execute(delete(Notification).where(Notification.created_at < cutoff))
        ),
        "outbox": purge_published_outbox(session, outbox, cutoff),
    }
    audit_change(session, resource_id=None, resource_type="personal_data", details=counts)
    session.commit()
    return PurgeOut(retention_days=days, cutoff=cutoff, counts=counts)
