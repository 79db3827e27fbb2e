"""The platform's queues, topics and subscriptions, and who may send or receive on each.

Durations are ISO 8601. `requires_session` and `requires_duplicate_detection` are fixed
when an entity is created: changing either in this table replaces the entity, and the
messages in it are lost. https://learn.microsoft.com/azure/service-bus-messaging/enable-duplicate-detection

There is no separate dead-letter queue (seed 003's `dlq-queue`): every queue and every
subscription has its own `$DeadLetterQueue` sub-queue, which keeps the reason and the
original entity with each message and is alerted on per entity. A shared DLQ would lose
both and needs a forwarding rule on every entity to fill it.
https://learn.microsoft.com/azure/service-bus-messaging/service-bus-dead-letter-queues
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from infra.security.managed_identity import Workload

# Service Bus caps lock durations at five minutes.
MAX_LOCK_DURATION_SECONDS = 300

# Events the notifier tells people about. The producers (services/*: platform_common.outbox)
# put the event type in the message subject, which SQL filters read as `sys.Label`.
NOTIFIABLE_EVENTS = (
    "OrderFilled",
    "OrderCancelled",
    "OrderRejected",
    "SettlementSettled",
    "SettlementFailed",
)


@dataclass(frozen=True)
class SubscriptionSpec:
    """One topic subscription: a consumer's own copy of the topic's messages."""

    name: str
    purpose: str
    lock_duration: str
    max_delivery_count: int
    default_message_time_to_live: str
    # SQL filter replacing the subscription's `$Default` (match-all) rule; None keeps all.
    # https://learn.microsoft.com/azure/service-bus-messaging/service-bus-messaging-sql-filter
    sql_filter: str | None = None


@dataclass(frozen=True)
class QueueSpec:
    """One queue: point-to-point work for a single consumer."""

    name: str
    purpose: str
    # Environment variable through which the services and workers learn the entity name.
    setting: str
    lock_duration: str
    max_delivery_count: int
    default_message_time_to_live: str
    requires_session: bool = False
    requires_duplicate_detection: bool = False
    duplicate_detection_window: str | None = None


@dataclass(frozen=True)
class TopicSpec:
    """One topic and its subscriptions: publish once, every subscription gets a copy."""

    name: str
    purpose: str
    setting: str
    default_message_time_to_live: str
    subscriptions: tuple[SubscriptionSpec, ...]
    requires_duplicate_detection: bool = False
    duplicate_detection_window: str | None = None


ORDERS_QUEUE = "orders-queue"
ETL_QUEUE = "etl-queue"
THIRDPARTY_QUEUE = "thirdparty-queue"
AUDIT_QUEUE = "audit-queue"
EVENTS_TOPIC = "events-topic"
NOTIFICATIONS_TOPIC = "notifications-topic"
TOPIC_WORKER_SUBSCRIPTION = "topic-worker"
NOTIFICATIONS_SUBSCRIPTION = "notifications"
NOTIFIER_SUBSCRIPTION = "notifier"
ERASURE_SUBSCRIPTION = "erasure"
# users-api publishes it when an admin erases a user (issue 18); the workers propagate it.
USER_ERASED_EVENT = "UserErased"

ENTITIES: tuple[QueueSpec | TopicSpec, ...] = (
    QueueSpec(
        name=ORDERS_QUEUE,
        purpose="Order commands (create, amend, cancel) from the orders API to the queue worker.",
        setting="SERVICEBUS_ORDERS_QUEUE",
        lock_duration="PT1M",
        max_delivery_count=5,
        # A command still unprocessed after a trading day must not be acted on: it
        # dead-letters for a person to decide.
        default_message_time_to_live="P1D",
        # One session per order (SessionId = order id): the commands of one order are
        # handled one at a time and in order, different orders in parallel. Producers must
        # set SessionId; Basic has no sessions, which settings already forbid.
        # https://learn.microsoft.com/azure/service-bus-messaging/message-sessions
        requires_session=True,
        # The outbox re-sends with the same message id after a crash; this drops the copy.
        requires_duplicate_detection=True,
        duplicate_detection_window="PT10M",
    ),
    QueueSpec(
        name=ETL_QUEUE,
        purpose="One ETL job per reference-data file (FIRDS, LEI, ISIN), fanned out by the timer.",
        setting="SERVICEBUS_ETL_QUEUE",
        # Parsing a FIRDS file takes minutes; the worker renews the lock beyond this.
        lock_duration="PT5M",
        # A file that fails three times is broken, not unlucky: dead-letter it.
        max_delivery_count=3,
        # The next scheduled run re-queues anything older than a day.
        default_message_time_to_live="P1D",
    ),
    QueueSpec(
        name=THIRDPARTY_QUEUE,
        purpose="Calls to third-party APIs (GLEIF, OpenFIGI, ESMA) made through the NAT egress.",
        setting="SERVICEBUS_THIRDPARTY_QUEUE",
        lock_duration="PT2M",
        # Third parties throttle and fail transiently: retry generously before dead-lettering.
        max_delivery_count=10,
        default_message_time_to_live="P1D",
    ),
    QueueSpec(
        name=AUDIT_QUEUE,
        purpose="Audit records from every service's outbox to the workers, who write them to "
        "the immutable store (infra/audit).",
        setting="SERVICEBUS_AUDIT_QUEUE",
        lock_duration="PT1M",
        # A blob write fails transiently (throttling, a private endpoint's DNS); a record
        # must not dead-letter for that: retry generously.
        max_delivery_count=10,
        # Two weeks for the workers to come back before a record expires, and an expired
        # record dead-letters (every queue dead-letters on expiry) instead of vanishing.
        # https://learn.microsoft.com/azure/service-bus-messaging/message-expiration
        default_message_time_to_live="P14D",
        # The outbox re-sends a record with its id as the message id after a crash.
        requires_duplicate_detection=True,
        duplicate_detection_window="PT10M",
    ),
    TopicSpec(
        name=EVENTS_TOPIC,
        purpose="Domain events from the users, orders and payments outboxes.",
        setting="SERVICEBUS_EVENTS_TOPIC",
        default_message_time_to_live="P7D",
        requires_duplicate_detection=True,
        duplicate_detection_window="PT10M",
        subscriptions=(
            SubscriptionSpec(
                name=TOPIC_WORKER_SUBSCRIPTION,
                purpose="Every domain event, for the topic worker's projections.",
                lock_duration="PT1M",
                max_delivery_count=5,
                default_message_time_to_live="P7D",
            ),
            SubscriptionSpec(
                name=NOTIFICATIONS_SUBSCRIPTION,
                purpose="Only the events people are told about.",
                lock_duration="PT1M",
                max_delivery_count=5,
                default_message_time_to_live="P1D",
                sql_filter="sys.Label IN ({})".format(
                    ", ".join(f"'{event}'" for event in NOTIFIABLE_EVENTS)
                ),
            ),
            SubscriptionSpec(
                name=ERASURE_SUBSCRIPTION,
                purpose="User erasures, for the workers to propagate to orders and payments.",
                lock_duration="PT1M",
                # The propagation calls two services over HTTP; retry generously before a
                # person has to re-run an erasure from the dead-letter queue.
                max_delivery_count=10,
                # As long as the topic keeps events: an erasure must not expire unseen.
                default_message_time_to_live="P7D",
                sql_filter=f"sys.Label = '{USER_ERASED_EVENT}'",
            ),
        ),
    ),
    TopicSpec(
        name=NOTIFICATIONS_TOPIC,
        purpose="Notifications to deliver (e-mail, web push), from the workers.",
        setting="SERVICEBUS_NOTIFICATIONS_TOPIC",
        default_message_time_to_live="P1D",
        subscriptions=(
            SubscriptionSpec(
                name=NOTIFIER_SUBSCRIPTION,
                purpose="Every notification, for the notifier function.",
                lock_duration="PT1M",
                max_delivery_count=5,
                default_message_time_to_live="P1D",
            ),
        ),
    ),
)


def queues() -> tuple[QueueSpec, ...]:
    return tuple(e for e in ENTITIES if isinstance(e, QueueSpec))


def topics() -> tuple[TopicSpec, ...]:
    return tuple(e for e in ENTITIES if isinstance(e, TopicSpec))


class Access(StrEnum):
    """Data-plane access: Azure Service Bus Data Sender or Data Receiver, nothing wider."""

    SEND = "send"
    RECEIVE = "receive"


@dataclass(frozen=True)
class Grant:
    """One workload's access to one entity.

    Senders are granted on the queue or topic they send to. Receivers are granted on the
    queue, or on the topic subscription they read: Azure RBAC takes a subscription as a
    scope (only the portal cannot pick one), and the Functions Service Bus trigger needs a
    grant that covers the subscription. A topic-wide grant would let the notifier read the
    topic worker's copy as well.
    https://learn.microsoft.com/azure/service-bus-messaging/service-bus-managed-service-identity#resource-scope
    https://learn.microsoft.com/azure/azure-functions/functions-reference#grant-permission-to-the-identity
    """

    workload: Workload
    access: Access
    entity: str
    subscription: str | None = None
    why: str = ""

    @property
    def target(self) -> str:
        """`queue`, `topic` or `topic/subscription`: the key of the entity's id."""
        return f"{self.entity}/{self.subscription}" if self.subscription else self.entity


