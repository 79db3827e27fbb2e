"""Users test fixtures: temp SQLite and settings override."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from platform_common.testing import migrated_sqlite
from users_service.main import create_app
from users_service.settings import UsersSettings, get_settings

SERVICE_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def users_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("users-template") / "template.db"


@pytest.fixture
def users_settings(tmp_path: Path, users_template: Path) -> UsersSettings:
    return UsersSettings(
        database_url=migrated_sqlite(SERVICE_DIR, users_template, tmp_path / "users.db")
    )


@pytest.fixture
def users_client(users_settings: UsersSettings) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: users_settings
    with TestClient(app) as client:
        yield client
