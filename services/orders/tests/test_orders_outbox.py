"""Orders and their events share one transaction; publishing failures never lose events."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, select

from orders_service import api
from orders_service.models import outbox
from platform_common.app import dispatcher_for
from platform_common.messaging import BusMessage, InMemoryBus
from platform_common.testing import caller_headers

from .conftest import OrdersHarness
from .test_orders_api import LIMIT_BUY, table_counts

TRADER = caller_headers("tom", "trader")


def test_outbox_failure_rolls_back_the_order(
    orders: OrdersHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_enqueue(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("outbox insert failed")

    monkeypatch.setattr(api, "enqueue", broken_enqueue)
    with pytest.raises(RuntimeError, match="outbox insert failed"):
        orders.client.post("/v1/orders", json=LIMIT_BUY, headers=TRADER)
    assert table_counts(orders) == (0, 0)


class UnreachableBus(InMemoryBus):
    def send(self, destination: str, message: BusMessage) -> None:
        raise ConnectionError("Service Bus unreachable")


def test_unpublished_events_are_kept_and_retried(orders: OrdersHarness) -> None:
    orders.app.state.buses.set(UnreachableBus())
    response = orders.client.post("/v1/orders", json=LIMIT_BUY, headers=TRADER)
    assert response.status_code == 201  # the order stands even though publishing failed
    engine = create_engine(orders.settings.database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.published_at, outbox.c.attempts)).all()
    # orders-queue and events-topic, then the audit record (audit-queue)
    assert [(r.published_at, r.attempts) for r in rows] == [(None, 1), (None, 1), (None, 1)]

    healthy = InMemoryBus()
    orders.app.state.buses.set(healthy)
    assert dispatcher_for(orders.app, orders.settings).dispatch_pending() == 3
    with engine.connect() as conn:
        assert all(r.published_at is not None for r in conn.execute(select(outbox.c.published_at)))
    engine.dispose()
    assert [m.subject for m in healthy.messages["orders-queue"]] == ["OrderCreated"]
    assert [m.subject for m in healthy.messages["audit-queue"]] == ["AuditRecord"]
