"""Settlement routes under /v1; creation is idempotent on the order id."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from payments_service.models import Settlement, outbox
from payments_service.orders_client import OrdersLookup, get_orders
from payments_service.permissions import PERMISSIONS
from payments_service.schemas import (
    SettlementCreate,
    SettlementFail,
    SettlementOut,
    SettlementPage,
    SettlementStatus,
)
from payments_service.settings import PaymentsSettings, get_settings
from payments_service.verification import verify
from platform_common.app import dispatcher_for
from platform_common.audit import audit_change, audit_read
from platform_common.authz import Access, authorize
from platform_common.db import open_session
from platform_common.errors import PROBLEM_MEDIA_TYPE, PROBLEM_RESPONSES, Problem, ProblemError
from platform_common.outbox import DomainEvent, enqueue

router = APIRouter(prefix="/v1/settlements", tags=["settlements"], responses=PROBLEM_RESPONSES)

TRANSITIONS: dict[SettlementStatus, frozenset[SettlementStatus]] = {
    SettlementStatus.PENDING: frozenset({SettlementStatus.SETTLED, SettlementStatus.FAILED}),
    SettlementStatus.SETTLED: frozenset(),
    SettlementStatus.FAILED: frozenset(),
}


def get_session(
    request: Request, settings: Annotated[PaymentsSettings, Depends(get_settings)]
) -> Iterator[Session]:
    yield from open_session(request, settings)


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[PaymentsSettings, Depends(get_settings)]
OrdersDep = Annotated[OrdersLookup, Depends(get_orders)]
CanCreate = Annotated[Access, Depends(authorize(PERMISSIONS, "settlements.create"))]
CanList = Annotated[Access, Depends(authorize(PERMISSIONS, "settlements.list"))]
CanRead = Annotated[Access, Depends(authorize(PERMISSIONS, "settlements.read"))]
CanSettle = Annotated[Access, Depends(authorize(PERMISSIONS, "settlements.settle"))]
CanFail = Annotated[Access, Depends(authorize(PERMISSIONS, "settlements.fail"))]
SettlementId = Annotated[str, Path(min_length=1, max_length=36)]

_TERMS = ("user_id", "isin", "side", "quantity", "price", "currency")


def _publish(
    session: Session, settings: PaymentsSettings, item: Settlement, event_type: str
) -> None:
    session.flush()
    payload = jsonable_encoder(SettlementOut.model_validate(item))
    enqueue(
        session,
        outbox,
        DomainEvent(event_type, item.id, item.version, payload),
        [settings.servicebus_events_topic],
    )


def _existing_or_conflict(existing: Settlement, body: SettlementCreate) -> JSONResponse:
    """Same order, same terms -> 200 with the existing instruction; other terms -> 409."""
    mismatched = [name for name in _TERMS if getattr(existing, name) != getattr(body, name)]
    if mismatched:
        raise ProblemError(
            409,
            "Settlement exists with other terms",
            f"Order {body.order_id} already has an instruction; "
            f"differing: {', '.join(mismatched)}.",
        )
    return JSONResponse(jsonable_encoder(SettlementOut.model_validate(existing)), status_code=200)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SettlementOut,
    responses={
        200: {"model": SettlementOut, "description": "Instruction already existed for this order"},
        503: {
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {}},
            "description": "orders-api could not verify the order; nothing was written",
        },
    },
    summary="Create the settlement instruction for a filled order",
)
def create_settlement(
    *,
    body: SettlementCreate,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    orders: OrdersDep,
    access: CanCreate,
) -> JSONResponse:
    existing = session.scalar(select(Settlement).where(Settlement.order_id == body.order_id))
    if existing is not None:
        return _existing_or_conflict(existing, body)
    # Only a finished order's own terms settle; the amount is what its fills moved.
    amount = verify(body, orders.get(body.order_id, access.caller))
    now = datetime.now(UTC)
    item = Settlement(
        id=str(uuid.uuid4()),
        **body.model_dump(mode="python"),
        amount=amount,
        status=SettlementStatus.PENDING.value,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    _publish(session, settings, item, "SettlementInstructed")
    after = jsonable_encoder(SettlementOut.model_validate(item))
    audit_change(session, resource_id=item.id, after=after, status_code=201)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raced = session.scalar(select(Settlement).where(Settlement.order_id == body.order_id))
        if raced is None:
            raise
        return _existing_or_conflict(raced, body)
    background.add_task(dispatcher_for(request.app, settings).dispatch_pending)
    return JSONResponse(
        jsonable_encoder(SettlementOut.model_validate(item)),
        status_code=201,
        headers={"Location": f"/v1/settlements/{item.id}"},
    )


@router.get("", summary="List settlement instructions")
def list_settlements(
    *,
    session: SessionDep,
    access: CanList,
    order_id: Annotated[str | None, Query(min_length=1, max_length=36)] = None,
    settlement_status: Annotated[SettlementStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> SettlementPage:
    stmt = select(Settlement)
    if access.owner_filter is not None:
        stmt = stmt.where(Settlement.user_id == access.owner_filter)
    if order_id:
        stmt = stmt.where(Settlement.order_id == order_id)
    if settlement_status:
        stmt = stmt.where(Settlement.status == settlement_status.value)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Settlement.created_at.desc(), Settlement.id).limit(limit).offset(offset)
    )
    page = SettlementPage(
        items=[SettlementOut.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
    # A role (not ownership) answered: the page may hold other traders' settlements.
    if access.owner_filter is None:
        filters = {"order_id": order_id, "status": settlement_status}
        audit_read(
            session,
            resource_id=None,
            details={
                "filter": {k: v for k, v in filters.items() if v is not None},
                "limit": limit,
                "offset": offset,
                "returned": len(page.items),
            },
        )
    return page


def _load(session: Session, settlement_id: str, access: Access) -> Settlement:
    """A settlement outside the caller's scope is answered like a missing one."""
    item = session.get(Settlement, settlement_id)
    if item is None or not access.covers(item.user_id):
        raise ProblemError(404, "Settlement not found", f"No settlement {settlement_id}.")
    return item


