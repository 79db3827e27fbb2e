"""The post-deploy grant step: reads stack outputs, prints or runs idempotent T-SQL."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest

from scripts import grant_database_access
from tests.conftest import stack_run


def test_prints_grants_from_real_stack_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(stack_run("prod").stack_outputs))
    assert grant_database_access.main([str(outputs), "--print"]) == 0
    printed = capsys.readouterr().out.splitlines()
    creates = [line for line in printed if "CREATE USER" in line]
    assert len(creates) == 5
    assert any("[id-plat-orders-prod-wus2]" in line for line in creates)
    assert not any("gateway" in line for line in printed)


def test_missing_outputs_are_named(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"sql_server_fqdn": "x.database.windows.net"}))
    with pytest.raises(SystemExit, match="sql_database_name, database_identities"):
        grant_database_access.main([str(outputs), "--print"])


def test_unreadable_outputs_are_reported(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text("{not json")
    with pytest.raises(SystemExit, match="cannot read stack outputs"):
        grant_database_access.main([str(outputs), "--print"])


def test_connection_string_is_what_mssql_python_documents() -> None:
    assert grant_database_access.connection_string("sql-x.database.windows.net", "platform") == (
        "Server=tcp:sql-x.database.windows.net,1433;Database=platform;"
        "Authentication=ActiveDirectoryDefault;Encrypt=yes;TrustServerCertificate=no"
    )


class _FakeDefaultCredential:
    """Stands in for azure.identity.DefaultAzureCredential inside the driver."""

    scopes: ClassVar[list[str]] = []

    def __init__(self, **_: object) -> None:
        pass

    def get_token(self, *scopes: str, **_: object) -> object:
        type(self).scopes.extend(scopes)
        return SimpleNamespace(token="eyJ0eXAiOiJKV1QifQ.e30.sig", expires_on=time.time() + 3600)


def test_driver_takes_the_pipeline_identitys_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """mssql-python parses the string (unknown keywords are errors there) and asks
    DefaultAzureCredential for the SQL scope before it connects; the closed port fails."""
    import azure.identity
    import mssql_python.auth

    monkeypatch.setattr(_FakeDefaultCredential, "scopes", [])
    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", _FakeDefaultCredential)
    monkeypatch.setattr(mssql_python.auth, "_credential_cache", {})  # the driver caches one
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(mssql_python.OperationalError) as excinfo:
        grant_database_access.execute("127.0.0.1", "platform", ["SELECT 1"], port=port, timeout=1)
    assert "Failed to load the driver" not in str(excinfo.value), "apt-get install libltdl7"
    assert _FakeDefaultCredential.scopes == ["https://database.windows.net/.default"]
