"""Settings validation and role parsing (Azure SQL itself: test_azure_sql.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from platform_common.db import azure_sql_url
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
    assert url.query["Authentication"] == "ActiveDirectoryMSI"


def test_parse_roles_drops_unknown_names() -> None:
    assert parse_roles(" Trader, admin ,root,") == frozenset({Role.TRADER, Role.ADMIN})
    assert parse_roles(None) == frozenset()


def test_record_keeping_services_keep_user_ids_five_years_in_prod_only() -> None:
    from platform_common.settings import RecordKeepingSettings

    azure = {
        "azure_sql_server": "sql.database.windows.net",
        "azure_sql_database": "orders",
        "azure_client_id": "00000000-0000-0000-0000-000000000000",
        "applicationinsights_connection_string": "InstrumentationKey=x",
        "servicebus_fully_qualified_namespace": "sb.servicebus.windows.net",
    }
    # dev's test data is nobody's record: a short retention exercises the purge there.
    dev = {**azure, "environment": "dev", "personal_data_retention_days": 7}
    assert RecordKeepingSettings.model_validate(dev).personal_data_retention_days == 7
    with pytest.raises(ValueError, match=r"PERSONAL_DATA_RETENTION_DAYS=1824 in prod.*1825-3650"):
        RecordKeepingSettings.model_validate(
            {**dev, "environment": "prod", "personal_data_retention_days": 1824}
        )
    prod = RecordKeepingSettings.model_validate({**azure, "environment": "prod"})
    assert prod.personal_data_retention_days == 1825
