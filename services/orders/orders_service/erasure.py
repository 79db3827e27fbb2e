"""Erasure and retention in orders-api: orders stay (MiFID II), their owner becomes a pseudonym.

Both routes are the workers' (admin plus WORKERS_CALLER_ID), internal and out of the OpenAPI
document. Fills follow their order (they carry no user id); idempotency records and trader
locks exist only for the trader, so they go.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from orders_service.api import SessionDep, SettingsDep, _dispatch_after_commit
from orders_service.domain import OPEN
from orders_service.models import (
    Fill,
    IdempotencyRecord,
    Order,
    TraderLock,
    erasures,
    outbox,
    pseudonym_salt,
)
from orders_service.permissions import PERMISSIONS
from orders_service.schemas import OrderStatus
from orders_service.settings import OrdersSettings
from platform_common.audit import audit_change
from platform_common.authz import Access, authorize
from platform_common.erasure import (
    ErasureOut,
    ErasureRequest,
    PurgeOut,
    PurgeRequest,
    apply_once,
    erase_rows,
    pseudonymise_finished,
    purge_cutoff,
    purge_published_outbox,
    record_erasure,
    require_workers,
    retention_salt,
    rowcount,
    scrub_outbox,
)
from platform_common.errors import PROBLEM_RESPONSES

SERVICE = "orders"
internal_router = APIRouter(
    prefix="/internal/v1", tags=["internal"], responses=PROBLEM_RESPONSES, include_in_schema=False
)
CanApply = Annotated[Access, Depends(authorize(PERMISSIONS, "erasures.apply"))]
CanPurge = Annotated[Access, Depends(authorize(PERMISSIONS, "retention.purge"))]
_ORDERS = cast(Table, Order.__table__)
_FILLS = cast(Table, Fill.__table__)
_LOCKS = cast(Table, TraderLock.__table__)
_IDEMPOTENCY = cast(Table, IdempotencyRecord.__table__)
FINISHED = sorted(s.value for s in OrderStatus if s not in OPEN)


def _apply(
    session: Session, settings: OrdersSettings, body: ErasureRequest, access: Access
) -> ErasureOut:
    """The erasure's changes, its record and its audit record, in the session's transaction."""
    counts = erase_rows(
        session,
        body,
        keep=[_ORDERS.c.user_id],
        drop=[_IDEMPOTENCY.c.caller_id, _LOCKS.c.user_id],
    )
    counts["fills"] = int(
        session.scalar(
            select(func.count())
            .select_from(_FILLS.join(_ORDERS))
            .where(_ORDERS.c.user_id == body.pseudonym)
        )
        or 0
    )
    counts |= scrub_outbox(session, outbox, body.user_id, body.pseudonym)
    done = record_erasure(
        session,
        erasures,
        user_id=body.user_id,
        pseudonym=body.pseudonym,
        requested_by=access.caller.caller_id,
        counts=counts,
    )
    audit_change(session, resource_id=body.pseudonym, resource_type="user", details=counts)
    return done


@internal_router.post("/erasures", summary="Pseudonymise an erased user's orders (workers)")
def apply_erasure(
    *,
    body: ErasureRequest,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    access: CanApply,
) -> ErasureOut:
    require_workers(access.caller.caller_id, settings.workers_caller_id, "erasures.apply")
    done, changed = apply_once(
        session, erasures, body, lambda: _apply(session, settings, body, access)
    )
    if changed:
        _dispatch_after_commit(background, request, settings)
    return done


@internal_router.post("/retention/purge", summary="Pseudonymise finished orders past retention")
def purge(
    *,
    session: SessionDep,
    settings: SettingsDep,
    access: CanPurge,
    body: PurgeRequest | None = None,
) -> PurgeOut:
    require_workers(access.caller.caller_id, settings.workers_caller_id, "retention.purge")
    days = settings.personal_data_retention_days
    cutoff = purge_cutoff(body, settings.environment, days)
    salt = retention_salt(session, pseudonym_salt)
    orders = pseudonymise_finished(
        session,
        salt,
        owner=_ORDERS.c.user_id,
        status=_ORDERS.c.status,
        finished=FINISHED,
        changed=_ORDERS.c.updated_at,
        cutoff=cutoff,
    )
    idempotency = session.execute(delete(_IDEMPOTENCY).where(_IDEMPOTENCY.c.created_at < cutoff))
    # A lock row names a trader; one with no order left under that name guards nothing.
    locks = session.execute(
        delete(_LOCKS).where(_LOCKS.c.user_id.not_in(select(_ORDERS.c.user_id).distinct()))
    )
    counts = {
        "orders": orders,
        "idempotency_records": rowcount(idempotency),
        "trader_locks": rowcount(locks),
        "outbox": purge_published_outbox(session, outbox, cutoff),
    }
    audit_change(session, resource_id=None, resource_type="personal_data", details=counts)
    session.commit()
    return PurgeOut(retention_days=days, cutoff=cutoff, counts=counts)
