"""Azure SQL through mssql-python: the URL and connect arguments, the driver's own view of
them, images without Microsoft's ODBC repository, and every migration rendered as T-SQL.

https://learn.microsoft.com/sql/connect/python/mssql-python/sqlalchemy-integration
https://learn.microsoft.com/sql/connect/python/mssql-python/entra-authentication
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from types import SimpleNamespace
from typing import Any, ClassVar

import azure.identity
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from platform_common.db import azure_sql_connect_args, azure_sql_url, build_engine
from platform_common.settings import ServiceSettings
from platform_common.testing import alembic_config

from .apps import SERVICES, SERVICES_DIR, ServiceSpec

SERVER = "sql-plat-prod-wus2.database.windows.net"
AZURE_ENV = {
    "AZURE_SQL_SERVER": SERVER,
    "AZURE_SQL_DATABASE": "orders",
    "AZURE_CLIENT_ID": "8d6c1a2e-0f4b-4c39-9a51-3e7b2d9f6c10",
}


def _azure_settings(client_id: str | None = AZURE_ENV["AZURE_CLIENT_ID"]) -> ServiceSettings:
    return ServiceSettings(
        azure_sql_server=SERVER, azure_sql_database="orders", azure_client_id=client_id
    )


def test_url_selects_the_mssqlpython_dialect_with_managed_identity() -> None:
    url = azure_sql_url(_azure_settings())
    assert url.drivername == "mssql+mssqlpython"
    assert url.password is None
    engine = build_engine(_azure_settings())
    assert engine.dialect.driver == "mssqlpython"
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    # The connection string mssql-python documents for a user-assigned identity:
    # Authentication=ActiveDirectoryMSI, UID = the identity's client id, Encrypt on.
    assert cargs == (
        f"Server={SERVER},1433;Database=orders;UID={AZURE_ENV['AZURE_CLIENT_ID']};"
        "Authentication=ActiveDirectoryMSI;Encrypt=yes;TrustServerCertificate=no",
    )
    assert cparams == {}
    assert azure_sql_connect_args() == {"timeout": 30}
    assert engine.pool.size() == 5  # type: ignore[attr-defined]
    engine.dispose()


def test_system_assigned_identity_has_no_uid() -> None:
    engine = create_engine(azure_sql_url(_azure_settings(client_id=None)))
    (conn_str,), _ = engine.dialect.create_connect_args(engine.url)
    assert "UID=" not in conn_str
    assert "Authentication=ActiveDirectoryMSI" in conn_str


def test_url_needs_server_and_database() -> None:
    with pytest.raises(ValueError, match="AZURE_SQL_SERVER and AZURE_SQL_DATABASE"):
        azure_sql_url(ServiceSettings(azure_sql_server=SERVER))


class FakeManagedIdentity:
    """Stands in for azure.identity.ManagedIdentityCredential inside the driver."""

    created: ClassVar[list[dict[str, Any]]] = []
    scopes: ClassVar[list[str]] = []

    def __init__(self, **kwargs: Any) -> None:
        type(self).created.append(kwargs)

    def get_token(self, *scopes: str, **_: Any) -> SimpleNamespace:
        type(self).scopes.extend(scopes)
        fake_jwt = "eyJ0eXAiOiJKV1QifQ.e30.sig"
        return SimpleNamespace(token=fake_jwt, expires_on=time.time() + 3600)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_driver_accepts_the_connection_string_and_asks_for_the_identitys_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """mssql-python itself parses what SQLAlchemy builds (unknown keywords are errors
    there), builds ManagedIdentityCredential(client_id=UID) and requests the SQL scope
    before it opens the TCP connection, which then fails against a closed local port."""
    client_id = str(uuid.uuid4())  # fresh: the driver caches one credential per client id
    fake = FakeManagedIdentity
    monkeypatch.setattr(fake, "created", [])
    monkeypatch.setattr(fake, "scopes", [])
    monkeypatch.setattr(azure.identity, "ManagedIdentityCredential", fake)
    url = azure_sql_url(_azure_settings(client_id)).set(host="127.0.0.1", port=_closed_port())
    engine = create_engine(url, connect_args={**azure_sql_connect_args(), "timeout": 1})
    with pytest.raises(OperationalError) as excinfo:
        engine.connect()
    engine.dispose()
    assert "Failed to load the driver" not in str(excinfo.value), (
        "mssql-python needs Debian's libltdl7 libkrb5-3 libgssapi-krb5-2"
    )
    assert "keyword" not in str(excinfo.value).lower(), excinfo.value
    assert fake.created == [{"client_id": client_id}]
    assert fake.scopes == ["https://database.windows.net/.default"]


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_image_needs_no_microsoft_repository(spec: ServiceSpec) -> None:
    text = (spec.directory / "Dockerfile").read_text()
    instructions = "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    )
    for banned in ("packages.microsoft.com", "ACCEPT_EULA", "msodbcsql", "unixodbc"):
        assert banned not in instructions, banned
    # mssql-python's bundled driver loads libltdl and Kerberos from Debian's own archive.
    for package in ("libltdl7", "libkrb5-3", "libgssapi-krb5-2"):
        assert package in instructions, package


def test_requirements_use_mssql_python_not_pyodbc() -> None:
    for path in (
        SERVICES_DIR / "requirements.txt",
        SERVICES_DIR.parent / "requirements-deploy.txt",
    ):
        pins = path.read_text().lower()
        assert "mssql-python==" in pins, path
        assert "pyodbc" not in pins, path


def _alembic_sql(spec: ServiceSpec, *args: str) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AZURE_", "DATABASE_URL", "ENVIRONMENT"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(spec.directory / "alembic.ini"), *args],
        env={**env, **AZURE_ENV},
        capture_output=True,
        text=True,
        check=False,
        cwd=spec.directory,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_every_migration_compiles_for_azure_sql(spec: ServiceSpec) -> None:
    """`alembic upgrade head --sql` with the service's Azure SQL settings, as the README says:
    offline mode compiles each revision's DDL with the mssql+mssqlpython dialect."""
    script = ScriptDirectory.from_config(alembic_config(spec.directory, None))
    revisions = [rev.revision for rev in script.walk_revisions()]
    assert revisions
    upgrade = _alembic_sql(spec, "upgrade", "head", "--sql")
    downgrade = _alembic_sql(spec, "downgrade", "head:base", "--sql")
    for revision in revisions:
        assert re.search(rf"^-- Running upgrade \S* ?-> {revision}$", upgrade, re.M), revision
        assert re.search(rf"^-- Running downgrade {revision} ->", downgrade, re.M), revision
    # T-SQL, not the SQLite default: batches end in GO, and the transaction is spelled T-SQL's way.
    assert "\nGO\n" in upgrade
    assert "BEGIN TRANSACTION;" in upgrade
    assert "CREATE TABLE" in upgrade
    assert "DROP TABLE" in downgrade
