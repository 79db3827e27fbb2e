"""Erasure and retention in products-api: its outbox is the only place that names people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from platform_common.erasure import new_pseudonym
from platform_common.testing import caller_headers, database_rows, rows_holding
from products_service.settings import ProductsSettings

WORKERS = caller_headers("svc-workers", "admin")


def _row(conn: sa.Connection, message_id: str, published_at: datetime | None) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO outbox (message_id, destination, subject, body, created_at, "
            "published_at, attempts) VALUES (:m, 'audit-queue', 'AuditRecord', '{}', :at, :p, 1)"
        ),
        {"m": message_id, "at": published_at or datetime.now(UTC), "p": published_at},
    )


def test_the_purge_deletes_delivered_rows_past_retention_only(
    products_client: TestClient, products_settings: ProductsSettings
) -> None:
    now = datetime.now(UTC)
    engine = sa.create_engine(products_settings.database_url)
    with engine.begin() as conn:
        _row(conn, "old", now - timedelta(days=91))
        _row(conn, "recent", now - timedelta(days=89))
        _row(conn, "unsent", None)

    refused = products_client.post(
        "/internal/v1/retention/purge", headers=caller_headers("ada", "admin")
    )
    purged = products_client.post("/internal/v1/retention/purge", headers=WORKERS)

    assert refused.status_code == 403
    assert purged.status_code == 200, purged.text
    assert purged.json()["counts"] == {"outbox": 1}
    assert purged.json()["retention_days"] == 90
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT message_id, subject FROM outbox ORDER BY id")).all()
    engine.dispose()
    assert [m for m, _ in left][:2] == ["recent", "unsent"]
    # The refused purge's record and the purge's own.
    assert [s for _, s in left][2:] == ["AuditRecord", "AuditRecord"]


def test_an_erasure_scrubs_the_outbox_once_and_a_repeat_changes_nothing(
    products_client: TestClient, products_settings: ProductsSettings
) -> None:
    url = products_settings.database_url
    # An admin edits reference data: the audit record names them as its actor.
    instrument = {
        "isin": "US0378331005",
        "full_name": "Apple Inc.",
        "cfi_code": "ESVUFR",
        "issuer_lei": "HWUPKR0MPOU8FGXBT394",
        "currency": "USD",
        "venue_mic": "XNAS",
        "tick_size": "0.01",
    }
    admin = caller_headers("alex-admin", "admin")
    created = products_client.post("/v1/instruments", json=instrument, headers=admin)
    assert created.status_code == 201, created.text
    assert rows_holding(url, "alex-admin")
    body = {"user_id": "alex-admin", "pseudonym": new_pseudonym()}
    for headers in (admin, caller_headers("svc-workers", "trader")):
        refused = products_client.post("/internal/v1/erasures", json=body, headers=headers)
        assert refused.status_code == 403, refused.text
    bad = {**body, "pseudonym": "alex"}
    assert (
        products_client.post("/internal/v1/erasures", json=bad, headers=WORKERS).status_code == 422
    )

    first = products_client.post("/internal/v1/erasures", json=body, headers=WORKERS)

    assert first.status_code == 200, first.text
    assert sum(first.json()["counts"].values()) >= 1
    # The refused attempts above named the admin too; every record now names the pseudonym.
    assert rows_holding(url, "alex-admin") == []
    assert products_client.get("/v1/instruments/US0378331005").status_code == 200
    before = database_rows(url, audit=False)
    again = products_client.post("/internal/v1/erasures", json=body, headers=WORKERS)
    assert again.json() == first.json()
    assert database_rows(url, audit=False) == before
    assert "/internal/v1/erasures" not in products_client.get("/openapi.json").json()["paths"]
