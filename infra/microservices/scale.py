"""KEDA scale rules of the services' Container Apps: HTTP concurrency and Service Bus backlog."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import app

from infra.microservices.services import BusConsumer

SERVICEBUS_SCALER = "azure-servicebus"


def http_scale_rule(concurrent_requests: int) -> app.ScaleRuleArgs:
    """One more replica per `concurrent_requests` requests in flight.

    https://learn.microsoft.com/azure/container-apps/scale-app#http
    """
    return app.ScaleRuleArgs(
        name="http-concurrency",
        http=app.HttpScaleRuleArgs(metadata={"concurrentRequests": str(concurrent_requests)}),
    )


def servicebus_scale_rule(
    consumer: BusConsumer,
    *,
    namespace_name: pulumi.Input[str],
    identity_id: pulumi.Input[str],
) -> app.ScaleRuleArgs:
    """KEDA's azure-servicebus scaler, authenticated as the app's user-assigned identity.

    `identity` takes the identity's resource id, so no connection string (and no secret)
    exists for the scaler; the identity needs a data-plane role on the namespace to read
    the entity's message count (Azure Service Bus Data Receiver or Owner).
    https://learn.microsoft.com/azure/container-apps/scale-app#authentication
    https://keda.sh/docs/latest/scalers/azure-service-bus/ (metadata names)
    """
    metadata: dict[str, pulumi.Input[str]] = {
        "namespace": namespace_name,
        "messageCount": str(consumer.message_count),
    }
    if consumer.queue is not None:
        metadata["queueName"] = consumer.queue
        entity = consumer.queue
    elif consumer.topic is not None and consumer.subscription is not None:
        metadata["topicName"] = consumer.topic
        metadata["subscriptionName"] = consumer.subscription
        entity = f"{consumer.topic}-{consumer.subscription}"
    else:  # BusConsumer refuses this shape; kept for the type checker
        raise ValueError("a Service Bus consumer names a queue, or a topic and subscription")
    return app.ScaleRuleArgs(
        name=f"sb-{entity}",
        custom=app.CustomScaleRuleArgs(
            type=SERVICEBUS_SCALER, metadata=metadata, identity=identity_id
        ),
    )
