"""Shared body of every service's alembic env.py (SQLite and Azure SQL)."""

from __future__ import annotations

from collections.abc import Callable

from alembic import context
from sqlalchemy import MetaData

from platform_common.db import build_engine
from platform_common.settings import ServiceSettings


def run_alembic(metadata: MetaData, get_settings: Callable[[], ServiceSettings]) -> None:
    """Use `sqlalchemy.url` when given (tests, offline SQL), else the service's settings.

    Offline mode with `-x dialect=mssql` renders the Azure SQL script without a
    connection, which is how a DBA or pipeline can review it.
    """
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    dialect = context.get_x_argument(as_dictionary=True).get("dialect")
    if context.is_offline_mode():
        if url:
            context.configure(url=url, target_metadata=metadata, literal_binds=True)
        else:
            context.configure(
                dialect_name=dialect or "mssql", target_metadata=metadata, literal_binds=True
            )
        with context.begin_transaction():
            context.run_migrations()
        return
    settings = get_settings()
    if url:
        settings = settings.model_copy(update={"database_url": url, "azure_sql_server": None})
    engine = build_engine(settings)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
