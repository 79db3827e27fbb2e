"""Messaging layer: Service Bus namespace, queues, topics, subscriptions and per-entity grants."""

from infra.messaging.component import Messaging, MessagingArgs
from infra.messaging.entities import (
    ENTITIES,
    GRANTS,
    NOTIFIABLE_EVENTS,
    Access,
    Grant,
    QueueSpec,
    SubscriptionSpec,
    TopicSpec,
    check_tables,
    entity_targets,
    queues,
    topics,
)
from infra.messaging.servicebus import namespace_sku

__all__ = [
    "ENTITIES",
    "GRANTS",
    "NOTIFIABLE_EVENTS",
    "Access",
    "Grant",
    "Messaging",
    "MessagingArgs",
    "QueueSpec",
    "SubscriptionSpec",
    "TopicSpec",
    "check_tables",
    "entity_targets",
    "namespace_sku",
    "queues",
    "topics",
]
