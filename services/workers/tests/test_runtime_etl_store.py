"""An ETL run loads into products-api (the instruments' owner) unless told to use SQLite."""

from __future__ import annotations

from pathlib import Path

from workers_app.etl import SqliteInstrumentStore
from workers_app.products_load import ProductsInstrumentStore
from workers_app.runtime import build_runtime
from workers_app.settings import WorkersSettings


def _settings(tmp_path: Path, **changes: object) -> WorkersSettings:
    return WorkersSettings.model_validate(
        {"messaging_mode": "local-file", "local_bus_path": str(tmp_path / "bus.db"), **changes}
    )


def test_runs_load_into_products_api_in_its_batch_size(tmp_path: Path) -> None:
    settings = _settings(tmp_path, etl_load_batch_size=250, etl_batch_size=5000)
    job = build_runtime(settings).etl_job()
    store = job.store()
    assert isinstance(store, ProductsInstrumentStore)
    store.close()
    assert job.batch_size == 250


def test_sqlite_store_on_request(tmp_path: Path) -> None:
    path = tmp_path / "firds.db"
    settings = _settings(tmp_path, etl_store="sqlite", etl_sqlite_path=str(path))
    job = build_runtime(settings).etl_job()
    assert isinstance(job.store(), SqliteInstrumentStore)
    assert job.batch_size == settings.etl_batch_size
