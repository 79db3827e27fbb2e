"""SQLAlchemy engines: SQLite locally, Azure SQL with the workload's managed identity in Azure.

Azure SQL goes through SQLAlchemy 2.1's `mssql+mssqlpython` dialect and Microsoft's
`mssql-python` driver, which bundles its ODBC layer (no Microsoft apt repository, no
EULA step in the images). No password exists anywhere: the driver's
`Authentication=ActiveDirectoryMSI` with `UID=<client id>` gets the token for the
user-assigned identity itself (ManagedIdentityCredential(client_id=...)), for every new
physical connection.
https://learn.microsoft.com/sql/connect/python/mssql-python/sqlalchemy-integration
https://learn.microsoft.com/sql/connect/python/mssql-python/entra-authentication
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from azure.core.exceptions import AzureError
from fastapi import Request
from sqlalchemy import URL, Engine, create_engine, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from platform_common.settings import ServiceSettings

AZURE_SQL_DRIVER = "mssql+mssqlpython"
AZURE_SQL_PORT = 1433
# mssql-python's connect(timeout=...) is the login timeout (SQL_ATTR_LOGIN_TIMEOUT); its
# connection-string allow-list has no "Connection Timeout" keyword.
AZURE_SQL_LOGIN_TIMEOUT_SECONDS = 30


def azure_sql_url(settings: ServiceSettings) -> URL:
    """mssql+mssqlpython URL for the user-assigned identity; the client id is the UID.

    The dialect turns it into `Server=<fqdn>,1433;Database=<db>;UID=<client id>;
    Authentication=ActiveDirectoryMSI;Encrypt=yes;TrustServerCertificate=no`. Without a
    client id (system-assigned identity) UID is left out. Encrypt is mandatory for Azure SQL.
    """
    if not settings.azure_sql_server or not settings.azure_sql_database:
        raise ValueError("Azure SQL needs both AZURE_SQL_SERVER and AZURE_SQL_DATABASE")
    return URL.create(
        AZURE_SQL_DRIVER,
        username=settings.azure_client_id or None,
        host=settings.azure_sql_server,
        port=AZURE_SQL_PORT,
        database=settings.azure_sql_database,
        query={
            "Authentication": "ActiveDirectoryMSI",
            "Encrypt": "yes",
            "TrustServerCertificate": "no",
        },
    )


def azure_sql_connect_args() -> dict[str, Any]:
    """Keyword arguments SQLAlchemy passes to `mssql_python.connect`."""
    return {"timeout": AZURE_SQL_LOGIN_TIMEOUT_SECONDS}


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """WAL and a busy timeout let the threadpool's concurrent writers queue instead of fail."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def build_engine(settings: ServiceSettings) -> Engine:
    """Create the engine for `settings`; mssql_python is only imported on the Azure SQL path."""
    if settings.uses_azure_sql:
        # Recycling well inside a token's lifetime means a new login (and token) every 30 min.
        return create_engine(
            azure_sql_url(settings),
            connect_args=azure_sql_connect_args(),
            pool_pre_ping=True,
            pool_recycle=1800,
            pool_size=5,
            max_overflow=10,
        )
    url = settings.database_url
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class EngineRegistry:
    """One engine per database URL, owned by the app (not a module global)."""

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}
        self._factories: dict[str, sessionmaker[Session]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(settings: ServiceSettings) -> str:
        if settings.uses_azure_sql:
            return f"mssql://{settings.azure_sql_server}/{settings.azure_sql_database}"
        return settings.database_url

    def engine(self, settings: ServiceSettings) -> Engine:
        key = self._key(settings)
        with self._lock:
            if key not in self._engines:
                engine = build_engine(settings)
                self._engines[key] = engine
                self._factories[key] = sessionmaker(engine, expire_on_commit=False)
            return self._engines[key]

    def session_factory(self, settings: ServiceSettings) -> sessionmaker[Session]:
        self.engine(settings)
        return self._factories[self._key(settings)]

    def dispose(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
            self._factories.clear()


def registry(request: Request) -> EngineRegistry:
    """The app's engine registry, created by `create_service_app`."""
    reg = request.app.state.engines
    assert isinstance(reg, EngineRegistry)
    return reg


def open_session(request: Request, settings: ServiceSettings) -> Iterator[Session]:
    """Yield a session; anything not committed by the handler is rolled back."""
    session = registry(request).session_factory(settings)()
    try:
        yield session
    finally:
        session.close()


def database_is_ready(engine: Engine) -> bool:
    """SELECT 1 — used by the readiness probe."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except (SQLAlchemyError, AzureError, OSError):
        return False
