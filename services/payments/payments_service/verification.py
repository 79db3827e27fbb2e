"""A settlement instruction must restate a finished order's executions exactly."""

from __future__ import annotations

from decimal import Decimal
from functools import reduce
from typing import Any

from payments_service.orders_client import FilledOrder
from payments_service.schemas import SettlementCreate
from platform_common.columns import WIDE
from platform_common.errors import ProblemError
from platform_common.types import amount_of

VERIFICATION_PROBLEM = "https://platform.example/problems/settlement-verification"


def is_settleable(status: str, filled_quantity: Decimal) -> bool:
    """FILLED, or cancelled after partial fills: either way no execution can follow.

    An order still PARTIALLY_FILLED may fill further, and one instruction per order
    would then be wrong; REJECTED or CANCELLED orders without fills have nothing to settle.
    """
    return status == "FILLED" or (status == "CANCELLED" and filled_quantity > 0)


def executed_amount(found: FilledOrder) -> Decimal:
    """The cash the fills moved, summed exactly (no 28-digit context rounding).

    Fills never exceed the order's quantity, so the sum stays within the amount column.
    """
    return reduce(WIDE.add, (amount_of(f.quantity, f.price) for f in found.fills), Decimal(0))


def verify(body: SettlementCreate, found: FilledOrder | None) -> Decimal:
    """The settlement amount when `body` matches its order's fills; otherwise a problem."""
    if found is None:
        raise ProblemError(
            422,
            "Settlement rejected by verification",
            f"Order {body.order_id} does not exist in orders-api.",
            type_=VERIFICATION_PROBLEM,
            errors=[_error("order_id", "no such order")],
        )
    order = found.order
    if not is_settleable(order.status, order.filled_quantity):
        raise ProblemError(
            409,
            "Order is not settleable",
            f"Order {order.id} is {order.status} with filled quantity {order.filled_quantity}; "
            "only FILLED orders, or orders cancelled after partial fills, settle.",
            type_=VERIFICATION_PROBLEM,
        )
    filled = sum((f.quantity for f in found.fills), Decimal(0))
    expected: dict[str, object] = {
        "user_id": order.user_id,
        "isin": order.isin,
        "side": order.side,
        "currency": order.currency,
        "quantity": filled,
        "price": order.average_fill_price,
    }
    errors = [
        _error(name, f"{getattr(body, name)} differs from the order's {value}")
        for name, value in expected.items()
        if getattr(body, name) != value
    ]
    if errors:
        raise ProblemError(
            422,
            "Settlement rejected by verification",
            f"The instruction does not match order {order.id}'s fills: "
            f"{', '.join(str(e['loc'][1]) for e in errors)}.",
            type_=VERIFICATION_PROBLEM,
            errors=errors,
        )
    return executed_amount(found)


def _error(field: str, message: str) -> dict[str, Any]:
    return {"loc": ["body", field], "msg": message, "type": "settlement_verification"}
