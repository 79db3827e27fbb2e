"""Erasure and retention in orders-api: orders kept under a pseudonym, personal rows gone."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from platform_common.erasure import PSEUDONYM_PATTERN
from platform_common.testing import caller_headers, database_rows, rows_holding

from .conftest import APPLE, OrdersHarness

TOM, TINA = "tom-e5a1", "tina-e5a1"
WORKERS = caller_headers("svc-workers", "admin")
ADMIN = caller_headers("ada", "admin")
PSEUDONYM = "erased-" + "ab" * 16


def _order(orders: OrdersHarness, user: str) -> str:
    created = orders.client.post(
        "/v1/orders",
        json={
            "isin": APPLE.isin,
            "side": "buy",
            "order_type": "limit",
            "quantity": "10",
            "limit_price": "189.50",
        },
        headers={**caller_headers(user, "trader"), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.text
    order_id: str = created.json()["id"]
    return order_id


def _filled(orders: OrdersHarness, user: str) -> str:
    order_id = _order(orders, user)
    assert orders.client.post(f"/v1/orders/{order_id}/accept", headers=ADMIN).is_success
    fill = {"venue_fill_id": "v1", "quantity": "10", "price": "189.40"}
    filled = orders.client.post(f"/v1/orders/{order_id}/fills", json=fill, headers=ADMIN)
    assert filled.json()["status"] == "FILLED"
    return order_id


def _erase(orders: OrdersHarness, user: str = TOM, pseudonym: str = PSEUDONYM) -> dict[str, object]:
    answer = orders.client.post(
        "/internal/v1/erasures", json={"user_id": user, "pseudonym": pseudonym}, headers=WORKERS
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def _sql(orders: OrdersHarness, statement: str, **params: object) -> None:
    engine = sa.create_engine(orders.settings.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)
    engine.dispose()


def test_an_erasure_keeps_the_orders_under_the_pseudonym(orders: OrdersHarness) -> None:
    filled, open_order = _filled(orders, TOM), _order(orders, TOM)
    theirs = _order(orders, TINA)
    # One row still unpublished: it must be rewritten, not lost.
    _sql(orders, "UPDATE outbox SET published_at = NULL WHERE id = (SELECT max(id) FROM outbox)")

    body = _erase(orders)

    assert re.fullmatch(PSEUDONYM_PATTERN, str(body["pseudonym"]))
    counts = body["counts"]
    assert isinstance(counts, dict)
    assert counts["orders"] == 2
    assert counts["fills"] == 1
    assert counts["idempotency_records"] == 2
    assert counts["trader_locks"] == 1
    assert rows_holding(orders.settings.database_url, TOM) == []
    for order_id in (filled, open_order):
        kept = orders.client.get(f"/v1/orders/{order_id}", headers=ADMIN).json()
        assert kept["user_id"] == PSEUDONYM
    assert orders.client.get(f"/v1/orders/{filled}/fills", headers=ADMIN).json()["items"]
    assert orders.client.get(f"/v1/orders/{theirs}", headers=ADMIN).json()["user_id"] == TINA
    assert rows_holding(orders.settings.database_url, TINA)  # others' data untouched
    # Exactly one audit record of the erasure, naming the pseudonym only.
    engine = sa.create_engine(orders.settings.database_url)
    with engine.connect() as conn:
        bodies = [json.loads(b) for b in conn.execute(sa.text("SELECT body FROM outbox")).scalars()]
    engine.dispose()
    audits = [b for b in bodies if b.get("action") == "erasures.apply"]
    assert len(audits) == 1
    assert audits[0]["resource"] == {"type": "user", "id": PSEUDONYM}


def test_a_repeat_answers_the_same_and_changes_nothing(orders: OrdersHarness) -> None:
    _filled(orders, TOM)
    first = _erase(orders)
    before = database_rows(orders.settings.database_url, audit=False)

    again = _erase(orders)

    assert again == first
    assert database_rows(orders.settings.database_url, audit=False) == before


def test_internal_routes_refuse_other_callers_and_bad_bodies(orders: OrdersHarness) -> None:
    good = {"user_id": TOM, "pseudonym": PSEUDONYM}
    for headers in (ADMIN, caller_headers("svc-workers", "trader"), caller_headers(TOM, "trader")):
        for url, body in (("/internal/v1/erasures", good), ("/internal/v1/retention/purge", None)):
            answer = orders.client.post(url, json=body, headers=headers)
            assert answer.status_code == 403, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
    assert orders.client.post("/internal/v1/erasures", json=good).status_code == 401
    for bad in (
        {"user_id": TOM, "pseudonym": "erased-ABC"},
        {"user_id": TOM, "pseudonym": "tom"},
        {"user_id": "", "pseudonym": PSEUDONYM},
        {"pseudonym": PSEUDONYM},
        {**good, "extra": 1},
    ):
        answer = orders.client.post("/internal/v1/erasures", json=bad, headers=WORKERS)
        assert answer.status_code == 422, (bad, answer.text)
    _erase(orders)
    other = {"user_id": TINA, "pseudonym": PSEUDONYM}
    clash = orders.client.post("/internal/v1/erasures", json=other, headers=WORKERS)
    assert clash.status_code == 409
    assert "different counterpart" in clash.json()["detail"]
    assert "/internal/v1/erasures" not in orders.client.get("/openapi.json").json()["paths"]


def test_the_purge_pseudonymises_finished_orders_past_retention(orders: OrdersHarness) -> None:
    old_a, old_b = _filled(orders, TOM), _filled(orders, TOM)
    still_open = _order(orders, TOM)
    recent = _filled(orders, TOM)
    theirs = _filled(orders, TINA)
    now = datetime.now(UTC) + timedelta(days=1826)  # every order is past 1825 days ...
    _sql(  # ... except one, changed (in this clock) yesterday
        orders,
        "UPDATE orders SET updated_at = :at WHERE id = :id",
        at=now - timedelta(days=1),
        id=recent,
    )

    purged = orders.client.post(
        "/internal/v1/retention/purge", json={"now": now.isoformat()}, headers=WORKERS
    )

    assert purged.status_code == 200, purged.text
    body = purged.json()
    assert body["retention_days"] == 1825
    assert body["counts"]["orders"] == 3  # old_a, old_b, theirs
    owner = {
        order_id: orders.client.get(f"/v1/orders/{order_id}", headers=ADMIN).json()["user_id"]
        for order_id in (old_a, old_b, still_open, recent, theirs)
    }
    assert owner[still_open] == owner[recent] == TOM
    assert re.fullmatch(PSEUDONYM_PATTERN, owner[old_a])
    assert owner[old_a] == owner[old_b]  # one user's old records stay linkable
    assert owner[theirs] not in (owner[old_a], TINA)
    assert body["counts"]["idempotency_records"] == 5
    assert body["counts"]["trader_locks"] == 1  # Tina's: no order under her id is left
    # The purge's own audit record stays (unpublished), with those of the admin's reads
    # above; the delivered rows are gone.
    engine = sa.create_engine(orders.settings.database_url)
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT body FROM outbox")).scalars().all()
    engine.dispose()
    assert [json.loads(b)["action"] for b in left] == ["retention.purge"] + ["orders.read"] * 5
    # The same clock again finds nothing more to do.
    again = orders.client.post(
        "/internal/v1/retention/purge", json={"now": now.isoformat()}, headers=WORKERS
    ).json()
    assert again["counts"] == {
        "orders": 0,
        "idempotency_records": 0,
        "trader_locks": 0,
        "outbox": 0,
    }


def test_concurrent_deliveries_of_one_erasure_apply_it_once(orders: OrdersHarness) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _filled(orders, TOM)
    body = {"user_id": TOM, "pseudonym": PSEUDONYM}
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(
                lambda _i: orders.client.post("/internal/v1/erasures", json=body, headers=WORKERS),
                range(6),
            )
        )
    assert {a.status_code for a in answers} == {200}
    assert len({json.dumps(a.json(), sort_keys=True) for a in answers}) == 1
    assert answers[0].json()["counts"]["orders"] == 1
