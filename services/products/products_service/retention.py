"""The retention purge of products-api: delivered outbox rows (audit records name their actor).

Reference data holds nobody's personal data; only the outbox does, until it is purged.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from platform_common.audit import audit_change
from platform_common.authz import Access, authorize
from platform_common.erasure import (
    PurgeOut,
    PurgeRequest,
    purge_cutoff,
    purge_published_outbox,
    require_workers,
)
from platform_common.errors import PROBLEM_RESPONSES
from products_service.api import SessionDep, SettingsDep
from products_service.models import outbox
from products_service.permissions import PERMISSIONS

internal_router = APIRouter(
    prefix="/internal/v1", tags=["internal"], responses=PROBLEM_RESPONSES, include_in_schema=False
)
CanPurge = Annotated[Access, Depends(authorize(PERMISSIONS, "retention.purge"))]


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
