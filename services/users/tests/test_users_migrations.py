"""The e-mail key migration: backfills existing accounts and stops on case-only clashes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from platform_common.testing import alembic_config

from .conftest import SERVICE_DIR


def _at_0001_with(tmp_path: Path, emails: dict[str, str]) -> tuple[str, sa.Engine]:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    command.upgrade(alembic_config(SERVICE_DIR, url), "0001")
    engine = sa.create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for user_id, email in emails.items():
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, display_name, email, roles, active, created_at, "
                    "updated_at) VALUES (:id, :id, :email, 'viewer', 1, :now, :now)"
                ),
                {"id": user_id, "email": email, "now": now},
            )
    return url, engine


def test_upgrade_backfills_lower_case_keys(tmp_path: Path) -> None:
    url, engine = _at_0001_with(tmp_path, {"tom": "Tom@Example.com", "zoe": "ZOË@example.com"})
    command.upgrade(alembic_config(SERVICE_DIR, url), "head")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, email_key FROM users")).all()
        keys: dict[str, str] = {row[0]: row[1] for row in rows}
        assert keys == {"tom": "tom@example.com", "zoe": "zoë@example.com"}
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, display_name, email, email_key, roles, active, "
                    "created_at, updated_at) VALUES ('t2', 't', 'TOM@example.com', "
                    "'tom@example.com', 'viewer', 1, '2026-01-01', '2026-01-01')"
                )
            )
    engine.dispose()


def test_upgrade_names_accounts_that_clash_ignoring_case(tmp_path: Path) -> None:
    url, engine = _at_0001_with(tmp_path, {"tom": "tom@example.com", "tom2": "TOM@example.com"})
    with pytest.raises(RuntimeError, match=r"tom@example.com: tom, tom2"):
        command.upgrade(alembic_config(SERVICE_DIR, url), "head")
    engine.dispose()


def test_password_hash_column_comes_and_goes(tmp_path: Path) -> None:
    """0004_h_auth: existing accounts keep working, without a password until one is set."""
    url, engine = _at_0001_with(tmp_path, {"tom": "tom@example.com"})
    config = alembic_config(SERVICE_DIR, url)
    command.upgrade(config, "0004_h_auth")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT password_hash FROM users")).scalar_one() is None
    command.downgrade(config, "0003_h_workers")
    assert "password_hash" not in {c["name"] for c in sa.inspect(engine).get_columns("users")}
    engine.dispose()
