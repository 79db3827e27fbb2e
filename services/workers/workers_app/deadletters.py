"""Replaying an entity's dead letters: receive from `<entity>/$DeadLetterQueue`, resend, complete.

A replayed message keeps its body, subject, session and correlation ids, but gets a new
message id: the entity's duplicate detection would otherwise drop it as a repeat within
its window. The original id and the dead-letter reason travel as application properties
(the workers are idempotent on the body's event id, not on the message id). Each message
is completed only after its copy was sent, so a crash in between re-sends, never loses.
Only queues are replayed: a topic subscription's dead letter resent to its topic would
reach every sibling subscription again.
https://learn.microsoft.com/azure/service-bus-messaging/service-bus-dead-letter-queues
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol


class ReplayError(ValueError):
    """The entity cannot be replayed (unknown, or not a queue)."""


@dataclass(frozen=True)
class ReplayResult:
    entity: str
    replayed: int
    message_ids: list[str]


class DeadLetterReplayer(Protocol):
    def replay(self, queue: str, max_messages: int) -> ReplayResult: ...


class ServiceBusReplayer:
    """Through azure-servicebus with the workers' identity (`client` is a ServiceBusClient)."""

    def __init__(self, client: Any, queues: frozenset[str], wait_seconds: float = 5.0) -> None:
        self._client, self._queues, self._wait = client, queues, wait_seconds

    def replay(self, queue: str, max_messages: int) -> ReplayResult:
        from azure.servicebus import ServiceBusMessage, ServiceBusSubQueue

        if queue not in self._queues:
            allowed = ", ".join(sorted(self._queues))
            raise ReplayError(f"{queue!r} is not a queue the workers replay; allowed: {allowed}")
        ids: list[str] = []
        receiver = self._client.get_queue_receiver(
            queue_name=queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER, max_wait_time=self._wait
        )
        sender = self._client.get_queue_sender(queue_name=queue)
        with receiver, sender:
            while len(ids) < max_messages:
                batch = receiver.receive_messages(
                    max_message_count=min(100, max_messages - len(ids)), max_wait_time=self._wait
                )
                if not batch:
                    break
                for dead in batch:
                    properties = dict(dead.application_properties or {})
                    properties.update(
                        {
                            "replayed_from": str(dead.message_id),
                            "dead_letter_reason": str(dead.dead_letter_reason or ""),
                        }
                    )
                    copy = ServiceBusMessage(
                        b"".join(dead.body) if not isinstance(dead.body, bytes) else dead.body,
                        message_id=str(uuid.uuid4()),
                        session_id=dead.session_id,
                        correlation_id=dead.correlation_id,
                        subject=dead.subject,
                        content_type=dead.content_type,
                        application_properties=properties,
                    )
                    sender.send_messages(copy)
                    receiver.complete_message(dead)
                    ids.append(str(dead.message_id))
        return ReplayResult(queue, len(ids), ids)
