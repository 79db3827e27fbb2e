"""Shared body of every service's alembic env.py (SQLite and Azure SQL)."""

from __future__ import annotations

from collections.abc import Callable

from alembic import context
from sqlalchemy import MetaData

from platform_common.db import azure_sql_url, build_engine
from platform_common.settings import ServiceSettings


def run_alembic(metadata: MetaData, get_settings: Callable[[], ServiceSettings]) -> None:
    """Use `sqlalchemy.url` when given (tests, offline SQL), else the service's settings.

    Offline mode (`upgrade head --sql`) renders the script without a connection, which is
    how a DBA or pipeline reviews it: for the service's Azure SQL URL (mssql+mssqlpython)
    when AZURE_SQL_SERVER is set, else for `-x dialect=<name>` (default mssql).
    """
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    dialect = context.get_x_argument(as_dictionary=True).get("dialect")
    if context.is_offline_mode():
        if not url and not dialect:
            settings = get_settings()
            if settings.uses_azure_sql:
                url = azure_sql_url(settings).render_as_string(hide_password=False)
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
