"""The create path stays cheap: its dependencies run on the event loop (a sync dependency is
a worker-thread hop per request), and the created order is what the ORM would have written."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.orm import sessionmaker

from orders_service import api
from orders_service.models import Order
from platform_common.db import build_engine
from platform_common.testing import caller_headers

from .conftest import OrdersHarness
from .test_orders_concurrency import LIMIT_BUY


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _walk(sub)


def _runs_on_the_loop(call: object) -> bool:
    """As FastAPI decides: a function by itself, a callable instance by its `__call__`."""
    target = call if inspect.isroutine(call) else getattr(call, "__call__", call)  # noqa: B004
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def test_create_order_dependencies_need_no_thread() -> None:
    route = next(
        r for r in api.router.routes if isinstance(r, APIRoute) and r.endpoint is api.create_order
    )
    sync = [
        getattr(d.call, "__qualname__", type(d.call).__qualname__)
        for d in _walk(route.dependant)
        if d.call is not None and not _runs_on_the_loop(d.call)
    ]
    assert sync == []


def test_created_row_round_trips_through_the_orm(orders: OrdersHarness) -> None:
    response = orders.client.post(
        "/v1/orders", json=LIMIT_BUY, headers=caller_headers("tom", "trader")
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["Location"] == f"/v1/orders/{body['id']}"
    factory = sessionmaker(build_engine(orders.settings))
    with factory() as session:
        order = session.get(Order, body["id"])
        assert order is not None
        assert (order.version, order.status, order.user_id) == (1, "NEW", "tom")
        order.status = "ACCEPTED"  # the mapper's version counter continues from the row's
        session.commit()
        assert order.version == 2
    queues = orders.bus.messages
    events = [m for queue, sent in queues.items() if queue != "audit-queue" for m in sent]
    assert {m.subject for m in events} == {"OrderCreated"}
    assert len(events) == 2  # orders-queue and events-topic
    assert [m.subject for m in orders.bus.messages["audit-queue"]] == ["AuditRecord"]
