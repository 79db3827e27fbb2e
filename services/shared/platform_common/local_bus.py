"""A message bus in one SQLite file, shared by every local process (`MESSAGING_MODE=local-file`).

The in-memory bus lives and dies with one process; `make run-platform` runs four services
and the workers' runner as separate processes, so they meet in a file instead. It keeps
the Service Bus behaviour the workers rely on:

- duplicate detection per entity (message id within the entity's window),
- sessions: a session-enabled queue refuses a message without a session id and hands out
  only the oldest message of a session, and only while no other message of it is locked,
- peek-lock: a receive locks one message for the entity's lock duration; completing,
  abandoning or dead-lettering needs the lock token and an unexpired lock (otherwise
  `LockLostError`, like `MessageLockLostError`); an expired lock makes it receivable again,
- delivery count (incremented by each receive) and max delivery count: a message already
  delivered that many times goes to the dead-letter sub-queue as `MaxDeliveryCountExceeded`,
- a dead-letter sub-queue per queue and per subscription, with reason and description,
- topics copy each message to every subscription whose SQL filter matches; the filters
  expressible here are `sys.Label = '<x>'` and `sys.Label IN ('<x>', ...)`, anything else is
  refused when the topology is built.
https://learn.microsoft.com/azure/service-bus-messaging/message-transfers-locks-settlement
https://learn.microsoft.com/azure/service-bus-messaging/service-bus-dead-letter-queues
https://learn.microsoft.com/azure/service-bus-messaging/duplicate-detection
https://learn.microsoft.com/azure/service-bus-messaging/service-bus-messaging-sql-filter

Message time-to-live is not modelled: local runs are short, and no entity here dead-letters
on expiry.
"""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from platform_common.messaging import BusMessage

MAX_DELIVERY_COUNT_EXCEEDED = "MaxDeliveryCountExceeded"
_LABEL_EQUALS = re.compile(r"^\s*sys\.Label\s*=\s*'([^']*)'\s*$", re.IGNORECASE)
_LABEL_IN = re.compile(r"^\s*sys\.Label\s+IN\s*\(([^)]*)\)\s*$", re.IGNORECASE)
_QUOTED = re.compile(r"^\s*'([^']*)'\s*$")


class LockLostError(RuntimeError):
    """The lock expired or the message was settled already: the settlement did not happen."""


def label_filter(sql: str | None) -> frozenset[str] | None:
    """The labels a SQL filter admits (None = all); ValueError when it is not expressible."""
    if sql is None or sql.strip() in ("1=1", "1 = 1"):
        return None
    if match := _LABEL_EQUALS.match(sql):
        return frozenset({match.group(1)})
    if match := _LABEL_IN.match(sql):
        labels = []
        for item in match.group(1).split(","):
            quoted = _QUOTED.match(item)
            if quoted is None:
                raise ValueError(f"SQL filter {sql!r}: {item.strip()!r} is not a quoted string")
            labels.append(quoted.group(1))
        return frozenset(labels)
    raise ValueError(
        f"SQL filter {sql!r} is not supported by the local bus; "
        "allowed: sys.Label = '<x>', sys.Label IN ('<x>', ...), 1=1 or none"
    )


@dataclass(frozen=True)
class LocalSubscription:
    name: str
    lock_seconds: float
    max_delivery_count: int
    sql_filter: str | None = None

    def admits(self, subject: str) -> bool:
        labels = label_filter(self.sql_filter)
        return labels is None or subject in labels


@dataclass(frozen=True)
class LocalQueue:
    name: str
    lock_seconds: float
    max_delivery_count: int
    requires_session: bool = False
    duplicate_detection_seconds: float | None = None


@dataclass(frozen=True)
class LocalTopic:
    name: str
    subscriptions: tuple[LocalSubscription, ...]
    duplicate_detection_seconds: float | None = None


