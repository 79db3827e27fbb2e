"""Products test fixtures: a migrated temp SQLite DB and settings injected via overrides."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from platform_common.testing import migrated_sqlite
from products_service.main import create_app
from products_service.settings import ProductsSettings, get_settings

SERVICE_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def products_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("products-template") / "template.db"


@pytest.fixture
def products_settings(tmp_path: Path, products_template: Path) -> ProductsSettings:
    url = migrated_sqlite(SERVICE_DIR, products_template, tmp_path / "products.db")
    return ProductsSettings(database_url=url, products_cache_max_age_seconds=120)


@pytest.fixture
def products_client(products_settings: ProductsSettings) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: products_settings
    with TestClient(app) as client:
        yield client
