"""ETL run records: the workers report each run here, operators (admins) read them.

products-api owns the instruments a run writes, so it also keeps the record of what each
run did (counts, rejects with reasons, duration, file name and hash, outcome). The report
route is internal (workers only, not in the OpenAPI document); the reads are /v1 admin
routes, so an operator sees runs through the gateway like any other resource.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from platform_common.audit import audit_change
from platform_common.authz import Access, authorize
from platform_common.errors import PROBLEM_RESPONSES, ProblemError
from products_service.api import SessionDep, SettingsDep
from products_service.models import EtlRun, EtlRunReject
from products_service.permissions import PERMISSIONS
from products_service.schemas import (
    EtlOutcome,
    EtlRejectOut,
    EtlRunDetail,
    EtlRunIn,
    EtlRunOut,
    EtlRunPage,
)

router = APIRouter(prefix="/v1/etl-runs", tags=["etl-runs"], responses=PROBLEM_RESPONSES)
internal_router = APIRouter(
    prefix="/internal/v1/etl-runs",
    tags=["internal"],
    responses=PROBLEM_RESPONSES,
    include_in_schema=False,
)
CanRecord = Annotated[Access, Depends(authorize(PERMISSIONS, "etl_runs.record"))]
CanList = Annotated[Access, Depends(authorize(PERMISSIONS, "etl_runs.list"))]
CanRead = Annotated[Access, Depends(authorize(PERMISSIONS, "etl_runs.read"))]
RunId = Annotated[
    str,
    Path(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
]
_COMPARED = (
    "file_name",
    "file_sha256",
    "outcome",
    "records",
    "valid",
    "written",
    "rejected",
    "batches",
    "error",
    "duration_ms",
    "started_at",
    "finished_at",
)


def _detail(session: Session, run: EtlRun) -> EtlRunDetail:
    rejects = session.scalars(
        select(EtlRunReject).where(EtlRunReject.run_id == run.id).order_by(EtlRunReject.seq)
    )
    return EtlRunDetail.model_validate(
        {
            **EtlRunOut.model_validate(run).model_dump(),
            "rejects": [EtlRejectOut.model_validate(r) for r in rejects],
        }
    )


def _same_report(stored: EtlRun, body: EtlRunIn) -> bool:
    return all(
        getattr(stored, key) == (value.value if isinstance(value, EtlOutcome) else value)
        for key, value in ((k, getattr(body, k)) for k in _COMPARED)
    )


@internal_router.post(
    "",
    status_code=201,
    response_model=EtlRunDetail,
    responses={200: {"model": EtlRunDetail, "description": "This run was already recorded"}},
)
def record_run(
    *, body: EtlRunIn, session: SessionDep, settings: SettingsDep, access: CanRecord
) -> EtlRunDetail | JSONResponse:
    """Record a run once; the same report again (a retried call) answers 200 and changes nothing."""
    if access.caller.caller_id != settings.workers_caller_id:
        raise ProblemError(
            403, "Forbidden", "etl_runs.record is reserved to the workers' identity."
        )
    existing = session.get(EtlRun, body.id)
    if existing is None:
        run = EtlRun(
            **body.model_dump(exclude={"rejects"}, mode="python"),
            recorded_by=access.caller.caller_id,
            recorded_at=datetime.now(UTC),
        )
        run.outcome = body.outcome.value
        session.add(run)
        session.flush()
        session.add_all(
            EtlRunReject(run_id=body.id, seq=seq, **reject.model_dump())
            for seq, reject in enumerate(body.rejects)
        )
        recorded = EtlRunOut.model_validate(run).model_dump(mode="json")
        audit_change(
            session,
            resource_id=body.id,
            after=recorded,
            details={"rejects": len(body.rejects)},
            status_code=201,
        )
        try:
            session.commit()
        except IntegrityError:
            # A concurrent retry of the same report recorded it first.
            session.rollback()
            existing = session.get(EtlRun, body.id)
            if existing is None:
                raise
        else:
            return _detail(session, run)
    if not _same_report(existing, body):
        raise ProblemError(
            409,
            "Run already recorded",
            f"Run {body.id} is recorded with different figures; a run is reported once.",
        )
    return JSONResponse(_detail(session, existing).model_dump(mode="json"), status_code=200)


@router.get("", summary="List ETL runs, newest first (admin)")
def list_runs(
    *,
    session: SessionDep,
    _access: CanList,
    file_name: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$", description="Exact name")
    ] = None,
    file_sha256: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")] = None,
    outcome: Annotated[EtlOutcome | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> EtlRunPage:
    stmt = select(EtlRun)
    if file_name:
        stmt = stmt.where(EtlRun.file_name == file_name)
    if file_sha256:
        stmt = stmt.where(EtlRun.file_sha256 == file_sha256)
    if outcome:
        stmt = stmt.where(EtlRun.outcome == outcome.value)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(EtlRun.started_at.desc(), EtlRun.id).limit(limit).offset(offset)
    )
    return EtlRunPage(
        items=[EtlRunOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{run_id}", summary="One ETL run with its rejects and their reasons (admin)")
def get_run(*, run_id: RunId, session: SessionDep, _access: CanRead) -> EtlRunDetail:
    run = session.get(EtlRun, run_id)
    if run is None:
        raise ProblemError(404, "ETL run not found", f"No ETL run with id {run_id}.")
    return _detail(session, run)
