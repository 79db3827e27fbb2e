"""Messaging layer: Service Bus namespace, queues, topics, subscriptions and per-entity grants."""

from infra.messaging.component import Messaging, MessagingArgs
from infra.messaging.entities import (
    AUDIT_QUEUE,
    ENTITIES,
    ERASURE_SUBSCRIPTION,
    GRANTS,
    NOTIFIABLE_EVENTS,
    USER_ERASED_EVENT,
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
    "AUDIT_QUEUE",
    "ENTITIES",
    "ERASURE_SUBSCRIPTION",
    "GRANTS",
    "NOTIFIABLE_EVENTS",
    "USER_ERASED_EVENT",
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
