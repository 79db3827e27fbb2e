"""Lost races answer 409 problem details, never 500: real concurrent requests on a file SQLite.

A barrier in `before_flush` holds every request until all have passed their own
checks (the clash lookup, the version read), so each race is run, not hoped for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from orders_service.catalog import InstrumentCatalog, get_catalog
from payments_service.models import Settlement
from platform_common.testing import caller_headers, migrated_sqlite

from .apps import SERVICES, ServiceSpec
from .test_fuzz_no_5xx import StaticCatalog

ADMIN = caller_headers("ada", "admin", "risk_manager")
TRADER = caller_headers("tom", "trader")


def _spec(name: str) -> ServiceSpec:
    return next(s for s in SERVICES if s.name == name)


@contextmanager
def service(name: str, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    spec = _spec(name)
    url = migrated_sqlite(spec.directory, tmp_path / "template.db", tmp_path / "db.sqlite")
    app = spec.create_app()
    settings = spec.settings_cls(database_url=url)
    app.dependency_overrides[spec.get_settings] = lambda: settings

    def catalog() -> InstrumentCatalog:
        return StaticCatalog()

    app.dependency_overrides[get_catalog] = catalog
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, url


@contextmanager
def flushes_held_until(parties: int) -> Iterator[None]:
    """Every session's first flush waits until `parties` sessions are ready to flush."""
    barrier = threading.Barrier(parties, timeout=10)
    seen: set[int] = set()
    lock = threading.Lock()

    def hold(session: Session, *_: Any) -> None:
        with lock:
            first = id(session) not in seen
            seen.add(id(session))
        if first:
            barrier.wait()

    event.listen(Session, "before_flush", hold)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", hold)


def race(calls: Sequence[Callable[[], httpx2.Response]]) -> list[httpx2.Response]:
    with flushes_held_until(len(calls)), ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.result(timeout=30) for f in futures]


def assert_one_winner(responses: list[httpx2.Response], winner: int) -> None:
    codes = sorted(r.status_code for r in responses)
    assert codes == sorted([winner] + [409] * (len(responses) - 1)), [r.text for r in responses]
    for lost in (r for r in responses if r.status_code == 409):
        assert lost.headers["content-type"] == "application/problem+json"
        assert lost.json()["status"] == 409


def _user(user_id: str, email: str) -> dict[str, Any]:
    return {"id": user_id, "display_name": "Tom", "email": email, "roles": ["trader"]}


def test_users_same_id_and_same_email_races_give_409(tmp_path: Path) -> None:
    with service("users", tmp_path) as (client, _):
        same_id = race(
            [
                lambda: client.post("/v1/users", json=_user("tom", "a@x.org"), headers=ADMIN),
                lambda: client.post("/v1/users", json=_user("tom", "b@x.org"), headers=ADMIN),
            ]
        )
        assert_one_winner(same_id, 201)
        same_email = race(
            [
                lambda: client.post("/v1/users", json=_user("ann", "c@x.org"), headers=ADMIN),
                lambda: client.post("/v1/users", json=_user("bob", "c@x.org"), headers=ADMIN),
            ]
        )
        assert_one_winner(same_email, 201)


INSTRUMENT = {
    "isin": "US0378331005",
    "full_name": "Apple Inc. Common Stock",
    "cfi_code": "ESVUFR",
    "issuer_lei": "HWUPKR0MPOU8FGXBT394",
    "currency": "USD",
    "venue_mic": "XNAS",
    "tick_size": "0.01",
}


def test_products_same_isin_race_gives_409(tmp_path: Path) -> None:
    with service("products", tmp_path) as (client, _):
        post = lambda: client.post("/v1/instruments", json=INSTRUMENT, headers=ADMIN)  # noqa: E731
        assert_one_winner(race([post, post, post]), 201)
        assert client.get("/v1/instruments/US0378331005").status_code == 200


def test_orders_concurrent_amends_give_one_200_and_409s(tmp_path: Path) -> None:
    with service("orders", tmp_path) as (client, _):
        order = {
            "isin": "US0378331005",
            "side": "buy",
            "order_type": "limit",
            "quantity": "10",
            "limit_price": "190.00",
        }
        created = client.post("/v1/orders", json=order, headers=TRADER)
        assert created.status_code == 201, created.text
        url = created.headers["Location"]
        amends = [
            partial(client.patch, url, json={"quantity": str(q)}, headers=TRADER)
            for q in (11, 12, 13)
        ]
        assert_one_winner(race(amends), 200)
        assert client.get(url, headers=TRADER).json()["version"] == 2


def test_payments_settle_and_fail_race_gives_409(tmp_path: Path) -> None:
    with service("payments", tmp_path) as (client, url):
        now = datetime.now(UTC)
        with Session(create_engine(url)) as session:
            session.add(
                Settlement(
                    id="s-1",
                    order_id="o-1",
                    user_id="tom",
                    isin="US0378331005",
                    side="buy",
                    quantity=Decimal(1),
                    price=Decimal(190),
                    currency="USD",
                    amount=Decimal(190),
                    status="PENDING",
                    created_at=now,
                    updated_at=now,
                )
            )
            session.commit()
        responses = race(
            [
                lambda: client.post("/v1/settlements/s-1/settle", headers=ADMIN),
                lambda: client.post(
                    "/v1/settlements/s-1/fail", json={"reason": "no cash"}, headers=ADMIN
                ),
            ]
        )
        assert_one_winner(responses, 200)
