"""Transactional outbox: events are rows written in the same transaction as the change.

A dispatcher later publishes unpublished rows. A crash between send and mark
re-sends the row with the same deterministic message id, which Service Bus
duplicate detection drops; consumers stay idempotent regardless.
"""

from __future__ import annotations

import asyncio
import functools
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
    Connection,
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
from sqlalchemy.sql.dml import Insert
from starlette.concurrency import run_in_threadpool

from platform_common.correlation import current_correlation_id
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


def enqueue(
    session: Session | Connection, table: Table, event: DomainEvent, destinations: list[str]
) -> None:
    """Add outbox rows to the caller's transaction (a session or its connection); nothing
    is committed here."""
    now = datetime.now(UTC)
    message_id, body = event.message_id, event.body()
    # The request's id joins the message to the call that caused it; outside a request
    # (a worker, a replay) the aggregate id correlates the aggregate's messages instead.
    correlation_id = current_correlation_id() or event.aggregate_id
    rows = [
        {
            "message_id": message_id,
            "destination": destination,
            "subject": event.event_type,
            "body": body,
            "correlation_id": correlation_id,
            "created_at": now,
            "attempts": 0,
        }
        for destination in destinations
    ]
    session.execute(insert_into(table), rows)  # one executemany for every destination


@functools.cache
def insert_into(table: Table) -> Insert:
    """One INSERT construct per outbox table: building one per event costs more than it."""
    return insert(table)


def _aggregate_id(body: str) -> str | None:
    """The session of a row: its event's aggregate (the body DomainEvent.body wrote)."""
    try:
        value = json.loads(body).get("aggregate_id")
    except (ValueError, AttributeError):
        return None
    return str(value) if value is not None else None


class OutboxDispatcher:
    """Publishes unpublished outbox rows in id order and marks them published."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        table: Table,
        bus: MessageBus,
        batch_size: int = 100,
        lock: threading.Lock | None = None,
        *,
        rerun: threading.Event | None = None,
        scheduled: threading.Event | None = None,
        linger: float = 0.0,
    ) -> None:
        self._session_factory = session_factory
        self._table = table
        self._bus = bus
        self._batch_size = batch_size
        self._lock = lock or threading.Lock()
        self._rerun = rerun or threading.Event()
        self._scheduled = scheduled or threading.Event()
        self._linger = linger

    def dispatch_pending(self) -> int:
        """Publish what is pending; returns how many rows were published.

        With a shared lock and event, a pass that finds another running only asks it to go
        round once more and returns at once, so rows committed meanwhile are published
        promptly by one pass instead of many passes contending (the request flag is raised
        before the lock is tried, and checked again after release, so no request is lost).
        """
        published = 0
        while True:
            self._rerun.set()
            if not self._lock.acquire(blocking=False):
                return published
            try:
                while self._rerun.is_set():
                    self._rerun.clear()
                    batch = self._dispatch_batch()
                    published += batch
                    if batch == self._batch_size:  # a full batch: there may be more
                        self._rerun.set()
            finally:
                self._lock.release()
            if not self._rerun.is_set():
                return published

    def hand_to_running_pass(self) -> bool:
        """True when a running or scheduled pass will publish what was just committed (a
        running one goes round once more), so the caller need not start or schedule one."""
        if self._scheduled.is_set():  # it has not read the table yet
            return True
        if not self._lock.locked():
            return False
        self._rerun.set()
        # Re-check: a pass that released just now may not have seen the flag.
        return self._lock.locked()

    async def kick(self) -> int:
        """After-commit trigger for the event loop: no thread hop while a pass is running.

        With `linger`, the pass starts that much later (without holding a thread), so the
        rows of requests committed meanwhile go out in the same pass and the same commit.
        """
        if self.hand_to_running_pass():
            return 0
        if self._linger > 0:
            self._scheduled.set()  # no await before this: kicks on one loop cannot interleave
            try:
                await asyncio.sleep(self._linger)
            finally:
                self._scheduled.clear()
        return await run_in_threadpool(self.dispatch_pending)

    def _dispatch_batch(self) -> int:
        t = self._table
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
            sent: list[int] = []
            failed: list[tuple[int, str]] = []
            for row in rows:
                message = BusMessage(
                    message_id=row.message_id,
                    subject=row.subject,
                    body=row.body,
                    correlation_id=row.correlation_id,
                    # The aggregate (order) id: orders-queue requires sessions for ordering.
                    session_id=_aggregate_id(row.body),
                )
                try:
                    self._bus.send(row.destination, message)
                except Exception as exc:  # any send failure keeps the row for the next pass
                    logger.warning(
                        "outbox publish failed", extra={"outbox_id": row.id, "error": str(exc)}
                    )
                    failed.append((row.id, str(exc)[:500]))
                    continue
                sent.append(row.id)
            # One write transaction after the sends, none held across them: each commit is a
            # turn on the write lock (all of SQLite's). A crash before it re-sends the batch
            # with the same message ids, which duplicate detection drops.
            for row_id, error in failed:
                session.execute(
                    update(t)
                    .where(t.c.id == row_id)
                    .values(attempts=t.c.attempts + 1, last_error=error)
                )
            if sent:
                session.execute(
                    update(t)
                    .where(t.c.id.in_(sent))
                    .values(published_at=datetime.now(UTC), attempts=t.c.attempts + 1)
                )
            session.commit()
            published = len(sent)
        return published