@router.get("/{settlement_id}", summary="Get a settlement instruction")
def get_settlement(
    *,
    settlement_id: SettlementId,
    session: SessionDep,
    access: CanRead,
) -> SettlementOut:
    item = _load(session, settlement_id, access)
    out = SettlementOut.model_validate(item)
    if item.user_id != access.caller.caller_id:  # a role answered, not ownership
        audit_read(session, resource_id=item.id, details={"owner": {"user_id": item.user_id}})
    return out


def _move(
    request: Request,
    background: BackgroundTasks,
    session: Session,
    settings: PaymentsSettings,
    settlement_id: str,
    *,
    access: Access,
    target: SettlementStatus,
    reason: str | None,
) -> SettlementOut:
    item = _load(session, settlement_id, access)
    current = SettlementStatus(item.status)
    if target not in TRANSITIONS[current]:
        raise ProblemError(
            409,
            "Illegal settlement transition",
            f"A {current.value} settlement cannot become {target.value}.",
        )
    before = jsonable_encoder(SettlementOut.model_validate(item))
    item.status = target.value
    item.failure_reason = reason
    item.updated_at = datetime.now(UTC)
    _publish(session, settings, item, f"Settlement{target.value.capitalize()}")
    after = jsonable_encoder(SettlementOut.model_validate(item))
    audit_change(session, resource_id=item.id, before=before, after=after)
    try:
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise ProblemError(
            409, "Concurrent modification", "The settlement changed meanwhile."
        ) from exc
    background.add_task(dispatcher_for(request.app, settings).dispatch_pending)
    return SettlementOut.model_validate(item)


@router.post("/{settlement_id}/settle", summary="Mark a pending settlement as settled")
def settle(
    *,
    settlement_id: SettlementId,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    access: CanSettle,
) -> SettlementOut:
    return _move(
        request,
        background,
        session,
        settings,
        settlement_id,
        access=access,
        target=SettlementStatus.SETTLED,
        reason=None,
    )


@router.post("/{settlement_id}/fail", summary="Mark a pending settlement as failed")
def fail(
    *,
    settlement_id: SettlementId,
    body: SettlementFail,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    access: CanFail,
) -> SettlementOut:
    return _move(
        request,
        background,
        session,
        settings,
        settlement_id,
        access=access,
        target=SettlementStatus.FAILED,
        reason=body.reason,
    )
