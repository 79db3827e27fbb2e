"""Settings validation, role parsing and the Entra token plumbing for Azure SQL."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from platform_common.db import (
    SQL_COPT_SS_ACCESS_TOKEN,
    access_token_struct,
    apply_access_token,
    azure_sql_url,
    token_connect_params,
)
from platform_common.identity import Role, parse_roles
from platform_common.settings import MessagingSettings, ServiceSettings


def test_non_local_environment_requires_azure_settings() -> None:
    with pytest.raises(ValidationError) as excinfo:
        MessagingSettings(environment="prod")
    message = str(excinfo.value)
    for name in (
        "AZURE_SQL_SERVER",
        "AZURE_SQL_DATABASE",
        "AZURE_CLIENT_ID",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "SERVICEBUS_FULLY_QUALIFIED_NAMESPACE",
    ):
        assert name in message


def test_settings_read_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_SQL_SERVER", "sql-x.database.windows.net")
    monkeypatch.setenv("AZURE_SQL_DATABASE", "orders")
    settings = ServiceSettings()
    assert settings.uses_azure_sql
    url = azure_sql_url(settings)
    assert url.password is None
    assert url.username is None
    assert url.host == "sql-x.database.windows.net"
    assert url.database == "orders"
    assert url.query["Encrypt"] == "yes"


def test_parse_roles_drops_unknown_names() -> None:
    assert parse_roles(" Trader, admin ,root,") == frozenset({Role.TRADER, Role.ADMIN})
    assert parse_roles(None) == frozenset()


@dataclass
class FakeToken:
    token: str


class FakeCredential:
    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str) -> FakeToken:
        self.scopes.extend(scopes)
        return FakeToken("eyJ0eXAi")


def test_access_token_is_length_prefixed_utf16() -> None:
    packed = access_token_struct("abc")
    (length,) = struct.unpack("<I", packed[:4])
    assert length == 6
    assert packed[4:].decode("utf-16-le") == "abc"


def test_token_connect_params_ask_for_the_sql_scope() -> None:
    credential = FakeCredential()
    params = token_connect_params(credential)
    assert credential.scopes == ["https://database.windows.net/.default"]
    assert params == {"attrs_before": {SQL_COPT_SS_ACCESS_TOKEN: access_token_struct("eyJ0eXAi")}}


def test_apply_access_token_removes_windows_auth() -> None:
    cargs: list[object] = [
        "DRIVER={ODBC Driver 18 for SQL Server};Server=s,1433;Database=d;Trusted_Connection=Yes"
    ]
    cparams: dict[str, object] = {}
    apply_access_token(cargs, cparams, FakeCredential())
    assert cargs == ["DRIVER={ODBC Driver 18 for SQL Server};Server=s,1433;Database=d"]
    assert "attrs_before" in cparams
