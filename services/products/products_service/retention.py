"""Erasure and retention in products-api: only its outbox names people (audit records name
their actor), so an erasure scrubs the outbox and the purge deletes delivered rows.

Reference data holds nobody's personal data. Both routes are the workers' (admin plus
WORKERS_CALLER_ID), internal and out of the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from sqlalchemy.orm import Session

from platform_common.app import dispatcher_for
from platform_common.audit import audit_change
from platform_common.authz import Access, authorize
from platform_common.erasure import (
    ErasureOut,
    ErasureRequest,
    PurgeOut,
    PurgeRequest,
    apply_once,
    purge_cutoff,
    purge_published_outbox,
    record_erasure,
    require_workers,
    scrub_outbox,
)
from platform_common.errors import PROBLEM_RESPONSES
from products_service.api import SessionDep, SettingsDep
from products_service.models import erasures, outbox
from products_service.permissions import PERMISSIONS

internal_router = APIRouter(
    prefix="/internal/v1", tags=["internal"], responses=PROBLEM_RESPONSES, include_in_schema=False
)
CanApply = Annotated[Access, Depends(authorize(PERMISSIONS, "erasures.apply"))]
CanPurge = Annotated[Access, Depends(authorize(PERMISSIONS, "retention.purge"))]


def _apply(session: Session, body: ErasureRequest, access: Access) -> ErasureOut:
    """The outbox scrubbed, the erasure recorded and audited, in the session's transaction."""
    counts = scrub_outbox(session, outbox, body.user_id, body.pseudonym)
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


@internal_router.post("/erasures", summary="Scrub an erased user's id from the outbox (workers)")
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
    done, changed = apply_once(session, erasures, body, lambda: _apply(session, body, access))
    if changed:
        background.add_task(dispatcher_for(request.app, settings).dispatch_pending)
    return done


@internal_router.post("/retention/purge", summary="Delete delivered outbox rows past retention")
def purge(
    session: SessionDep,
    settings: SettingsDep,
    access: CanPurge,
    body: PurgeRequest | None = None,
) -> PurgeOut:
    require_workers(access.caller.caller_id, settings.workers_caller_id, "retention.purge")
    days = settings.personal_data_retention_days
    cutoff = purge_cutoff(body, settings.environment, days)
    counts = {"outbox": purge_published_outbox(session, outbox, cutoff)}
    audit_change(session, resource_id=None, resource_type="personal_data", details=counts)
    session.commit()
    return PurgeOut(retention_days=days, cutoff=cutoff, counts=counts)
