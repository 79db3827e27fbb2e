"""One trader's concurrent order creations run one at a time, so the open-order limit holds."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from orders_service import api, domain
from orders_service.api import _lock_trader
from orders_service.models import Order
from orders_service.schemas import OrderStatus
from orders_service.settings import OrdersSettings
from platform_common.db import build_engine
from platform_common.testing import caller_headers

from .conftest import OrdersHarness

LIMIT_BUY = {
    "isin": "US0378331005",
    "side": "buy",
    "order_type": "limit",
    "quantity": "10",
    "limit_price": "190.00",
}


def _order(user_id: str) -> Order:
    now = datetime.now(UTC)
    return Order(
        id=str(uuid.uuid4()),
        user_id=user_id,
        isin="US0378331005",
        side="buy",
        order_type="limit",
        quantity=Decimal(1),
        limit_price=Decimal("190.00"),
        currency="USD",
        filled_quantity=Decimal(0),
        average_fill_price=None,
        status=OrderStatus.NEW.value,
        created_at=now,
        updated_at=now,
    )


def _count(session: Session, user_id: str) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Order).where(Order.user_id == user_id)) or 0
    )


def test_second_create_waits_for_the_first_and_sees_its_order(
    orders_settings: OrdersSettings,
) -> None:
    factory = sessionmaker(build_engine(orders_settings))
    first_locked = threading.Event()
    seen: dict[str, float] = {}

    def first() -> None:
        with factory() as session:
            _lock_trader(session, "tom")
            first_locked.set()
            time.sleep(0.4)
            session.add(_order("tom"))
            session.commit()

    def second() -> None:
        first_locked.wait(5)
        with factory() as session:
            started = time.monotonic()
            _lock_trader(session, "tom")
            seen["waited"] = time.monotonic() - started
            seen["count"] = _count(session, "tom")
            session.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen["count"] == 1
    assert seen["waited"] >= 0.2


def test_other_traders_are_not_held_up(orders_settings: OrdersSettings) -> None:
    factory = sessionmaker(build_engine(orders_settings))
    with factory() as session:
        _lock_trader(session, "tom")
        _lock_trader(session, "tom")  # repeated in one transaction: still one row
        session.commit()
    with factory() as session:
        _lock_trader(session, "tina")
        session.commit()
        rows = session.execute(select(Order)).all()
    assert rows == []


def test_concurrent_creates_never_exceed_the_open_order_limit(
    orders: OrdersHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window between counting open orders and committing the new one is widened, so
    without the lock row concurrent creates all pass the check (and this test fails)."""
    limit = orders.settings.orders_max_open_orders_per_user
    headers = caller_headers("tom", "trader")
    real_check = domain.check_risk

    def slow_check(*args: Any) -> None:
        real_check(*args)
        time.sleep(0.05)

    monkeypatch.setattr(api, "check_risk", slow_check)

    def create(_: int) -> int:
        return orders.client.post("/v1/orders", json=LIMIT_BUY, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(create, range(limit + 5)))
    assert codes.count(201) == limit
    assert all(code in (201, 422) for code in codes), codes
    listed = orders.client.get("/v1/orders", headers=headers).json()
    assert listed["total"] == limit


def test_concurrent_retries_with_one_key_create_one_order(orders: OrdersHarness) -> None:
    """Racing retries with one Idempotency-Key: one order, every answer is its 201."""
    headers = {**caller_headers("tom", "trader"), "Idempotency-Key": "retry-1"}

    def create(_: int) -> tuple[int, str]:
        response = orders.client.post("/v1/orders", json=LIMIT_BUY, headers=headers)
        return response.status_code, response.json()["id"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(create, range(6)))
    assert {code for code, _ in results} == {201}, results
    assert len({order_id for _, order_id in results}) == 1
    listed = orders.client.get("/v1/orders", headers=caller_headers("tom", "trader")).json()
    assert listed["total"] == 1
