"""Instrument search, cacheable lookup and admin writes under /v1."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from pydantic import JsonValue, TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from platform_common.audit import audit_change
from platform_common.authz import Access, authorize, public
from platform_common.db import open_session
from platform_common.errors import PROBLEM_RESPONSES, ProblemError
from platform_common.identifiers import CFI_CATEGORIES
from products_service.models import Instrument
from products_service.permissions import PERMISSIONS
from products_service.schemas import (
    BatchReject,
    BatchResult,
    InstrumentBatch,
    InstrumentCreate,
    InstrumentFields,
    InstrumentLoad,
    InstrumentOut,
    InstrumentPage,
    InstrumentStatus,
)
from products_service.settings import ProductsSettings, get_settings

router = APIRouter(prefix="/v1/instruments", tags=["instruments"], responses=PROBLEM_RESPONSES)

# Reached only over internal ingress by the platform's workers; left out of the OpenAPI
# document, so API Management has no route to it.
internal_router = APIRouter(
    prefix="/internal/v1", tags=["internal"], responses=PROBLEM_RESPONSES, include_in_schema=False
)

IsinPath = Annotated[str, Path(min_length=12, max_length=12, pattern=r"^[A-Z0-9]{12}$")]


def get_session(
    request: Request, settings: Annotated[ProductsSettings, Depends(get_settings)]
) -> Iterator[Session]:
    yield from open_session(request, settings)


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[ProductsSettings, Depends(get_settings)]
CanCreate = Annotated[Access, Depends(authorize(PERMISSIONS, "instruments.create"))]
CanUpdate = Annotated[Access, Depends(authorize(PERMISSIONS, "instruments.update"))]
CanLoad = Annotated[Access, Depends(authorize(PERMISSIONS, "instruments.load"))]


def to_out(instrument: Instrument) -> InstrumentOut:
    return InstrumentOut.model_validate(
        {**vars(instrument), "cfi_category": CFI_CATEGORIES[instrument.cfi_code[0]]}
    )


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@router.get(
    "",
    summary="Search instruments",
    dependencies=[Depends(public(PERMISSIONS, "instruments.search"))],
)
def search_instruments(
    *,
    session: SessionDep,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="ISIN prefix or name fragment")
    ] = None,
    cfi_category: Annotated[
        str | None, Query(pattern=r"^[A-Z]$", description="First CFI letter")
    ] = None,
    venue: Annotated[
        str | None, Query(pattern=r"^[A-Z0-9]{4}$", description="Trading venue MIC")
    ] = None,
    instrument_status: Annotated[InstrumentStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> InstrumentPage:
    stmt = select(Instrument)
    if q:
        pattern = _like_escape(q.lower())
        stmt = stmt.where(
            func.lower(Instrument.isin).like(f"{pattern}%", escape="\\")
            | func.lower(Instrument.full_name).like(f"%{pattern}%", escape="\\")
        )
    if cfi_category:
        stmt = stmt.where(Instrument.cfi_code.like(f"{cfi_category}%"))
    if venue:
        stmt = stmt.where(Instrument.venue_mic == venue)
    if instrument_status:
        stmt = stmt.where(Instrument.status == instrument_status.value)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Instrument.full_name, Instrument.isin).limit(limit).offset(offset)
    )
    return InstrumentPage(items=[to_out(r) for r in rows], total=total, limit=limit, offset=offset)


def _etag(out: InstrumentOut) -> str:
    digest = hashlib.sha256(out.model_dump_json().encode()).hexdigest()[:32]
    return f'"{digest}"'


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


@router.get(
    "/{isin}",
    summary="Look up an instrument by ISIN (cacheable)",
    response_model=InstrumentOut,
    responses={304: {"description": "Not modified (If-None-Match matched the ETag)"}},
    dependencies=[Depends(public(PERMISSIONS, "instruments.read"))],
)
def get_instrument(
    *,
    isin: IsinPath,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    if_none_match: Annotated[str | None, Header(max_length=512)] = None,
) -> InstrumentOut | Response:
    instrument = session.get(Instrument, isin)
    if instrument is None:
        raise ProblemError(404, "Instrument not found", f"No instrument with ISIN {isin}.")
    out = to_out(instrument)
    etag = _etag(out)
    # public: reference data does not vary by caller, so API Management may cache it.
    cache_headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={settings.products_cache_max_age_seconds}",
    }
    if _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=cache_headers)
    response.headers.update(cache_headers)
    return out


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an instrument (admin)")
def create_instrument(
    *, body: InstrumentCreate, session: SessionDep, _access: CanCreate
) -> InstrumentOut:
    if session.get(Instrument, body.isin) is not None:
        raise ProblemError(409, "Instrument exists", f"ISIN {body.isin} is already registered.")
    instrument = Instrument(
        **body.model_dump(mode="python"), version=1, updated_at=datetime.now(UTC)
    )
    session.add(instrument)
    out = to_out(instrument)
    audit_change(session, resource_id=out.isin, after=out.model_dump(mode="json"), status_code=201)
    session.commit()
    return out


@router.put("/{isin}", summary="Replace an instrument's fields (admin)")
def update_instrument(
    *, isin: IsinPath, body: InstrumentFields, session: SessionDep, _access: CanUpdate
) -> InstrumentOut:
    instrument = session.get(Instrument, isin)
    if instrument is None:
        raise ProblemError(404, "Instrument not found", f"No instrument with ISIN {isin}.")
    before = to_out(instrument).model_dump(mode="json")
    for key, value in body.model_dump(mode="python").items():
        setattr(instrument, key, value)
    instrument.version += 1
    instrument.updated_at = datetime.now(UTC)
    out = to_out(instrument)
    audit_change(session, resource_id=isin, before=before, after=out.model_dump(mode="json"))
    session.commit()
    return out


_LOAD_ITEM = TypeAdapter(InstrumentLoad)
_LOADED_FIELDS = ("full_name", "cfi_code", "issuer_lei", "currency", "venue_mic")
# One IN (...) lookup per this many ISINs: SQL Server takes at most 2100 parameters.
_LOOKUP_CHUNK = 1000


def _reason(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or 'item'}: {error['msg']}"
        for error in exc.errors(include_url=False)
    )


def _validated(
    items: list[dict[str, JsonValue]],
) -> tuple[dict[str, InstrumentLoad], list[BatchReject]]:
    """The valid items by ISIN (first occurrence wins), and a reject for each other item."""
    valid: dict[str, InstrumentLoad] = {}
    first_index: dict[str, int] = {}
    rejects: list[BatchReject] = []
    for index, item in enumerate(items):
        isin = item.get("isin")
        shown = isin if isinstance(isin, str) else None
        try:
            load = _LOAD_ITEM.validate_python(item)
        except ValidationError as exc:
            rejects.append(BatchReject(index=index, isin=shown, reason=_reason(exc)))
            continue
        if load.isin in valid:
            reason = f"duplicate of item {first_index[load.isin]} (one record per ISIN per batch)"
            rejects.append(BatchReject(index=index, isin=load.isin, reason=reason))
            continue
        valid[load.isin] = load
        first_index[load.isin] = index
    return valid, rejects


@internal_router.put(
    "/instruments:batch",
    summary="Upsert a batch of instruments' reference fields (workers only); idempotent",
)
def load_instruments(
    *,
    body: InstrumentBatch,
    session: SessionDep,
    settings: SettingsDep,
    access: CanLoad,
) -> BatchResult:
    """Create unknown ISINs and update changed reference fields, in one transaction.

    Trading fields (tick size, reference price, status) are the admin's and never touched;
    an item equal to what is stored changes nothing (no version bump), so re-sending a
    batch is a no-op.
    """
    if access.caller.caller_id != settings.workers_caller_id:
        raise ProblemError(
            403, "Forbidden", "instruments.load is reserved to the workers' identity."
        )
    if len(body.items) > settings.products_load_max_items:
        raise ProblemError(
            413,
            "Batch too large",
            f"A batch holds at most {settings.products_load_max_items} items; "
            f"this one has {len(body.items)}.",
        )
    valid, rejects = _validated(body.items)
    isins = list(valid)
    stored: dict[str, Instrument] = {}
    for start in range(0, len(isins), _LOOKUP_CHUNK):
        chunk = isins[start : start + _LOOKUP_CHUNK]
        stored.update(
            (row.isin, row)
            for row in session.scalars(select(Instrument).where(Instrument.isin.in_(chunk)))
        )
    now = datetime.now(UTC)
    created_isins: list[str] = []
    updated_isins: list[str] = []
    for isin, load in valid.items():
        fields = load.model_dump(include=set(_LOADED_FIELDS))
        row = stored.get(isin)
        if row is None:
            session.add(
                Instrument(
                    isin=isin,
                    **fields,
                    tick_size=settings.products_load_tick_size,
                    reference_price=None,
                    status=InstrumentStatus.ACTIVE.value,
                    version=1,
                    updated_at=now,
                )
            )
            created_isins.append(isin)
        elif any(getattr(row, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(row, name, value)
            row.version += 1
            row.updated_at = now
            updated_isins.append(isin)
    created, updated = len(created_isins), len(updated_isins)
    result = BatchResult(
        received=len(body.items),
        created=created,
        updated=updated,
        unchanged=len(valid) - created - updated,
        rejected=sorted(rejects, key=lambda r: r.index),
    )
    if created or updated:
        # One record for the batch: its counts and which ISINs it wrote (reference data, not
        # personal); a batch that changes nothing is recorded by the middleware as a replay.
        audit_change(
            session,
            resource_id=None,
            details={
                **result.model_dump(mode="json", exclude={"rejected"}),
                "rejected": len(result.rejected),
                "created_isins": created_isins,
                "updated_isins": updated_isins,
            },
        )
    try:
        session.commit()
    except IntegrityError as exc:
        # A concurrent load created one of these ISINs first; nothing of this batch stayed.
        session.rollback()
        raise ProblemError(
            409,
            "Concurrent load",
            "Another batch created some of these instruments at the same time; nothing was "
            "written. Re-send the batch: loads are idempotent.",
        ) from exc
    return result
