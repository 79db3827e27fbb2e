"""The largest amount fills can move is computed, stored and returned exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from payments_service.models import Settlement
from payments_service.orders_client import FilledOrder, FillView, OrderView
from payments_service.schemas import SettlementOut
from payments_service.verification import executed_amount

from .conftest import PaymentsHarness

MAX_QUANTITY = Decimal("999999999999.999999")  # DECIMAL(18,6)
MAX_PRICE = Decimal("9999999999.99999999")  # DECIMAL(18,8)
# (10^12 - 10^-6) x (10^10 - 10^-8): 36 digits, none rounded
EXACT = Decimal("9999999999999999980000.00000000000001")


def test_executed_amount_of_the_largest_fill_is_exact() -> None:
    order = OrderView(
        id="o1",
        user_id="tom",
        isin="US0378331005",
        side="buy",
        status="FILLED",
        currency="USD",
        filled_quantity=MAX_QUANTITY,
        average_fill_price=MAX_PRICE,
    )
    fill = FillView(venue_fill_id="f0", quantity=MAX_QUANTITY, price=MAX_PRICE)
    assert executed_amount(FilledOrder(order, (fill,))) == EXACT


def test_largest_amount_round_trips_through_the_column(payments: PaymentsHarness) -> None:
    engine = create_engine(payments.settings.database_url)
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        session.add(
            Settlement(
                id="s-max",
                order_id="o-max",
                user_id="tom",
                isin="US0378331005",
                side="buy",
                quantity=MAX_QUANTITY,
                price=MAX_PRICE,
                currency="USD",
                amount=EXACT,
                status="PENDING",
                created_at=now,
                updated_at=now,
            )
        )
    with Session(engine) as session:
        stored = session.scalars(select(Settlement).where(Settlement.id == "s-max")).one()
        out = SettlementOut.model_validate(stored).model_dump(mode="json")
    engine.dispose()
    assert (out["quantity"], out["price"], out["amount"]) == (
        "999999999999.999999",
        "9999999999.99999999",
        "9999999999999999980000.00000000000001",
    )
    for field in ("created_at", "updated_at"):
        assert datetime.fromisoformat(out[field]).utcoffset() is not None, out[field]
