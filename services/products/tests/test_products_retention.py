"""The retention purge of products-api: delivered outbox rows older than the retention go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from platform_common.testing import caller_headers
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
