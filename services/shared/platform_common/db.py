"""SQLAlchemy engines: SQLite locally, Azure SQL with a Microsoft Entra token in Azure.

No password exists anywhere: the ODBC connection receives an access token for
the managed identity through SQL_COPT_SS_ACCESS_TOKEN
(https://learn.microsoft.com/sql/connect/odbc/using-azure-active-directory#authenticating-with-an-access-token).
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from azure.core.exceptions import AzureError
from fastapi import Request
from sqlalchemy import URL, Engine, create_engine, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from platform_common.settings import ServiceSettings

SQL_COPT_SS_ACCESS_TOKEN = 1256
AZURE_SQL_SCOPE = "https://database.windows.net/.default"


class TokenCredential(Protocol):
    """The slice of azure-identity's credential protocol used here."""

    def get_token(self, *scopes: str) -> Any: ...


def access_token_struct(token: str) -> bytes:
    """Pack a token the way the ODBC driver expects: length-prefixed UTF-16-LE."""
    raw = token.encode("utf-16-le")
    return struct.pack(f"<I{len(raw)}s", len(raw), raw)


def azure_credential(settings: ServiceSettings) -> TokenCredential:
    """DefaultAzureCredential pinned to the user-assigned identity when one is set."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(managed_identity_client_id=settings.azure_client_id)


def azure_sql_url(settings: ServiceSettings) -> URL:
    """mssql+pyodbc URL without credentials; Encrypt is mandatory for Azure SQL."""
    return URL.create(
        "mssql+pyodbc",
        host=settings.azure_sql_server,
        port=1433,
        database=settings.azure_sql_database,
        query={
            "driver": settings.sql_odbc_driver,
            "Encrypt": "yes",
            "TrustServerCertificate": "no",
            "Connection Timeout": "30",
        },
    )


def token_connect_params(credential: TokenCredential) -> dict[str, Any]:
    """pyodbc connect kwargs carrying a current Entra access token."""
    token = credential.get_token(AZURE_SQL_SCOPE).token
    return {"attrs_before": {SQL_COPT_SS_ACCESS_TOKEN: access_token_struct(token)}}


def apply_access_token(
    cargs: list[Any], cparams: dict[str, Any], credential: TokenCredential
) -> None:
    """Swap the Windows-auth default SQLAlchemy adds for a username-less URL for the token.

    https://docs.sqlalchemy.org/en/20/dialects/mssql.html#connecting-to-databases-with-access-tokens
    """
    cargs[0] = str(cargs[0]).replace(";Trusted_Connection=Yes", "")
    cparams.update(token_connect_params(credential))


def attach_token_provider(engine: Engine, credential: TokenCredential) -> None:
    """Give every new pooled connection a fresh token (the credential caches it)."""

    @event.listens_for(engine, "do_connect")
    def _provide_token(
        dialect: Any, conn_rec: Any, cargs: list[Any], cparams: dict[str, Any]
    ) -> None:
        apply_access_token(cargs, cparams, credential)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """WAL and a busy timeout let the threadpool's concurrent writers queue instead of fail."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def build_engine(
    settings: ServiceSettings,
    credential_factory: Callable[[ServiceSettings], TokenCredential] = azure_credential,
) -> Engine:
    """Create the engine for `settings`; pyodbc is only imported on the Azure SQL path."""
    if settings.uses_azure_sql:
        engine = create_engine(
            azure_sql_url(settings),
            pool_pre_ping=True,
            pool_recycle=1800,
            pool_size=5,
            max_overflow=10,
        )
        attach_token_provider(engine, credential_factory(settings))
        return engine
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
