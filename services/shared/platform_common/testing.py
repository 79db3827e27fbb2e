"""Helpers the service test suites share (kept in the library so they are typed and reused)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from alembic.config import Config


def alembic_config(service_dir: Path, url: str | None) -> Config:
    """Alembic config for a service directory, pointing at `url` when given."""
    cfg = Config(str(service_dir / "alembic.ini"))
    cfg.set_main_option("script_location", str(service_dir / "migrations"))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def migrated_sqlite(service_dir: Path, template: Path, target: Path) -> str:
    """Copy a once-migrated template DB to `target` (fast per-test isolation)."""
    if not template.exists():
        command.upgrade(alembic_config(service_dir, f"sqlite:///{template}"), "head")
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def caller_headers(caller_id: str, *roles: str) -> dict[str, str]:
    """Headers API Management forwards for an authenticated caller."""
    headers = {"X-Caller-Id": caller_id}
    if roles:
        headers["X-Caller-Roles"] = ",".join(roles)
    return headers


def forwarding_transport(client: Any) -> httpx.MockTransport:
    """An httpx transport handing each request to an in-process app's TestClient.

    Lets a service's real HTTP client talk to a real local copy of the service it calls.
    """

    def handle(request: httpx.Request) -> httpx.Response:
        answer = client.request(
            request.method,
            request.url.raw_path.decode("ascii"),
            headers=list(request.headers.raw),
            content=request.content,
        )
        headers = [
            (key, value)
            for key, value in answer.headers.items()
            if key.lower() not in {"content-length", "content-encoding"}
        ]
        return httpx.Response(answer.status_code, headers=headers, content=answer.content)

    return httpx.MockTransport(handle)


def rows_holding(url: str, *needles: str) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text value in the database containing a needle.

    Every table, every column: what an erasure test proves is that nothing anywhere keeps
    the value, so it does not trust a list of the columns that should.
    """
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    found: list[tuple[str, str, str]] = []
    try:
        with engine.connect() as conn:
            metadata = sa.MetaData()
            metadata.reflect(conn)
            for table in metadata.sorted_tables:
                for row in conn.execute(sa.select(table)).mappings():
                    for column, value in row.items():
                        text = value.decode(errors="replace") if isinstance(value, bytes) else value
                        if isinstance(text, str) and any(n in text for n in needles):
                            found.append((table.name, str(column), text[:200]))
    finally:
        engine.dispose()
    return found


def database_rows(url: str, *, audit: bool = True) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted: equal before and after means nothing changed.

    `audit=False` leaves out the outbox's audit records: a request that changes nothing is
    still audited, and its record is not a change.
    """
    import sqlalchemy as sa

    from platform_common.audit import AUDIT_SUBJECT

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            metadata = sa.MetaData()
            metadata.reflect(conn)
            rows: dict[str, list[tuple[object, ...]]] = {}
            for table in metadata.sorted_tables:
                select = sa.select(table)
                if not audit and table.name == "outbox":
                    select = select.where(table.c.subject != AUDIT_SUBJECT)
                rows[table.name] = sorted((tuple(r) for r in conn.execute(select)), key=repr)
            return rows
    finally:
        engine.dispose()
