"""Internal routes of the third-party sync: OpenFIGI and GLEIF results, written by their owner.

Reached only over internal ingress by the workers; left out of the OpenAPI document API
Management imports, so the gateway has no route to them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from platform_common.audit import audit_change
from platform_common.authz import Access, authorize
from platform_common.errors import PROBLEM_RESPONSES, ProblemError
from products_service.api import IsinPath, SessionDep
from products_service.models import Instrument, InstrumentEnrichment
from products_service.permissions import PERMISSIONS
from products_service.schemas import EnrichmentFields, EnrichmentOut

internal_router = APIRouter(
    prefix="/internal/v1/instruments",
    tags=["internal"],
    responses=PROBLEM_RESPONSES,
    include_in_schema=False,
)
CanRead = Annotated[Access, Depends(authorize(PERMISSIONS, "instruments.enrichment.read"))]
CanWrite = Annotated[Access, Depends(authorize(PERMISSIONS, "instruments.enrichment.write"))]


@internal_router.get("/{isin}/enrichment", response_model=EnrichmentOut)
def get_enrichment(*, isin: IsinPath, session: SessionDep, _access: CanRead) -> EnrichmentOut:
    stored = session.get(InstrumentEnrichment, isin)
    if stored is None:
        raise ProblemError(404, "Not enriched", f"ISIN {isin} has no third-party data yet.")
    return EnrichmentOut.model_validate(stored)


@internal_router.put(
    "/{isin}/enrichment",
    response_model=EnrichmentOut,
    responses={201: {"model": EnrichmentOut, "description": "First enrichment stored"}},
)
def put_enrichment(
    *, isin: IsinPath, body: EnrichmentFields, session: SessionDep, _access: CanWrite
) -> EnrichmentOut | JSONResponse:
    """Store the instrument's third-party data; the same data again changes nothing."""
    if session.get(Instrument, isin) is None:
        raise ProblemError(404, "Instrument not found", f"No instrument with ISIN {isin}.")
    fields = body.model_dump(mode="python")
    stored = session.get(InstrumentEnrichment, isin)
    if stored is None:
        stored = InstrumentEnrichment(isin=isin, **fields, version=1, updated_at=datetime.now(UTC))
        session.add(stored)
        first = EnrichmentOut.model_validate(stored).model_dump(mode="json")
        try:
            # Its INSERT flushes the row: a concurrent delivery's is found here.
            audit_change(session, resource_id=isin, after=first, status_code=201)
            session.commit()
        except IntegrityError:
            # A concurrent delivery stored it first: fall through to compare with that.
            session.rollback()
            raced = session.get(InstrumentEnrichment, isin)
            if raced is None:
                raise
            stored = raced
        else:
            out = EnrichmentOut.model_validate(stored)
            return JSONResponse(out.model_dump(mode="json"), status_code=201)
    if any(getattr(stored, key) != value for key, value in fields.items()):
        before = EnrichmentOut.model_validate(stored).model_dump(mode="json")
        for key, value in fields.items():
            setattr(stored, key, value)
        stored.version += 1
        stored.updated_at = datetime.now(UTC)
        after = EnrichmentOut.model_validate(stored).model_dump(mode="json")
        audit_change(session, resource_id=isin, before=before, after=after)
        session.commit()
    return EnrichmentOut.model_validate(stored)
