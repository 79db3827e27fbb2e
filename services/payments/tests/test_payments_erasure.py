"""Erasure and retention in payments-api: settlements kept, their owner pseudonymised."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from platform_common.erasure import PSEUDONYM_PATTERN
from platform_common.testing import caller_headers, database_rows, rows_holding

from .conftest import PaymentsHarness, instruction

TOM, TINA = "tom-p9c2", "tina-p9c2"
WORKERS = caller_headers("svc-workers", "admin")
RISK = caller_headers("rita", "risk_manager")
PSEUDONYM = "erased-" + "cd" * 16


def _settlement(h: PaymentsHarness, trader: str, *, settle: bool = True) -> str:
    order = h.filled_order([("10", "189.40")], trader=trader)
    created = h.client.post("/v1/settlements", json=instruction(order), headers=RISK)
    assert created.status_code == 201, created.text
    settlement_id: str = created.json()["id"]
    if settle:
        assert h.client.post(f"/v1/settlements/{settlement_id}/settle", headers=RISK).is_success
    return settlement_id


def _owner(h: PaymentsHarness, settlement_id: str) -> str:
    owner: str = h.client.get(f"/v1/settlements/{settlement_id}", headers=RISK).json()["user_id"]
    return owner


def test_an_erasure_keeps_settlements_under_the_pseudonym_once(payments: PaymentsHarness) -> None:
    mine, pending = _settlement(payments, TOM), _settlement(payments, TOM, settle=False)
    theirs = _settlement(payments, TINA)
    body = {"user_id": TOM, "pseudonym": PSEUDONYM}

    first = payments.client.post("/internal/v1/erasures", json=body, headers=WORKERS)

    assert first.status_code == 200, first.text
    assert first.json()["counts"]["settlements"] == 2
    assert _owner(payments, mine) == _owner(payments, pending) == PSEUDONYM
    assert _owner(payments, theirs) == TINA
    assert rows_holding(payments.settings.database_url, TOM) == []
    before = database_rows(payments.settings.database_url, audit=False)
    again = payments.client.post("/internal/v1/erasures", json=body, headers=WORKERS)
    assert again.json() == first.json()
    assert database_rows(payments.settings.database_url, audit=False) == before


def test_internal_routes_refuse_other_callers_and_bad_pseudonyms(payments: PaymentsHarness) -> None:
    body = {"user_id": TOM, "pseudonym": PSEUDONYM}
    for headers in (RISK, caller_headers("ada", "admin"), caller_headers("svc-workers", "viewer")):
        assert (
            payments.client.post("/internal/v1/erasures", json=body, headers=headers).status_code
            == 403
        )
        assert (
            payments.client.post("/internal/v1/retention/purge", headers=headers).status_code == 403
        )
    bad = payments.client.post(
        "/internal/v1/erasures", json={"user_id": TOM, "pseudonym": "erased-1"}, headers=WORKERS
    )
    assert bad.status_code == 422
    assert "pseudonym" in bad.text


def test_the_purge_pseudonymises_finished_settlements_past_retention(
    payments: PaymentsHarness,
) -> None:
    old_a, old_b = _settlement(payments, TOM), _settlement(payments, TOM)
    pending = _settlement(payments, TOM, settle=False)
    recent = _settlement(payments, TOM)
    now = datetime.now(UTC) + timedelta(days=1826)
    engine = sa.create_engine(payments.settings.database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE settlements SET updated_at = :at WHERE id = :id"),
            {"at": now - timedelta(days=3), "id": recent},
        )
    engine.dispose()

    purged = payments.client.post(
        "/internal/v1/retention/purge", json={"now": now.isoformat()}, headers=WORKERS
    )

    assert purged.status_code == 200, purged.text
    assert purged.json()["counts"]["settlements"] == 2
    assert re.fullmatch(PSEUDONYM_PATTERN, _owner(payments, old_a))
    assert _owner(payments, old_a) == _owner(payments, old_b)
    assert _owner(payments, pending) == _owner(payments, recent) == TOM
    assert purged.json()["counts"]["outbox"] > 0
