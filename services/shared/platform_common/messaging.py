"""Message buses the outbox publishes to: Azure Service Bus, or in-memory locally."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from platform_common.settings import MessagingSettings

SERVICEBUS_SCOPE = "https://servicebus.azure.net/.default"
EntityKind = Literal["queue", "topic"]


@dataclass(frozen=True)
class BusMessage:
    """One message; `message_id` is deterministic so Service Bus drops re-sends."""

    message_id: str
    subject: str
    body: str
    correlation_id: str | None = None
    content_type: str = "application/json"
    # Messages about one aggregate share a session, so session-enabled entities
    # (orders-queue) hand them to one consumer in order. Others ignore it.
    session_id: str | None = None


class MessageBus(Protocol):
    """What the outbox dispatcher and readiness probe need from a bus."""

    def send(self, destination: str, message: BusMessage) -> None: ...

    def is_ready(self) -> bool: ...

    def close(self) -> None: ...


@dataclass
class InMemoryBus:
    """Local bus: keeps messages per destination and, like duplicate detection, drops repeats."""

    messages: dict[str, list[BusMessage]] = field(default_factory=dict)
    _seen: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, destination: str, message: BusMessage) -> None:
        """A set of ids per destination: the duplicate check stays O(1) as messages pile up."""
        with self._lock:
            seen = self._seen.setdefault(destination, set())
            if message.message_id not in seen:
                seen.add(message.message_id)
                self.messages.setdefault(destination, []).append(message)

    def is_ready(self) -> bool:
        return True

    def close(self) -> None:
        return None


class ServiceBusBus:
    """Azure Service Bus through a managed identity (local auth is disabled on the namespace)."""

    def __init__(self, settings: MessagingSettings, entities: dict[str, EntityKind]) -> None:
        from azure.identity import DefaultAzureCredential
        from azure.servicebus import ServiceBusClient

        assert settings.servicebus_fully_qualified_namespace
        self._credential = DefaultAzureCredential(
            managed_identity_client_id=settings.azure_client_id
        )
        self._client = ServiceBusClient(
            fully_qualified_namespace=settings.servicebus_fully_qualified_namespace,
            credential=self._credential,
        )
        self._entities = entities
        self._lock = threading.Lock()

    def _sender(self, destination: str) -> Any:
        kind = self._entities.get(destination)
        if kind == "queue":
            return self._client.get_queue_sender(queue_name=destination)
        if kind == "topic":
            return self._client.get_topic_sender(topic_name=destination)
        raise ValueError(f"unknown Service Bus entity {destination!r}")

    def send(self, destination: str, message: BusMessage) -> None:
        from azure.servicebus import ServiceBusMessage

        sb_message = ServiceBusMessage(
            message.body,
            message_id=message.message_id,
            subject=message.subject,
            content_type=message.content_type,
            correlation_id=message.correlation_id,
            session_id=message.session_id,
        )
        with self._lock, self._sender(destination) as sender:
            sender.send_messages(sb_message)

    def is_ready(self) -> bool:
        """Readiness = the identity can get a Service Bus token (sending needs Data Sender)."""
        from azure.core.exceptions import AzureError

        try:
            self._credential.get_token(SERVICEBUS_SCOPE)
            return True
        except AzureError:
            return False

    def close(self) -> None:
        self._client.close()
        self._credential.close()


def build_bus(settings: MessagingSettings, entities: dict[str, EntityKind]) -> MessageBus:
    """The bus MESSAGING_MODE names; unset: Service Bus when a namespace is set, else in-memory."""
    mode = settings.messaging_mode or (
        "servicebus" if settings.servicebus_fully_qualified_namespace else "memory"
    )
    if mode == "local-file":
        from pathlib import Path

        from platform_common.local_bus import LocalFileBus

        assert settings.local_bus_path  # the settings refuse local-file without it
        return LocalFileBus(Path(settings.local_bus_path))
    if mode == "servicebus":
        return ServiceBusBus(settings, entities)
    return InMemoryBus()
