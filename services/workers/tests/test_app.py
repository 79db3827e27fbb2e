"""The Functions app as the host indexes it, its host.json, settings and settlement adapter."""

from __future__ import annotations

import json
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.servicebus import ServiceBusReceivedMessage
from azure.servicebus._pyamqp.message import Header, Message, Properties
from pydantic import ValidationError

from workers_app import manifest
from workers_app.settings import WorkersSettings
from workers_app.settlement import (
    Complete,
    DeadLetter,
    Retry,
    functions_message,
    run_trigger,
    settle,
)

WORKERS_DIR = Path(__file__).resolve().parents[1]
IDENTITY = {
    "AzureWebJobsStorage__accountName": "stworkersdev",
    "AzureWebJobsStorage__credential": "managedidentity",
    "AzureWebJobsStorage__clientId": "00000000-0000-0000-0000-000000000001",
    "ServiceBusConnection__fullyQualifiedNamespace": "sb-dev.servicebus.windows.net",
    "ServiceBusConnection__credential": "managedidentity",
    "ServiceBusConnection__clientId": "00000000-0000-0000-0000-000000000001",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x",
    "STAGING_BLOB_ACCOUNT_URL": "https://stetldev.blob.core.windows.net",
    "AUDIT_BLOB_ACCOUNT_URL": "https://staudit.blob.core.windows.net",
}


@lru_cache
def _functions() -> dict[str, dict[str, Any]]:
    """As the host indexes the app (get_functions may run once per app object)."""
    import function_app

    return {
        str(f.get_function_name()): f.get_bindings_dict()["bindings"][0]
        for f in function_app.app.get_functions()
    }


def test_orders_trigger_is_session_aware_and_settles_explicitly() -> None:
    trigger = _functions()["orders_queue_worker"]
    assert trigger["type"] == "serviceBusTrigger"
    assert trigger["queueName"] == "%SERVICEBUS_ORDERS_QUEUE%"
    assert trigger["connection"] == "ServiceBusConnection"
    assert trigger["isSessionsEnabled"] is True
    assert trigger["autoCompleteMessages"] is False


def test_topic_triggers_read_their_own_subscriptions() -> None:
    functions = _functions()
    subscriptions = {
        name: (functions[name]["topicName"], functions[name]["subscriptionName"])
        for name in ("events_topic_worker", "notifications_fan_out", "notifications_consumer")
    }
    assert subscriptions == {
        "events_topic_worker": ("%SERVICEBUS_EVENTS_TOPIC%", "%SERVICEBUS_EVENTS_SUBSCRIPTION%"),
        "notifications_fan_out": ("%SERVICEBUS_EVENTS_TOPIC%", "%SERVICEBUS_NOTIFY_SUBSCRIPTION%"),
        "notifications_consumer": (
            "%SERVICEBUS_NOTIFICATIONS_TOPIC%",
            "%SERVICEBUS_NOTIFIER_SUBSCRIPTION%",
        ),
    }


def test_etl_and_sync_triggers_read_their_settings() -> None:
    functions = _functions()
    assert functions["thirdparty_sync"]["queueName"] == "%SERVICEBUS_THIRDPARTY_QUEUE%"
    assert functions["etl_queue_worker"]["queueName"] == "%SERVICEBUS_ETL_QUEUE%"
    timer = functions["etl_timer"]
    assert timer["type"] == "timerTrigger"
    assert timer["schedule"] == "%ETL_SCHEDULE%"


def test_the_audit_shipper_reads_audit_queue() -> None:
    trigger = _functions()["ship_audit_record"]
    assert trigger["queueName"] == "%SERVICEBUS_AUDIT_QUEUE%"
    assert trigger["connection"] == "ServiceBusConnection"
    assert trigger["autoCompleteMessages"] is False


def test_operator_routes_need_a_function_key() -> None:
    functions = _functions()
    routes = {
        name: (
            functions[name]["route"],
            functions[name]["authLevel"].value,
            [m.value for m in functions[name]["methods"]],
        )
        for name in (
            "operator_start_etl_run",
            "operator_replay_dead_letters",
            "operator_search_audit_records",
        )
    }
    assert routes == {
        "operator_start_etl_run": ("operator/etl-runs", "function", ["POST"]),
        "operator_replay_dead_letters": (
            "operator/dead-letters/{entity}/replay",
            "function",
            ["POST"],
        ),
        "operator_search_audit_records": ("operator/audit-records", "function", ["GET"]),
    }


def test_unresolved_key_vault_reference_and_azurite_in_azure_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ref = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/openfigi/)"
    monkeypatch.setenv("OPENFIGI_API_KEY", ref)
    with pytest.raises(ValidationError, match="unresolved Key Vault reference"):
        WorkersSettings()
    monkeypatch.setenv("OPENFIGI_API_KEY", "resolved-key")
    assert WorkersSettings().openfigi_api_key is not None
    for name, value in IDENTITY.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENVIRONMENT", "dev")
    monkeypatch.setenv("STAGING_BLOB_CONNECTION_STRING", "UseDevelopmentStorage=true")
    with pytest.raises(ValidationError, match="STAGING_BLOB_CONNECTION_STRING is for Azurite"):
        WorkersSettings()


