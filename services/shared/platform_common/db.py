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

import re
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
from starlette.concurrency import run_in_threadpool

from platform_common.audit import track_transactions
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


# Statements that take SQLite's write lock (pysqlite opens the transaction before DML).
_SQLITE_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
_HOLDS_WRITE_TURN = "platform_common.sqlite_write_turn"


def _pool_info(connection: Any) -> dict[Any, Any]:
    """The pool entry's info dict, from a checked-out connection or the pool's reset proxy."""
    record = getattr(connection, "_connection_record", None)
    info: dict[Any, Any] = record.info if record is not None else connection.info
    return info


class SQLiteWriteQueue:
    """Concurrent writers of one SQLite engine wait on a Python lock, not in SQLite's busy loop.

    SQLite has one write lock per database. A writer that finds it taken sleeps in the busy
    handler (1, 2, 5, ... 100 ms steps) and retries, so under load waiters oversleep and the
    tail latency of every write endpoint grows to seconds. Here a connection takes the
    engine's turn at its first write statement, when SQLite would take its lock, and gives it
    back at commit or rollback (or check-in), so the next writer starts the moment the lock
    is free. Semantics do not change: SQLite still holds its own lock over the same span,
    and other processes still meet the busy timeout. A turn not granted within `timeout`
    falls through to SQLite's own waiting instead of deadlocking.
    """

    def __init__(self, timeout: float) -> None:
        self._lock = threading.Lock()
        self._timeout = timeout

    def attach(self, engine: Engine) -> None:
        """Take the turn before the first write; give it back once SQLite's own lock is gone.

        SQLAlchemy's commit/rollback events fire before the DBAPI call, while SQLite still
        holds its lock, so the engine's dialect is wrapped instead (also used by the pool's
        reset-on-return); check-in is the last resort.
        """
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine.pool, "checkin", self._checkin)
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_connection: Any) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self._release(_pool_info(dbapi_connection))

        def do_rollback(dbapi_connection: Any) -> None:
            try:
                rollback(dbapi_connection)
            finally:
                self._release(_pool_info(dbapi_connection))

        dialect.do_commit = do_commit  # type: ignore[method-assign]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    def _before_execute(
        self, conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        info = conn.info
        if info.get(_HOLDS_WRITE_TURN) or not _SQLITE_WRITE.match(statement):
            return
        if self._lock.acquire(timeout=self._timeout):
            info[_HOLDS_WRITE_TURN] = True

    def _release(self, info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS_WRITE_TURN, False):
            self._lock.release()

    def _checkin(self, _dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        self._release(record.info)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """WAL and a busy timeout let the threadpool's concurrent writers queue instead of fail.

    synchronous=NORMAL is SQLite's advice for WAL: commits stop waiting for an fsync each
    (checkpoints still sync), the database cannot corrupt, and only a power loss may undo
    the last commits: https://www.sqlite.org/pragma.html#pragma_synchronous. SQLite is the
    local stand-in; Azure SQL serves every deployed environment.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def build_engine(settings: ServiceSettings) -> Engine:
    """Create the engine for `settings`; mssql_python is only imported on the Azure SQL path.

    `hide_parameters`: a statement's parameters are row values (e-mails, names, user ids);
    SQLAlchemy then leaves them out of its exception texts and logs, which our problem
    handlers log. https://docs.sqlalchemy.org/en/20/core/engines.html#sqlalchemy.create_engine.params.hide_parameters
    """
    if settings.uses_azure_sql:
        # Recycling well inside a token's lifetime means a new login (and token) every 30 min.
        return create_engine(
            azure_sql_url(settings),
            connect_args=azure_sql_connect_args(),
            hide_parameters=True,
            pool_pre_ping=True,
            pool_recycle=1800,
            pool_size=5,
            max_overflow=10,
        )
    url = settings.database_url
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        SQLiteWriteQueue(timeout=30).attach(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


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
                # Audit records count once committed (platform_common.audit).
                track_transactions(engine)
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


def new_session(request: Request, settings: ServiceSettings) -> Session:
    """A session for an async-generator dependency: creating one does no I/O."""
    return registry(request).session_factory(settings)()


async def release_session(session: Session) -> None:
    """Close a request's session; only a transaction left open (a rollback) needs a thread.

    A session committed by its handler holds no connection any more, so closing it on the
    event loop saves the thread hop a sync dependency's exit would cost on every request.
    """
    if session.in_transaction():
        await run_in_threadpool(session.close)
    else:
        session.close()


def database_is_ready(engine: Engine) -> bool:
    """SELECT 1 — used by the readiness probe."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except (SQLAlchemyError, AzureError, OSError):
        return False
