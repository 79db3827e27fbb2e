"""Order state machine and the validation/risk rules applied before anything is written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orders_service.catalog import InstrumentRef
from orders_service.schemas import OrderStatus, OrderType
from orders_service.settings import OrdersSettings
from platform_common.errors import ProblemError

S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.NEW: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED}),
    S.FILLED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
}
AMENDABLE = frozenset({S.NEW, S.ACCEPTED, S.PARTIALLY_FILLED})
OPEN = AMENDABLE

VALIDATION_PROBLEM = "https://platform.example/problems/order-validation"
RISK_PROBLEM = "https://platform.example/problems/risk-limit-exceeded"
STATE_PROBLEM = "https://platform.example/problems/illegal-transition"


def ensure_transition(current: OrderStatus, target: OrderStatus) -> None:
    """409 for any move the lifecycle does not allow."""
    if target not in TRANSITIONS[current]:
        raise ProblemError(
            409,
            "Illegal order state transition",
            f"An order in {current.value} cannot become {target.value}.",
            type_=STATE_PROBLEM,
        )


def ensure_amendable(current: OrderStatus) -> None:
    if current not in AMENDABLE:
        raise ProblemError(
            409,
            "Order cannot be amended",
            f"Amendments are allowed in {', '.join(sorted(s.value for s in AMENDABLE))}, "
            f"not {current.value}.",
            type_=STATE_PROBLEM,
        )


def _invalid(field: str, message: str) -> ProblemError:
    errors: list[dict[str, Any]] = [{"loc": ["body", field], "msg": message, "type": "order_rule"}]
    return ProblemError(
        422, "Order rejected by validation", message, type_=VALIDATION_PROBLEM, errors=errors
    )


def check_instrument(instrument: InstrumentRef | None, isin: str) -> InstrumentRef:
    if instrument is None:
        raise _invalid("isin", f"Unknown instrument {isin}.")
    if not instrument.active:
        raise _invalid("isin", f"Instrument {isin} is inactive.")
    return instrument


def check_price_rules(
    instrument: InstrumentRef, order_type: OrderType, limit_price: Decimal | None
) -> None:
    """Limit prices must sit on the instrument's tick grid."""
    if order_type is OrderType.MARKET:
        if limit_price is not None:
            raise _invalid("limit_price", "limit_price is not allowed for market orders.")
        return
    if limit_price is None:
        raise _invalid("limit_price", "limit_price is required for limit orders.")
    if limit_price % instrument.tick_size != 0:
        raise _invalid(
            "limit_price",
            f"limit_price {limit_price} is not a multiple of tick size {instrument.tick_size}.",
        )


def check_risk(
    settings: OrdersSettings,
    instrument: InstrumentRef,
    quantity: Decimal,
    limit_price: Decimal | None,
    open_orders: int | None,
) -> None:
    """Per-order notional and per-user open-order limits; market orders use the reference price."""
    price = limit_price if limit_price is not None else instrument.reference_price
    if price is None:
        raise _invalid(
            "order_type", "Market orders need a reference price for the risk check; none is known."
        )
    notional = quantity * price
    if notional > settings.orders_max_notional_per_order:
        raise ProblemError(
            422,
            "Risk limit exceeded",
            f"Notional {notional} {instrument.currency} exceeds the per-order limit "
            f"{settings.orders_max_notional_per_order}.",
            type_=RISK_PROBLEM,
        )
    if open_orders is not None and open_orders >= settings.orders_max_open_orders_per_user:
        raise ProblemError(
            422,
            "Risk limit exceeded",
            f"Open order limit of {settings.orders_max_open_orders_per_user} reached.",
            type_=RISK_PROBLEM,
        )


def check_fill_notional(
    settings: OrdersSettings, currency: str, executed: Decimal, fill_notional: Decimal
) -> None:
    """A market order's fills may not take its notional past the per-order limit.

    At creation a market order is checked at the reference price, an estimate; the
    execution price is known only when the venue reports the fill.
    """
    total = executed + fill_notional
    if total > settings.orders_max_notional_per_order:
        raise ProblemError(
            422,
            "Risk limit exceeded",
            f"This fill takes the market order's executed notional to {total} {currency}, "
            f"over the per-order limit {settings.orders_max_notional_per_order}.",
            type_=RISK_PROBLEM,
        )