# Who sends and receives where, from the services' code and the Functions app's triggers.
# The gateway uses no Service Bus, so it gets nothing; add a row when it starts to.
GRANTS: tuple[Grant, ...] = (
    Grant(Workload.ORDERS, Access.SEND, ORDERS_QUEUE, why="orders API queues order commands"),
    Grant(Workload.ORDERS, Access.SEND, EVENTS_TOPIC, why="orders outbox publishes order events"),
    Grant(
        Workload.PAYMENTS, Access.SEND, EVENTS_TOPIC, why="payments outbox publishes settlements"
    ),
    Grant(Workload.USERS, Access.SEND, EVENTS_TOPIC, why="users outbox publishes UserErased"),
    *(
        Grant(
            workload, Access.SEND, AUDIT_QUEUE, why=f"{workload.value} outbox ships audit records"
        )
        for workload in (Workload.USERS, Workload.PRODUCTS, Workload.ORDERS, Workload.PAYMENTS)
    ),
    Grant(Workload.WORKERS, Access.RECEIVE, AUDIT_QUEUE, why="workers write records to the store"),
    Grant(
        Workload.WORKERS,
        Access.RECEIVE,
        EVENTS_TOPIC,
        ERASURE_SUBSCRIPTION,
        why="workers propagate erasures to orders and payments",
    ),
    Grant(Workload.WORKERS, Access.RECEIVE, ORDERS_QUEUE, why="queue worker processes orders"),
    Grant(Workload.WORKERS, Access.SEND, ETL_QUEUE, why="ETL timer fans out one job per file"),
    Grant(Workload.WORKERS, Access.RECEIVE, ETL_QUEUE, why="ETL processor runs each job"),
    Grant(Workload.WORKERS, Access.SEND, THIRDPARTY_QUEUE, why="workers queue third-party calls"),
    Grant(Workload.WORKERS, Access.RECEIVE, THIRDPARTY_QUEUE, why="third-party sync makes them"),
    Grant(
        Workload.WORKERS,
        Access.RECEIVE,
        EVENTS_TOPIC,
        TOPIC_WORKER_SUBSCRIPTION,
        why="topic worker consumes every domain event",
    ),
    Grant(
        Workload.WORKERS,
        Access.RECEIVE,
        EVENTS_TOPIC,
        NOTIFICATIONS_SUBSCRIPTION,
        why="notifier turns notifiable events into notifications",
    ),
    Grant(Workload.WORKERS, Access.SEND, NOTIFICATIONS_TOPIC, why="workers raise notifications"),
    Grant(
        Workload.WORKERS,
        Access.RECEIVE,
        NOTIFICATIONS_TOPIC,
        NOTIFIER_SUBSCRIPTION,
        why="notifier delivers notifications",
    ),
)