def test_the_audit_store_is_reached_by_identity_in_azure(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in IDENTITY.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENVIRONMENT", "prod")
    assert WorkersSettings().audit_blob_container == "audit-records"
    monkeypatch.setenv("AUDIT_BLOB_CONNECTION_STRING", "UseDevelopmentStorage=true")
    with pytest.raises(ValidationError, match="AUDIT_BLOB_CONNECTION_STRING is for Azurite"):
        WorkersSettings()
    monkeypatch.delenv("AUDIT_BLOB_CONNECTION_STRING")
    monkeypatch.setenv("AUDIT_BLOB_ACCOUNT_URL", "http://staudit.blob.core.windows.net")
    with pytest.raises(ValidationError, match="reached over https only"):
        WorkersSettings()
    monkeypatch.delenv("AUDIT_BLOB_ACCOUNT_URL")
    with pytest.raises(ValidationError, match="requires: AUDIT_BLOB_ACCOUNT_URL"):
        WorkersSettings()
    for bad in ("Audit", "au", "audit--records", "-audit", "a" * 64):
        with pytest.raises(ValidationError, match=r"audit_blob_container|AUDIT_BLOB_CONTAINER"):
            WorkersSettings(environment="local", audit_blob_container=bad)


def test_binding_expressions_name_settings_the_manifest_lists() -> None:
    names = {v["name"] for v in manifest.build_manifest()["variables"]}
    for trigger in _functions().values():
        for key in ("queueName", "topicName", "subscriptionName", "schedule"):
            if key in trigger:
                assert trigger[key].strip("%") in names, trigger[key]


def test_every_service_bus_trigger_settles_explicitly_on_the_identity_connection() -> None:
    triggers = [b for b in _functions().values() if b["type"] == "serviceBusTrigger"]
    assert len(triggers) == 8
    for trigger in triggers:
        assert trigger["autoCompleteMessages"] is False
        assert trigger["connection"] == "ServiceBusConnection"


def test_host_json_settings_are_deliberate() -> None:
    host = json.loads((WORKERS_DIR / "host.json").read_text())
    service_bus = host["extensions"]["serviceBus"]
    assert service_bus["autoCompleteMessages"] is False
    # Renewal covers the longest lock the entities use (5 minutes) and no more.
    assert service_bus["maxAutoLockRenewalDuration"] == "00:05:00"
    assert service_bus["clientRetryOptions"]["mode"] == "Exponential"
    assert host["logging"]["logLevel"]["Function"] == "Information"
    assert (
        "Exception" in host["logging"]["applicationInsights"]["samplingSettings"]["excludedTypes"]
    )


def test_settings_manifest_is_fresh() -> None:
    assert manifest.main(["--check"]) == 0
    names = {v["name"] for v in manifest.build_manifest()["variables"]}
    assert set(IDENTITY) <= names


def test_azure_requires_identity_based_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in IDENTITY.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENVIRONMENT", "dev")
    assert WorkersSettings().servicebus_namespace == "sb-dev.servicebus.windows.net"

    monkeypatch.setenv("ServiceBusConnection__credential", "connectionstring")
    with pytest.raises(
        ValidationError, match=r"ServiceBusConnection__credential='connectionstring'"
    ):
        WorkersSettings()

    monkeypatch.delenv("AzureWebJobsStorage__clientId")
    with pytest.raises(ValidationError, match="AzureWebJobsStorage__clientId"):
        WorkersSettings()


class RecordingActions:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []

    def complete(self, message: Any) -> None:
        self.calls.append(("complete", message, {}))

    def abandon(self, message: Any) -> None:
        self.calls.append(("abandon", message, {}))

    def deadletter(
        self,
        message: Any,
        deadletter_reason: str | None = None,
        deadletter_error_description: str | None = None,
    ) -> None:
        self.calls.append(
            (
                "deadletter",
                message,
                {"reason": deadletter_reason, "description": deadletter_error_description},
            )
        )


def test_settle_carries_out_each_verdict_on_the_received_message() -> None:
    actions = RecordingActions()
    received = object()
    settle(Complete("ok"), received, actions)
    settle(Retry("down"), received, actions)
    settle(DeadLetter("MalformedMessage", "x" * 5000), received, actions)

    assert [c[0] for c in actions.calls] == ["complete", "abandon", "deadletter"]
    assert all(c[1] is received for c in actions.calls)
    dead = actions.calls[2][2]
    assert dead["reason"] == "MalformedMessage"
    assert len(dead["description"]) == 1024


def test_sdk_received_message_becomes_the_handlers_functions_message() -> None:
    amqp = Message(
        data=[b'{"type": "OrderCreated"}'],
        header=Header(delivery_count=2),
        properties=Properties(message_id=b"m-7", subject=b"OrderCreated", group_id=b"order-1"),
    )
    received = ServiceBusReceivedMessage(amqp, receiver=None)

    message = functions_message(received)

    assert message.get_body() == b'{"type": "OrderCreated"}'
    assert message.message_id == "m-7"
    assert message.session_id == "order-1"
    assert message.subject == "OrderCreated"
    # The AMQP header counts earlier deliveries; the SDK reports it plus one.
    assert message.delivery_count == received.delivery_count


def test_package_has_the_layout_a_zip_deploy_runs(tmp_path: Path) -> None:
    import package

    installed: list[tuple[Path, str]] = []

    def install(site_packages: Path, python_version: str) -> None:
        """Stands in for pip (no network in tests): what it would leave in the target."""
        installed.append((site_packages, python_version))
        (site_packages / "azure" / "functions").mkdir(parents=True)
        (site_packages / "azure" / "functions" / "__init__.py").write_text("")
        (site_packages / "lxml").mkdir()
        (site_packages / "lxml" / "etree.cpython-312-x86_64-linux-gnu.so").write_bytes(b"")

    built = package.build(tmp_path / "workers.zip", python_version="3.12", install=install)

    names = set(zipfile.ZipFile(built).namelist())
    # host.json and the entry point at the root, dependencies where the Python worker
    # looks for them. https://learn.microsoft.com/azure/azure-functions/python-build-options
    assert {"function_app.py", "host.json", "requirements.txt"} <= names
    assert "workers_app/orders_worker.py" in names
    assert "platform_common/messaging.py" in names
    assert ".python_packages/lib/site-packages/azure/functions/__init__.py" in names
    assert ".python_packages/lib/site-packages/lxml/etree.cpython-312-x86_64-linux-gnu.so" in names
    assert not any(n.startswith(("tests/", "bench/", "dist/")) or "__pycache__" in n for n in names)
    assert [version for _, version in installed] == ["3.12"]
    requirements = (WORKERS_DIR / "requirements.txt").read_text()
    for pin in ("azure-functions==", "azurefunctions-extensions-bindings-servicebus=="):
        assert pin in requirements


def test_package_dependencies_are_wheels_for_the_stacks_linux_python(tmp_path: Path) -> None:
    import package

    command = package.pip_command(tmp_path, package.DEFAULT_PYTHON_VERSION)
    assert command[command.index("--target") + 1] == str(tmp_path)
    assert command[command.index("--platform") + 1] == "manylinux2014_x86_64"
    assert command[command.index("--python-version") + 1] == package.DEFAULT_PYTHON_VERSION
    assert "--only-binary=:all:" in command
    assert package.PYTHON_VERSIONS == ("3.10", "3.11", "3.12")
    with pytest.raises(ValueError, match=r"allowed are 3\.10, 3\.11, 3\.12"):
        package.pip_command(tmp_path, "3.9")


def test_package_refuses_compiled_modules_of_another_python(tmp_path: Path) -> None:
    import package

    def install(site_packages: Path, _version: str) -> None:
        (site_packages / "lxml").mkdir()
        (site_packages / "lxml" / "etree.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")

    with pytest.raises(RuntimeError, match=r"not for CPython 3\.12: lxml/etree\.cpython-311"):
        package.build(tmp_path / "w.zip", python_version="3.12", install=install)


def test_a_trigger_decides_logs_and_settles_the_verdict(caplog: pytest.LogCaptureFixture) -> None:
    amqp = Message(
        data=[b"not json"],
        header=Header(delivery_count=5),
        properties=Properties(message_id=b"m-9", subject=b"OrderCreated", group_id=b"order-9"),
    )
    received = ServiceBusReceivedMessage(amqp, receiver=None)
    actions = RecordingActions()

    def fail(message: func.ServiceBusMessage) -> Retry:
        return Retry(f"down for {message.message_id}")

    with caplog.at_level("INFO", logger="workers_app.settlement"):
        verdict = run_trigger(fail, received, actions, 5, "orders-queue")

    # The last allowed delivery (5 of 5): a Retry becomes a dead letter, never a drop.
    assert received.delivery_count == 5
    assert isinstance(verdict, DeadLetter)
    assert [c[0] for c in actions.calls] == ["deadletter"]
    assert actions.calls[0][1] is received
    assert "orders-queue message settled" in caplog.text


def test_erasure_and_retention_functions_read_their_settings() -> None:
    functions = _functions()
    erasure = functions["propagate_erasure"]
    assert (erasure["topicName"], erasure["subscriptionName"]) == (
        "%SERVICEBUS_EVENTS_TOPIC%",
        "%SERVICEBUS_ERASURE_SUBSCRIPTION%",
    )
    assert erasure["autoCompleteMessages"] is False
    timer = functions["purge_personal_data"]
    assert timer["type"] == "timerTrigger"
    assert timer["schedule"] == "%RETENTION_PURGE_SCHEDULE%"
    assert WorkersSettings().retention_purge_schedule == "0 30 2 * * *"
    with pytest.raises(ValidationError, match="retention_purge_schedule"):
        WorkersSettings(retention_purge_schedule="30 2 * * *")  # five fields: not NCRONTAB