@dataclass(frozen=True)
class Topology:
    """The entities the bus knows, by name; checked against infra/messaging/entities.py."""

    queues: Mapping[str, LocalQueue]
    topics: Mapping[str, LocalTopic]

    def __post_init__(self) -> None:
        for topic in self.topics.values():
            for subscription in topic.subscriptions:
                label_filter(subscription.sql_filter)  # refuse what cannot be expressed

    def receivable(self, entity: str, subscription: str | None) -> tuple[float, int, bool]:
        """(lock seconds, max delivery count, sessions) of a queue or topic subscription."""
        if subscription is None:
            if entity not in self.queues:
                raise ValueError(f"unknown queue {entity!r}; known: {sorted(self.queues)}")
            queue = self.queues[entity]
            return queue.lock_seconds, queue.max_delivery_count, queue.requires_session
        if entity not in self.topics:
            raise ValueError(f"unknown topic {entity!r}; known: {sorted(self.topics)}")
        for sub in self.topics[entity].subscriptions:
            if sub.name == subscription:
                return sub.lock_seconds, sub.max_delivery_count, False
        names = sorted(s.name for s in self.topics[entity].subscriptions)
        raise ValueError(f"unknown subscription {subscription!r} of {entity!r}; known: {names}")


def _minutes(value: float) -> float:
    return value * 60.0


# The platform's entities as infra/messaging/entities.py declares them (a test keeps the two
# equal); the services cannot import the infra package, which is not shipped with them.
PLATFORM_TOPOLOGY = Topology(
    queues={
        "orders-queue": LocalQueue(
            "orders-queue",
            lock_seconds=_minutes(1),
            max_delivery_count=5,
            requires_session=True,
            duplicate_detection_seconds=_minutes(10),
        ),
        "etl-queue": LocalQueue("etl-queue", lock_seconds=_minutes(5), max_delivery_count=3),
        "thirdparty-queue": LocalQueue(
            "thirdparty-queue", lock_seconds=_minutes(2), max_delivery_count=10
        ),
        "audit-queue": LocalQueue(
            "audit-queue",
            lock_seconds=_minutes(1),
            max_delivery_count=10,
            duplicate_detection_seconds=_minutes(10),
        ),
    },
    topics={
        "events-topic": LocalTopic(
            "events-topic",
            duplicate_detection_seconds=_minutes(10),
            subscriptions=(
                LocalSubscription("topic-worker", lock_seconds=_minutes(1), max_delivery_count=5),
                LocalSubscription(
                    "notifications",
                    lock_seconds=_minutes(1),
                    max_delivery_count=5,
                    sql_filter=(
                        "sys.Label IN ('OrderFilled', 'OrderCancelled', 'OrderRejected', "
                        "'SettlementSettled', 'SettlementFailed')"
                    ),
                ),
                LocalSubscription(
                    "erasure",
                    lock_seconds=_minutes(1),
                    max_delivery_count=10,
                    sql_filter="sys.Label = 'UserErased'",
                ),
            ),
        ),
        "notifications-topic": LocalTopic(
            "notifications-topic",
            subscriptions=(
                LocalSubscription("notifier", lock_seconds=_minutes(1), max_delivery_count=5),
            ),
        ),
    },
)


