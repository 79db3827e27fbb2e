"""Transactional outbox: events are rows written in the same transaction as the change.

A dispatcher later publishes unpublished rows. A crash between send and mark
re-sends the row with the same deterministic message id, which Service Bus
duplicate detection drops; consumers stay idempotent regardless.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from platform_common.messaging import BusMessage, MessageBus

logger = logging.getLogger(__name__)

MESSAGE_ID_NAMESPACE = uuid.UUID("6f1b8a52-0c7e-4c55-9a43-1f1a3c8e0b7d")


def outbox_table(metadata: MetaData) -> Table:
    """The outbox table, registered on the owning service's metadata."""
    return Table(
        "outbox",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("message_id", String(64), nullable=False),
        Column("destination", String(128), nullable=False),
        Column("subject", String(128), nullable=False),
        Column("body", Text, nullable=False),
        Column("correlation_id", String(64), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True, index=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", String(500), nullable=True),
        UniqueConstraint("destination", "message_id", name="uq_outbox_destination_message"),
    )


@dataclass(frozen=True)
class DomainEvent:
    """An event about one aggregate at one version."""

    event_type: str
    aggregate_id: str
    aggregate_version: int
    payload: dict[str, Any]

    @property
    def message_id(self) -> str:
        """Same event -> same id, so a re-publish is a duplicate Service Bus can drop."""
        key = f"{self.event_type}:{self.aggregate_id}:{self.aggregate_version}"
        return str(uuid.uuid5(MESSAGE_ID_NAMESPACE, key))

    def body(self) -> str:
        return json.dumps(
            {
                "type": self.event_type,
                "id": self.message_id,
                "aggregate_id": self.aggregate_id,
                "aggregate_version": self.aggregate_version,
                "data": self.payload,
            },
            default=str,
            sort_keys=True,
        )


def enqueue(session: Session, table: Table, event: DomainEvent, destinations: list[str]) -> None:
    """Add outbox rows to the caller's transaction; nothing is committed here."""
    now = datetime.now(UTC)
    for destination in destinations:
        session.execute(
            insert(table).values(
                message_id=event.message_id,
                destination=destination,
                subject=event.event_type,
                body=event.body(),
                correlation_id=event.aggregate_id,
                created_at=now,
                attempts=0,
            )
        )


class OutboxDispatcher:
    """Publishes unpublished outbox rows in id order and marks them published."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        table: Table,
        bus: MessageBus,
        batch_size: int = 100,
        lock: threading.Lock | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._table = table
        self._bus = bus
        self._batch_size = batch_size
        self._lock = lock or threading.Lock()

    def dispatch_pending(self) -> int:
        """Publish one batch; returns how many rows were published.

        With a shared lock, a pass that finds another running returns at once: that pass
        (or the next trigger) picks the rows up, instead of both sending them.
        """
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            return self._dispatch_batch()
        finally:
            self._lock.release()

    def _dispatch_batch(self) -> int:
        t = self._table
        published = 0
        with self._session_factory() as session:
            rows = session.execute(
                select(
                    t.c.id,
                    t.c.message_id,
                    t.c.destination,
                    t.c.subject,
                    t.c.body,
                    t.c.correlation_id,
                )
                .where(t.c.published_at.is_(None))
                .order_by(t.c.id)
                .limit(self._batch_size)
            ).all()
            for row in rows:
                message = BusMessage(
                    message_id=row.message_id,
                    subject=row.subject,
                    body=row.body,
                    correlation_id=row.correlation_id,
                    # The aggregate (order) id: orders-queue requires sessions for ordering.
                    session_id=row.correlation_id,
                )
                try:
                    self._bus.send(row.destination, message)
                except Exception as exc:  # any send failure keeps the row for the next pass
                    logger.warning(
                        "outbox publish failed", extra={"outbox_id": row.id, "error": str(exc)}
                    )
                    session.execute(
                        update(t)
                        .where(t.c.id == row.id)
                        .values(attempts=t.c.attempts + 1, last_error=str(exc)[:500])
                    )
                    session.commit()
                    continue
                session.execute(
                    update(t)
                    .where(t.c.id == row.id)
                    .values(published_at=datetime.now(UTC), attempts=t.c.attempts + 1)
                )
                session.commit()
                published += 1
        return published
