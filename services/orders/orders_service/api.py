"""Order routes under /v1; every change and its events commit in one transaction."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, cast

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Path, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, Row, Table, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from orders_service.catalog import InstrumentCatalog, get_catalog
from orders_service.domain import (
    OPEN,
    check_fill_notional,
    check_instrument,
    check_price_rules,
    check_risk,
    ensure_amendable,
    ensure_transition,
)
from orders_service.models import Fill, IdempotencyRecord, Order, TraderLock, outbox
from orders_service.permissions import PERMISSIONS
from orders_service.schemas import (
    FillCreate,
    FillOut,
    FillPage,
    OrderAmend,
    OrderCreate,
    OrderOut,
    OrderPage,
    OrderReject,
    OrderStatus,
    OrderType,
    Side,
)
from orders_service.settings import OrdersSettings, get_settings
from platform_common.app import dispatcher_for, resolve_settings
from platform_common.audit import audit_change, audit_read, confirm_commit
from platform_common.authz import Access, authorize
from platform_common.db import new_session, registry, release_session
from platform_common.errors import PROBLEM_RESPONSES, ProblemError
from platform_common.identity import Caller
from platform_common.outbox import DomainEvent, enqueue

PRICE_QUANTUM = Decimal("0.00000001")

router = APIRouter(prefix="/v1/orders", tags=["orders"], responses=PROBLEM_RESPONSES)


async def current_settings(request: Request) -> OrdersSettings:
    """The cached settings (or a test's override of get_settings), without a thread hop:
    FastAPI runs a sync dependency such as `get_settings` itself in a worker thread."""
    return resolve_settings(request.app, get_settings)


async def get_session(
    request: Request, settings: Annotated[OrdersSettings, Depends(current_settings)]
) -> AsyncIterator[Session]:
    """Async, so opening and (after a commit) closing the session cost no thread hop."""
    session = new_session(request, settings)
    try:
        yield session
    finally:
        await release_session(session)


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[OrdersSettings, Depends(current_settings)]
CatalogDep = Annotated[InstrumentCatalog, Depends(get_catalog)]
OrderId = Annotated[str, Path(min_length=1, max_length=36)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"),
]
# One dependency per route, each read from the permission table.
CanCreate = Annotated[Access, Depends(authorize(PERMISSIONS, "orders.create"))]
CanList = Annotated[Access, Depends(authorize(PERMISSIONS, "orders.list"))]
CanRead = Annotated[Access, Depends(authorize(PERMISSIONS, "orders.read"))]
CanListFills = Annotated[Access, Depends(authorize(PERMISSIONS, "orders.fills.list"))]
CanAmend = Annotated[Access, Depends(authorize(PERMISSIONS, "orders.amend"))]
CanCancel = Annotated[Access, Depends(authorize(PERMISSIONS, "orders.cancel"))]
CanAccept = Annotated[Access, Depends(authorize(PERMISSIONS, "orders.accept"))]
CanReject = Annotated[Access, Depends(authorize(PERMISSIONS, "orders.reject"))]
CanFill = Annotated[Access, Depends(authorize(PERMISSIONS, "orders.fill"))]


def _load(session: Session, order_id: str, access: Access) -> Order:
    """An order outside the caller's scope is answered like a missing one."""
    order = session.get(Order, order_id)
    if order is None or not access.covers(order.user_id):
        raise ProblemError(404, "Order not found", f"No order {order_id}.")
    return order


def _publish(
    session: Session,
    settings: OrdersSettings,
    order: Order,
    event_type: str,
    *,
    before: dict[str, object],
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """Outbox rows (the events and the audit record) join the order change's transaction;
    commands also go to the worker queue.

    Returns the order as published (before `extra`), which is also the response body.
    """
    session.flush()  # assigns the new version used in the deterministic message id
    order_body = _order_body(order)
    extra_json = jsonable_encoder(extra) if extra else None
    payload = {**order_body, **extra_json} if extra_json else order_body
    _enqueue_event(
        settings,
        session,
        event_type=event_type,
        order_id=order.id,
        version=order.version,
        payload=payload,
    )
    audit_change(session, resource_id=order.id, before=before, after=order_body, details=extra_json)
    return order_body


def _order_body(order: Order) -> dict[str, object]:
    """The order as JSON (the response body and the event's data)."""
    return OrderOut.model_validate(order).model_dump(mode="json")


def _enqueue_event(
    settings: OrdersSettings,
    session: Session | Connection,
    *,
    event_type: str,
    order_id: str,
    version: int,
    payload: dict[str, object],
) -> None:
    destinations = [settings.servicebus_events_topic]
    if event_type in {"OrderCreated", "OrderAmended", "OrderCancelled"}:
        destinations.insert(0, settings.servicebus_orders_queue)
    enqueue(session, outbox, DomainEvent(event_type, order_id, version, payload), destinations)


def _commit(session: Session) -> None:
    try:
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise ProblemError(
            409, "Concurrent modification", "The order changed meanwhile; reload and retry."
        ) from exc


def _dispatch_after_commit(
    background: BackgroundTasks, request: Request, settings: OrdersSettings
) -> None:
    """Publish right after the response; the lifespan loop retries anything left.

    Under load a pass is usually running: it is asked to go round once more and nothing is
    scheduled. Otherwise `kick` runs on the event loop after the response and hops to a
    thread only if no pass started meanwhile, so one pass publishes many requests' rows.
    """
    dispatcher = dispatcher_for(request.app, settings)
    if not dispatcher.hand_to_running_pass():
        background.add_task(dispatcher.kick)


def _request_hash(body: OrderCreate) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def _replay(record: IdempotencyRecord | Row[Any], request_hash: str) -> JSONResponse:
    if record.request_hash != request_hash:
        raise ProblemError(
            409,
            "Idempotency key reused",
            "This Idempotency-Key was used with a different request body.",
            type_="https://platform.example/problems/idempotency-key-reused",
        )
    body = json.loads(record.response_body)
    return JSONResponse(
        body,
        status_code=record.status_code,
        headers={"Idempotent-Replayed": "true", "Location": _location(body["id"])},
    )


def _location(order_id: str) -> str:
    """The created order's URL: the first answer and every replay of it carry the same one."""
    return f"/v1/orders/{order_id}"


# The create path's statements are built once (Core, bound per call): building and cache-
# keying an expression per request, and the ORM unit of work for one new row, cost more
# CPU than the SQL itself. They run while this trader's lock is held.
_TRADER_LOCKS = cast(Table, TraderLock.__table__)
_ORDERS = cast(Table, Order.__table__)
_BUMP_LOCK = (
    update(_TRADER_LOCKS)
    .where(_TRADER_LOCKS.c.user_id == bindparam("lock_user"))
    .values(creates=_TRADER_LOCKS.c.creates + 1)
)
_COUNT_OPEN = (
    select(func.count())
    .select_from(_ORDERS)
    .where(
        _ORDERS.c.user_id == bindparam("open_user"),
        # OR of equalities, not IN: an IN list is re-expanded on every execution.
        or_(*(_ORDERS.c.status == s.value for s in sorted(OPEN))),
    )
)
_INSERT_ORDER = insert(_ORDERS)
_INSERT_LOCK = insert(_TRADER_LOCKS)
_IDEMPOTENCY = cast(Table, IdempotencyRecord.__table__)
_INSERT_IDEMPOTENCY = insert(_IDEMPOTENCY)
_FIND_IDEMPOTENCY = select(_IDEMPOTENCY).where(
    _IDEMPOTENCY.c.caller_id == bindparam("caller"), _IDEMPOTENCY.c.key == bindparam("key")
)


def _find_replay(conn: Connection, caller_id: str, key: str) -> Row[Any] | None:
    return conn.execute(_FIND_IDEMPOTENCY, {"caller": caller_id, "key": key}).first()


def _lock_trader(db: Session | Connection, user_id: str) -> None:
    """Take the trader's lock row, so the open-order count checked next cannot be stale.

    An UPDATE holds its lock until commit on SQL Server (row) and SQLite (database). The
    first order of a trader inserts the row; if a concurrent first order inserted it
    already, the UPDATE is simply repeated.
    """
    conn = db.connection() if isinstance(db, Session) else db
    if conn.execute(_BUMP_LOCK, {"lock_user": user_id}).rowcount:
        return
    try:
        with conn.begin_nested():
            conn.execute(_INSERT_LOCK, {"user_id": user_id, "creates": 1})
    except IntegrityError:
        conn.execute(_BUMP_LOCK, {"lock_user": user_id})


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=OrderOut, summary="Create an order"
)
def create_order(
    *,
    body: OrderCreate,
    request: Request,
    background: BackgroundTasks,
    settings: SettingsDep,
    catalog: CatalogDep,
    access: CanCreate,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    caller = access.caller
    # The busiest route works on a Core connection, opened here in the worker thread: no
    # generator dependency (an exit stack per request on the event loop) and no ORM session.
    with registry(request).engine(settings).connect() as conn:
        return _create_order(
            conn,
            body=body,
            request=request,
            background=background,
            settings=settings,
            catalog=catalog,
            caller=caller,
            idempotency_key=idempotency_key,
        )


def _create_order(
    conn: Connection,
    *,
    body: OrderCreate,
    request: Request,
    background: BackgroundTasks,
    settings: OrdersSettings,
    catalog: InstrumentCatalog,
    caller: Caller,
    idempotency_key: str | None,
) -> JSONResponse:
    request_hash = _request_hash(body)
    if idempotency_key is not None:
        existing = _find_replay(conn, caller.caller_id, idempotency_key)
        if existing is not None:
            conn.rollback()
            return _replay(existing, request_hash)

    instrument = check_instrument(catalog.get(body.isin), body.isin)
    check_price_rules(instrument, body.order_type, body.limit_price)
    # Network calls are done; from here to commit, this trader's creates run one at a time.
    _lock_trader(conn, caller.caller_id)
    open_orders = conn.scalar(_COUNT_OPEN, {"open_user": caller.caller_id})
    check_risk(settings, instrument, body.quantity, body.limit_price, open_orders or 0)

    now = datetime.now(UTC)
    order_id = str(uuid.uuid4())
    row = {
        "id": order_id,
        "user_id": caller.caller_id,
        "isin": body.isin,
        "side": body.side.value,
        "order_type": body.order_type.value,
        "quantity": body.quantity,
        "limit_price": body.limit_price,
        "currency": instrument.currency,
        "filled_quantity": Decimal(0),
        "average_fill_price": None,
        "status": OrderStatus.NEW.value,
        "reject_reason": None,
        "version": 1,  # what the mapper's version counter starts at
        "created_at": now,
        "updated_at": now,
    }
    conn.execute(_INSERT_ORDER, [row])
    response_body = OrderOut.model_validate(row).model_dump(mode="json")
    _enqueue_event(
        settings,
        conn,
        event_type="OrderCreated",
        order_id=order_id,
        version=1,
        payload=response_body,
    )
    # The audit record: one more INSERT in the same transaction, nothing else on this path.
    audit_change(conn, resource_id=order_id, after=response_body, status_code=201)
    try:
        if idempotency_key is not None:
            conn.execute(
                _INSERT_IDEMPOTENCY,
                {
                    "caller_id": caller.caller_id,
                    "key": idempotency_key,
                    "request_hash": request_hash,
                    "status_code": 201,
                    "response_body": json.dumps(response_body),
                    "created_at": now,
                },
            )
        conn.commit()
        confirm_commit()  # the change and its audit record are in
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer as it did.
        conn.rollback()
        if idempotency_key is None:
            raise
        record = _find_replay(conn, caller.caller_id, idempotency_key)
        conn.rollback()
        if record is None:
            raise
        return _replay(record, request_hash)
    _dispatch_after_commit(background, request, settings)
    return JSONResponse(response_body, status_code=201, headers={"Location": _location(order_id)})


@router.get("", summary="List orders")
def list_orders(
    *,
    session: SessionDep,
    access: CanList,
    order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
    isin: Annotated[str | None, Query(pattern=r"^[A-Z0-9]{12}$")] = None,
    user_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> OrderPage:
    stmt = select(Order)
    if access.owner_filter is not None:
        stmt = stmt.where(Order.user_id == access.owner_filter)
    if user_id:
        stmt = stmt.where(Order.user_id == user_id)
    if order_status:
        stmt = stmt.where(Order.status == order_status.value)
    if isin:
        stmt = stmt.where(Order.isin == isin)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Order.created_at.desc(), Order.id).limit(limit).offset(offset)
    )
    page = OrderPage(
        items=[OrderOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )
    # A role (not ownership) answered unless the list is limited to the caller's own orders.
    if access.owner_filter is None and user_id != access.caller.caller_id:
        filters = {"user_id": user_id, "status": order_status, "isin": isin}
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


def _audit_others(session: Session, access: Access, order: Order) -> None:
    """Reading another trader's order (a role answered) leaves a record; one's own does not."""
    if order.user_id != access.caller.caller_id:
        audit_read(session, resource_id=order.id, details={"owner": {"user_id": order.user_id}})


@router.get("/{order_id}", summary="Get an order")
def get_order(
    *,
    order_id: OrderId,
    session: SessionDep,
    access: CanRead,
) -> OrderOut:
    order = _load(session, order_id, access)
    out = OrderOut.model_validate(order)
    _audit_others(session, access, order)
    return out


@router.get("/{order_id}/fills", summary="List an order's executions (oldest first)")
def list_fills(*, order_id: OrderId, session: SessionDep, access: CanListFills) -> FillPage:
    order = _load(session, order_id, access)
    rows = session.scalars(
        select(Fill).where(Fill.order_id == order.id).order_by(Fill.executed_at, Fill.id)
    )
    page = FillPage(order_id=order.id, items=[FillOut.model_validate(r) for r in rows])
    _audit_others(session, access, order)
    return page


@router.patch("/{order_id}", summary="Amend quantity and/or limit price")
def amend_order(
    *,
    order_id: OrderId,
    body: OrderAmend,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    catalog: CatalogDep,
    access: CanAmend,
) -> OrderOut:
    order = _load(session, order_id, access)
    ensure_amendable(OrderStatus(order.status))
    order_type = OrderType(order.order_type)
    quantity = body.quantity if body.quantity is not None else order.quantity
    if body.limit_price is not None and order_type is OrderType.MARKET:
        raise ProblemError(
            422, "Order rejected by validation", "Market orders have no limit price to amend."
        )
    limit_price = body.limit_price if body.limit_price is not None else order.limit_price
    if quantity <= order.filled_quantity:
        raise ProblemError(
            422,
            "Order rejected by validation",
            f"quantity must exceed the filled quantity {order.filled_quantity}.",
        )
    instrument = check_instrument(catalog.get(order.isin), order.isin)
    check_price_rules(instrument, order_type, limit_price)
    check_risk(settings, instrument, quantity - order.filled_quantity, limit_price, None)
    before = _order_body(order)
    order.quantity = quantity
    order.limit_price = limit_price
    order.updated_at = datetime.now(UTC)
    _publish(session, settings, order, "OrderAmended", before=before)
    _commit(session)
    _dispatch_after_commit(background, request, settings)
    return OrderOut.model_validate(order)


def _transition(
    session: Session,
    settings: OrdersSettings,
    order: Order,
    target: OrderStatus,
    *,
    event_type: str,
    reason: str | None = None,
) -> None:
    ensure_transition(OrderStatus(order.status), target)
    before = _order_body(order)
    order.status = target.value
    order.reject_reason = reason
    order.updated_at = datetime.now(UTC)
    _publish(session, settings, order, event_type, before=before)
    _commit(session)


@router.post("/{order_id}/cancel", summary="Cancel an open order")
def cancel_order(
    *,
    order_id: OrderId,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    access: CanCancel,
) -> OrderOut:
    order = _load(session, order_id, access)
    _transition(session, settings, order, OrderStatus.CANCELLED, event_type="OrderCancelled")
    _dispatch_after_commit(background, request, settings)
    return OrderOut.model_validate(order)


@router.post("/{order_id}/accept", summary="Accept a NEW order (worker / venue)")
def accept_order(
    *,
    order_id: OrderId,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    access: CanAccept,
) -> OrderOut:
    order = _load(session, order_id, access)
    _transition(session, settings, order, OrderStatus.ACCEPTED, event_type="OrderAccepted")
    _dispatch_after_commit(background, request, settings)
    return OrderOut.model_validate(order)


@router.post("/{order_id}/reject", summary="Reject an order (worker / venue / risk)")
def reject_order(
    *,
    order_id: OrderId,
    body: OrderReject,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    access: CanReject,
) -> OrderOut:
    order = _load(session, order_id, access)
    _transition(
        session,
        settings,
        order,
        OrderStatus.REJECTED,
        event_type="OrderRejected",
        reason=body.reason,
    )
    _dispatch_after_commit(background, request, settings)
    return OrderOut.model_validate(order)


@router.post("/{order_id}/fills", summary="Report an execution (simulated venue)")
def fill_order(
    *,
    order_id: OrderId,
    body: FillCreate,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    access: CanFill,
) -> OrderOut:
    order = _load(session, order_id, access)
    duplicate = session.scalar(
        select(Fill).where(Fill.order_id == order.id, Fill.venue_fill_id == body.venue_fill_id)
    )
    if duplicate is not None:
        if (duplicate.quantity, duplicate.price) != (body.quantity, body.price):
            raise ProblemError(
                409, "Fill id reused", f"venue_fill_id {body.venue_fill_id} has other terms."
            )
        return OrderOut.model_validate(order)
    remaining = order.quantity - order.filled_quantity
    if body.quantity > remaining:
        raise ProblemError(422, "Fill exceeds order", f"Only {remaining} remains open.")
    if order.limit_price is not None:
        worse = (
            body.price > order.limit_price
            if order.side == Side.BUY
            else body.price < order.limit_price
        )
        if worse:
            raise ProblemError(
                422,
                "Fill violates limit",
                f"Price {body.price} is through the limit {order.limit_price}.",
            )
    if order.limit_price is None:
        # A market order's price is known only now: its executed notional meets the limit here.
        # Summed in Python, exact whatever the backend's numeric arithmetic.
        fills = session.execute(select(Fill.quantity, Fill.price).where(Fill.order_id == order.id))
        executed = sum((q * p for q, p in fills), Decimal(0))
        check_fill_notional(settings, order.currency, executed, body.quantity * body.price)
    filled = order.filled_quantity + body.quantity
    target = OrderStatus.FILLED if filled == order.quantity else OrderStatus.PARTIALLY_FILLED
    ensure_transition(OrderStatus(order.status), target)
    before = _order_body(order)
    previous_value = (order.average_fill_price or Decimal(0)) * order.filled_quantity
    order.average_fill_price = ((previous_value + body.price * body.quantity) / filled).quantize(
        PRICE_QUANTUM
    )
    order.filled_quantity = filled
    session.add(
        Fill(
            order_id=order.id,
            venue_fill_id=body.venue_fill_id,
            quantity=body.quantity,
            price=body.price,
            executed_at=datetime.now(UTC),
        )
    )
    extra = {
        "fill": {
            "venue_fill_id": body.venue_fill_id,
            "quantity": body.quantity,
            "price": body.price,
        }
    }
    order.status = target.value
    order.updated_at = datetime.now(UTC)
    _publish(session, settings, order, "OrderFilled", before=before, extra=extra)
    _commit(session)
    _dispatch_after_commit(background, request, settings)
    return OrderOut.model_validate(order)
