"""The order lifecycle and the validation/risk rules at their edges, called directly.

The API tests go through HTTP; these pin what a flipped comparison or a dropped branch in
orders_service.domain would change: every transition of the table, both sides of each
limit, and the problem each rule answers with.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from orders_service.catalog import InstrumentRef
from orders_service.domain import (
    AMENDABLE,
    RISK_PROBLEM,
    STATE_PROBLEM,
    TRANSITIONS,
    VALIDATION_PROBLEM,
    check_instrument,
    check_price_rules,
    check_risk,
    ensure_amendable,
    ensure_transition,
)
from orders_service.schemas import OrderStatus, OrderType
from orders_service.settings import OrdersSettings
from platform_common.errors import ProblemError

S = OrderStatus
APPLE = InstrumentRef("US0378331005", True, "USD", Decimal("0.01"), Decimal("190.00"))
NO_REFERENCE = InstrumentRef("DE0007236101", True, "EUR", Decimal("0.02"), None)
DELISTED = InstrumentRef("GB0002634946", False, "GBP", Decimal("0.5"), Decimal(100))
LIMITS = OrdersSettings(
    orders_max_notional_per_order=Decimal(1000), orders_max_open_orders_per_user=3
)

# The lifecycle as the order-management seed describes it; anything else is a 409.
ALLOWED = {
    (S.NEW, S.ACCEPTED),
    (S.NEW, S.REJECTED),
    (S.NEW, S.CANCELLED),
    (S.ACCEPTED, S.PARTIALLY_FILLED),
    (S.ACCEPTED, S.FILLED),
    (S.ACCEPTED, S.CANCELLED),
    (S.ACCEPTED, S.REJECTED),
    (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
    (S.PARTIALLY_FILLED, S.FILLED),
    (S.PARTIALLY_FILLED, S.CANCELLED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_transition_is_allowed_or_a_409(current: OrderStatus, target: OrderStatus) -> None:
    if (current, target) in ALLOWED:
        ensure_transition(current, target)
        return
    with pytest.raises(ProblemError) as caught:
        ensure_transition(current, target)
    problem = caught.value
    assert (problem.status, problem.type) == (409, STATE_PROBLEM)
    assert problem.detail == f"An order in {current.value} cannot become {target.value}."
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize("status", list(S))
def test_only_open_orders_are_amendable(status: OrderStatus) -> None:
    assert {S.NEW, S.ACCEPTED, S.PARTIALLY_FILLED} == AMENDABLE
    if status in AMENDABLE:
        ensure_amendable(status)
        return
    with pytest.raises(ProblemError) as caught:
        ensure_amendable(status)
    assert (caught.value.status, caught.value.type) == (409, STATE_PROBLEM)
    assert caught.value.detail == (
        f"Amendments are allowed in ACCEPTED, NEW, PARTIALLY_FILLED, not {status.value}."
    )


def _validation(call: object) -> ProblemError:
    assert isinstance(call, ProblemError)
    assert (call.status, call.type) == (422, VALIDATION_PROBLEM)
    return call


def test_unknown_and_inactive_instruments_are_refused_on_the_isin_field() -> None:
    assert check_instrument(APPLE, APPLE.isin) is APPLE
    for instrument, detail in [
        (None, "Unknown instrument XS0000000000."),
        (DELISTED, "Instrument XS0000000000 is inactive."),
    ]:
        with pytest.raises(ProblemError) as caught:
            check_instrument(instrument, "XS0000000000")
        problem = _validation(caught.value)
        assert problem.detail == detail
        assert problem.errors == [{"loc": ["body", "isin"], "msg": detail, "type": "order_rule"}]


def test_limit_prices_sit_on_the_tick_grid() -> None:
    check_price_rules(APPLE, OrderType.LIMIT, Decimal("190.01"))
    check_price_rules(APPLE, OrderType.LIMIT, Decimal("0.01"))
    with pytest.raises(ProblemError) as caught:
        check_price_rules(APPLE, OrderType.LIMIT, Decimal("190.015"))
    assert _validation(caught.value).detail == (
        "limit_price 190.015 is not a multiple of tick size 0.01."
    )


def test_limit_orders_need_a_price_and_market_orders_must_not_have_one() -> None:
    check_price_rules(APPLE, OrderType.MARKET, None)
    with pytest.raises(ProblemError) as caught:
        check_price_rules(APPLE, OrderType.LIMIT, None)
    assert _validation(caught.value).detail == "limit_price is required for limit orders."
    with pytest.raises(ProblemError) as caught:
        check_price_rules(APPLE, OrderType.MARKET, Decimal("190.00"))
    assert _validation(caught.value).detail == "limit_price is not allowed for market orders."


def test_notional_exactly_at_the_limit_passes_and_one_tick_more_fails() -> None:
    check_risk(LIMITS, APPLE, Decimal(5), Decimal(200), open_orders=0)  # 1000 exactly
    with pytest.raises(ProblemError) as caught:
        check_risk(LIMITS, APPLE, Decimal(5), Decimal("200.01"), open_orders=0)
    problem = caught.value
    assert (problem.status, problem.type) == (422, RISK_PROBLEM)
    assert problem.detail == "Notional 1000.05 USD exceeds the per-order limit 1000."


def test_market_orders_use_the_reference_price_for_the_notional() -> None:
    check_risk(LIMITS, APPLE, Decimal(5), None, open_orders=None)  # 5 x 190 = 950
    with pytest.raises(ProblemError, match=r"Notional 1140\.00 USD"):
        check_risk(LIMITS, APPLE, Decimal(6), None, open_orders=None)
    # A limit price, when there is one, wins over the reference price.
    check_risk(LIMITS, APPLE, Decimal(6), Decimal(100), open_orders=None)


def test_market_orders_without_a_reference_price_are_refused() -> None:
    with pytest.raises(ProblemError) as caught:
        check_risk(LIMITS, NO_REFERENCE, Decimal(1), None, open_orders=0)
    problem = _validation(caught.value)
    assert problem.errors is not None
    assert problem.errors[0]["loc"] == ["body", "order_type"]
    check_risk(LIMITS, NO_REFERENCE, Decimal(1), Decimal(1), open_orders=0)


def test_open_order_limit_counts_the_orders_already_open() -> None:
    check_risk(LIMITS, APPLE, Decimal(1), Decimal(1), open_orders=2)  # the third one
    with pytest.raises(ProblemError) as caught:
        check_risk(LIMITS, APPLE, Decimal(1), Decimal(1), open_orders=3)
    assert (caught.value.status, caught.value.type) == (422, RISK_PROBLEM)
    assert caught.value.detail == "Open order limit of 3 reached."
    # Not counted (amendments): only the notional applies.
    check_risk(LIMITS, APPLE, Decimal(1), Decimal(1), open_orders=None)


def test_more_open_orders_than_the_limit_is_refused_too() -> None:
    # The limit can be lowered while orders are open: 4 open against a limit of 3.
    with pytest.raises(ProblemError, match="Open order limit of 3 reached"):
        check_risk(LIMITS, APPLE, Decimal(1), Decimal(1), open_orders=4)


def test_the_tick_grid_holds_whatever_the_sign() -> None:
    # Decimal's remainder keeps the dividend's sign: off-grid is any non-zero remainder.
    check_price_rules(APPLE, OrderType.LIMIT, Decimal("-190.01"))
    with pytest.raises(ProblemError, match="not a multiple of tick size"):
        check_price_rules(APPLE, OrderType.LIMIT, Decimal("-190.015"))