def entity_targets(
    entities: tuple[QueueSpec | TopicSpec, ...] = ENTITIES,
) -> dict[str, str]:
    """Every grantable target (`queue`, `topic`, `topic/subscription`) and its kind."""
    targets: dict[str, str] = {}
    for entity in entities:
        if isinstance(entity, QueueSpec):
            targets[entity.name] = "queue"
            continue
        targets[entity.name] = "topic"
        for sub in entity.subscriptions:
            targets[f"{entity.name}/{sub.name}"] = "subscription"
    return targets


def check_tables(
    entities: tuple[QueueSpec | TopicSpec, ...] = ENTITIES, grants: tuple[Grant, ...] = GRANTS
) -> None:
    """Raise ValueError if the tables contradict themselves or what Service Bus accepts."""
    names = [e.name for e in entities]
    if len(set(names)) != len(names):
        raise ValueError(f"entity names must be unique within the namespace: {names}")
    targets = entity_targets(entities)
    for entity in entities:
        if entity.requires_duplicate_detection != (entity.duplicate_detection_window is not None):
            raise ValueError(
                f"{entity.name}: set duplicate_detection_window exactly when duplicate "
                "detection is on"
            )
        locks = (
            [(entity.name, entity.lock_duration)]
            if isinstance(entity, QueueSpec)
            else [(f"{entity.name}/{s.name}", s.lock_duration) for s in entity.subscriptions]
        )
        for where, lock in locks:
            if _seconds(lock) > MAX_LOCK_DURATION_SECONDS:
                raise ValueError(f"{where}: lock_duration {lock} exceeds Service Bus's 5 minutes")
    for grant in grants:
        kind = targets.get(grant.target)
        if kind is None:
            raise ValueError(f"grant to unknown entity {grant.target!r}")
        if grant.access is Access.SEND and kind == "subscription":
            raise ValueError(f"{grant.target}: send to the topic, not to a subscription")
        if grant.access is Access.RECEIVE and kind == "topic":
            raise ValueError(
                f"{grant.workload.value} receives on topic {grant.target}: grant on the "
                "subscription it reads instead"
            )
    seen = [(g.workload, g.access, g.target) for g in grants]
    if len(set(seen)) != len(seen):
        raise ValueError("a grant is listed twice")


def _seconds(duration: str) -> int:
    """Seconds in a time-only ISO 8601 duration such as PT5M or PT30S."""
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", duration)
    if not match or not any(match.groups()):
        raise ValueError(f"lock duration {duration!r} is not an ISO 8601 time such as PT1M")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds
