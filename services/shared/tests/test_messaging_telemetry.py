"""Service Bus publisher wiring (with the SDK faked) and the JSON log format."""

from __future__ import annotations

import io
import json
import logging
from typing import Any, ClassVar, Self

import pytest

from platform_common.messaging import BusMessage, InMemoryBus, ServiceBusBus, build_bus
from platform_common.settings import MessagingSettings
from platform_common.telemetry import JsonFormatter, configure_telemetry


class FakeSender:
    def __init__(self, log: list[tuple[str, Any]], kind: str, name: str) -> None:
        self.log, self.kind, self.name = log, kind, name

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def send_messages(self, message: Any) -> None:
        self.log.append((f"{self.kind}:{self.name}", message))


class FakeClient:
    instances: ClassVar[list[FakeClient]] = []

    def __init__(self, fully_qualified_namespace: str, credential: Any) -> None:
        self.namespace, self.credential = fully_qualified_namespace, credential
        self.sent: list[tuple[str, Any]] = []
        FakeClient.instances.append(self)

    def get_queue_sender(self, queue_name: str) -> FakeSender:
        return FakeSender(self.sent, "queue", queue_name)

    def get_topic_sender(self, topic_name: str) -> FakeSender:
        return FakeSender(self.sent, "topic", topic_name)

    def close(self) -> None:
        return None


class FakeCredential:
    def __init__(self, managed_identity_client_id: str | None = None) -> None:
        self.client_id = managed_identity_client_id

    def close(self) -> None:
        return None


def test_service_bus_uses_managed_identity_and_message_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("azure.servicebus.ServiceBusClient", FakeClient)
    monkeypatch.setattr("azure.identity.DefaultAzureCredential", FakeCredential)
    settings = MessagingSettings(
        servicebus_fully_qualified_namespace="sb-platform-dev.servicebus.windows.net",
        azure_client_id="cid-123",
    )
    bus = build_bus(settings, {"orders-queue": "queue", "events-topic": "topic"})
    assert isinstance(bus, ServiceBusBus)
    bus.send(
        "orders-queue",
        BusMessage("m-1", "OrderCreated", '{"a": 1}', correlation_id="o-1", session_id="o-1"),
    )
    bus.send("events-topic", BusMessage("m-1", "OrderCreated", '{"a": 1}'))
    client = FakeClient.instances[-1]
    assert client.namespace == "sb-platform-dev.servicebus.windows.net"
    assert client.credential.client_id == "cid-123"
    assert [dest for dest, _ in client.sent] == ["queue:orders-queue", "topic:events-topic"]
    message = client.sent[0][1]
    assert message.message_id == "m-1"
    assert message.subject == "OrderCreated"
    assert message.correlation_id == "o-1"
    assert message.session_id == "o-1"
    assert message.content_type == "application/json"
    with pytest.raises(ValueError, match="unknown Service Bus entity"):
        bus.send("other", BusMessage("m-2", "X", "{}"))


def test_without_namespace_the_bus_is_in_memory() -> None:
    assert isinstance(build_bus(MessagingSettings(), {}), InMemoryBus)


def test_json_formatter_includes_extra_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("orders-api"))
    logger = logging.getLogger("test.json")
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning("publish failed", extra={"outbox_id": 7})
    entry = json.loads(stream.getvalue())
    assert entry["service"] == "orders-api"
    assert entry["outbox_id"] == 7
    assert entry["level"] == "WARNING"


def test_app_insights_is_configured_only_with_a_connection_string(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        "azure.monitor.opentelemetry.configure_azure_monitor", lambda **kw: calls.append(kw)
    )
    configure_telemetry(MessagingSettings(), "orders-api")
    assert calls == []
    conn = "InstrumentationKey=00000000-0000-0000-0000-000000000000"
    configure_telemetry(MessagingSettings(applicationinsights_connection_string=conn), "orders-api")
    assert calls[0]["connection_string"] == conn
    assert calls[0]["credential"] is None  # local runs without an identity
    configure_telemetry(
        MessagingSettings(applicationinsights_connection_string=conn, azure_client_id="cid-9"),
        "orders-api",
    )
    # In Azure: Entra-authenticated ingestion with the workload's user-assigned identity.
    credential = calls[1]["credential"]
    assert type(credential).__name__ == "ManagedIdentityCredential"
