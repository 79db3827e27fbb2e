"""Erasure and retention in payments-api: settlements stay, their owner becomes a pseudonym.

Both routes are the workers' (admin plus WORKERS_CALLER_ID), internal and out of the OpenAPI
document. A settlement is a record of a transaction that must be kept (MiFID II), so nothing
is deleted but outbox rows that were already delivered.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from sqlalchemy import Table
from sqlalchemy.orm import Session

from payments_service.api import SessionDep, SettingsDep
from payments_service.models import Settlement, erasures, outbox, pseudonym_salt
from payments_service.permissions import PERMISSIONS
from payments_service.schemas import SettlementStatus
from payments_service.settings import PaymentsSettings
from platform_common.app import dispatcher_for
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
    scrub_outbox,
)
from platform_common.errors import PROBLEM_RESPONSES

SERVICE = "payments"
internal_router = APIRouter(
    prefix="/internal/v1", tags=["internal"], responses=PROBLEM_RESPONSES, include_in_schema=False
)
CanApply = Annotated[Access, Depends(authorize(PERMISSIONS, "erasures.apply"))]
CanPurge = Annotated[Access, Depends(authorize(PERMISSIONS, "retention.purge"))]
_SETTLEMENTS = cast(Table, Settlement.__table__)
FINISHED = sorted(s.value for s in SettlementStatus if s is not SettlementStatus.PENDING)


def _apply(
    session: Session, settings: PaymentsSettings, body: ErasureRequest, access: Access
) -> ErasureOut:
    """The erasure's changes, its record and its audit record, in the session's transaction."""
    counts = erase_rows(session, body, keep=[_SETTLEMENTS.c.user_id], drop=[])
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


@internal_router.post("/erasures", summary="Pseudonymise an erased user's settlements (workers)")
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
        background.add_task(dispatcher_for(request.app, settings).dispatch_pending)
    return done


@internal_router.post(
    "/retention/purge", summary="Pseudonymise finished settlements past retention"
)
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
    counts = {
        "settlements": pseudonymise_finished(
            session,
            retention_salt(session, pseudonym_salt),
            owner=_SETTLEMENTS.c.user_id,
            status=_SETTLEMENTS.c.status,
            finished=FINISHED,
            changed=_SETTLEMENTS.c.updated_at,
            cutoff=cutoff,
        ),
        "outbox": purge_published_outbox(session, outbox, cutoff),
    }
    audit_change(session, resource_id=None, resource_type="personal_data", details=counts)
    session.commit()
    return PurgeOut(retention_days=days, cutoff=cutoff, counts=counts)