@dataclass(frozen=True)
class ReceivedMessage:
    """A locked message: settle it with its lock token before `locked_until`."""

    message: BusMessage
    entity: str
    subscription: str | None
    sequence_number: int
    delivery_count: int
    enqueued_time: float
    lock_token: str
    locked_until: float
    dead_letter_reason: str | None = None
    dead_letter_description: str | None = None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,            -- queue name, or topic/subscription
    dead_letter INTEGER NOT NULL DEFAULT 0,
    message_id TEXT NOT NULL,
    session_id TEXT,
    subject TEXT NOT NULL,
    correlation_id TEXT,
    content_type TEXT NOT NULL,
    body TEXT NOT NULL,
    enqueued_at REAL NOT NULL,
    delivery_count INTEGER NOT NULL DEFAULT 0,
    lock_token TEXT,
    locked_until REAL NOT NULL DEFAULT 0,
    dead_letter_reason TEXT,
    dead_letter_description TEXT
);
CREATE INDEX IF NOT EXISTS messages_receive ON messages (entity, dead_letter, seq);
CREATE TABLE IF NOT EXISTS duplicates (
    entity TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seen_at REAL NOT NULL,
    PRIMARY KEY (entity, message_id)
);
"""


_NEXT_MESSAGE = (
    "SELECT * FROM messages m WHERE m.entity = ? AND m.dead_letter = 0 AND m.locked_until <= ?"
    " ORDER BY m.seq LIMIT 1"
)
# A session's head (its oldest message), and only while none of its messages is locked.
_NEXT_SESSION_HEAD = (
    "SELECT * FROM messages m WHERE m.entity = ? AND m.dead_letter = 0 AND m.locked_until <= ?"
    " AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.entity = m.entity AND o.dead_letter = 0"
    " AND o.session_id = m.session_id AND o.seq < m.seq)"
    " ORDER BY m.seq LIMIT 1"
)


def _key(entity: str, subscription: str | None) -> str:
    return entity if subscription is None else f"{entity}/{subscription}"


@dataclass
class LocalFileBus:
    """The MessageBus protocol, plus receive and settlement, over one SQLite file."""

    path: Path
    topology: Topology = PLATFORM_TOPOLOGY
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)  # IF NOT EXISTS: every process may run it

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=30000")
            db.row_factory = sqlite3.Row
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction (BEGIN IMMEDIATE): processes take turns, none sees half."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # --- MessageBus -------------------------------------------------------------------------
    def send(self, destination: str, message: BusMessage) -> None:
        """Enqueue on a queue, or a copy on each matching subscription of a topic."""
        now = self.clock()
        if destination in self.topology.queues:
            queue = self.topology.queues[destination]
            if queue.requires_session and not message.session_id:
                raise ValueError(
                    f"{destination!r} requires sessions: message {message.message_id!r} "
                    "has no session id"
                )
            window = queue.duplicate_detection_seconds
            targets = [destination]
        elif destination in self.topology.topics:
            topic = self.topology.topics[destination]
            window = topic.duplicate_detection_seconds
            targets = [
                _key(destination, s.name) for s in topic.subscriptions if s.admits(message.subject)
            ]
        else:
            known = sorted([*self.topology.queues, *self.topology.topics])
            raise ValueError(f"unknown entity {destination!r}; known: {known}")
        with self._transaction() as db:
            if window is not None:
                db.execute(
                    "DELETE FROM duplicates WHERE entity = ? AND seen_at < ?",
                    (destination, now - window),
                )
                inserted = db.execute(
                    "INSERT OR IGNORE INTO duplicates (entity, message_id, seen_at)"
                    " VALUES (?, ?, ?)",
                    (destination, message.message_id, now),
                )
                if inserted.rowcount == 0:
                    return  # a duplicate within the window: dropped, like Service Bus
            db.executemany(
                "INSERT INTO messages (entity, message_id, session_id, subject, correlation_id,"
                " content_type, body, enqueued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        target,
                        message.message_id,
                        message.session_id,
                        message.subject,
                        message.correlation_id,
                        message.content_type,
                        message.body,
                        now,
                    )
                    for target in targets
                ],
            )

    def is_ready(self) -> bool:
        try:
            with self._transaction() as db:
                db.execute("SELECT 1 FROM messages LIMIT 1")
            return True
        except sqlite3.Error:
            return False

    def close(self) -> None:
        return None

    # --- receiving and settling -------------------------------------------------------------
    def receive(self, entity: str, subscription: str | None = None) -> ReceivedMessage | None:
        """Peek-lock the next message (the head of an unlocked session), or None."""
        lock_seconds, max_delivery_count, sessions = self.topology.receivable(entity, subscription)
        key = _key(entity, subscription)
        with self._transaction() as db:
            while True:
                now = self.clock()
                row = db.execute(
                    _NEXT_SESSION_HEAD if sessions else _NEXT_MESSAGE, (key, now)
                ).fetchone()
                if row is None:
                    return None
                if row["delivery_count"] >= max_delivery_count:
                    db.execute(
                        "UPDATE messages SET dead_letter = 1, lock_token = NULL, locked_until = 0,"
                        " dead_letter_reason = ?, dead_letter_description = ? WHERE seq = ?",
                        (
                            MAX_DELIVERY_COUNT_EXCEEDED,
                            f"delivered {row['delivery_count']} times "
                            f"(max delivery count {max_delivery_count})",
                            row["seq"],
                        ),
                    )
                    continue
                token = str(uuid.uuid4())
                locked_until = now + lock_seconds
                db.execute(
                    "UPDATE messages SET delivery_count = delivery_count + 1, lock_token = ?,"
                    " locked_until = ? WHERE seq = ?",
                    (token, locked_until, row["seq"]),
                )
                return self._received(
                    row,
                    entity,
                    subscription,
                    delivery_count=row["delivery_count"] + 1,
                    token=token,
                    locked_until=locked_until,
                )

    def complete(self, received: ReceivedMessage) -> None:
        with self._transaction() as db:
            self._check_lock(db, received)
            db.execute("DELETE FROM messages WHERE seq = ?", (received.sequence_number,))

    def abandon(self, received: ReceivedMessage) -> None:
        """Unlock for a redelivery (the delivery count stays, so the max still applies)."""
        with self._transaction() as db:
            self._check_lock(db, received)
            db.execute(
                "UPDATE messages SET lock_token = NULL, locked_until = 0 WHERE seq = ?",
                (received.sequence_number,),
            )

    def dead_letter(self, received: ReceivedMessage, reason: str, description: str) -> None:
        with self._transaction() as db:
            self._check_lock(db, received)
            db.execute(
                "UPDATE messages SET dead_letter = 1, lock_token = NULL, locked_until = 0,"
                " dead_letter_reason = ?, dead_letter_description = ? WHERE seq = ?",
                (reason, description, received.sequence_number),
            )

    def renew_lock(self, received: ReceivedMessage) -> ReceivedMessage:
        """Extend the lock by the entity's lock duration (what the Functions host does)."""
        lock_seconds, _, _ = self.topology.receivable(received.entity, received.subscription)
        with self._transaction() as db:
            self._check_lock(db, received)
            locked_until = self.clock() + lock_seconds
            db.execute(
                "UPDATE messages SET locked_until = ? WHERE seq = ?",
                (locked_until, received.sequence_number),
            )
        return ReceivedMessage(**{**received.__dict__, "locked_until": locked_until})

    def peek(
        self, entity: str, subscription: str | None = None, *, dead_letter: bool = False
    ) -> list[ReceivedMessage]:
        """The messages (or dead letters) of an entity, oldest first, without locking them."""
        self.topology.receivable(entity, subscription)
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM messages WHERE entity = ? AND dead_letter = ? ORDER BY seq",
                (_key(entity, subscription), int(dead_letter)),
            ).fetchall()
        return [
            self._received(
                row,
                entity,
                subscription,
                delivery_count=row["delivery_count"],
                token="",
                locked_until=0.0,
            )
            for row in rows
        ]

    def _check_lock(self, db: sqlite3.Connection, received: ReceivedMessage) -> None:
        row = db.execute(
            "SELECT lock_token, locked_until, dead_letter FROM messages WHERE seq = ?",
            (received.sequence_number,),
        ).fetchone()
        if row is None or row["dead_letter"] or row["lock_token"] != received.lock_token:
            raise LockLostError(
                f"message {received.message.message_id!r} on "
                f"{_key(received.entity, received.subscription)} is no longer locked by this"
                " receiver (settled, or its lock expired and it was received again)"
            )
        if row["locked_until"] <= self.clock():
            raise LockLostError(
                f"the lock on message {received.message.message_id!r} expired before settlement"
            )

    @staticmethod
    def _received(
        row: sqlite3.Row,
        entity: str,
        subscription: str | None,
        *,
        delivery_count: int,
        token: str,
        locked_until: float,
    ) -> ReceivedMessage:
        return ReceivedMessage(
            message=BusMessage(
                message_id=row["message_id"],
                subject=row["subject"],
                body=row["body"],
                correlation_id=row["correlation_id"],
                content_type=row["content_type"],
                session_id=row["session_id"],
            ),
            entity=entity,
            subscription=subscription,
            sequence_number=row["seq"],
            delivery_count=delivery_count,
            enqueued_time=row["enqueued_at"],
            lock_token=token,
            locked_until=locked_until,
            dead_letter_reason=row["dead_letter_reason"],
            dead_letter_description=row["dead_letter_description"],
        )
