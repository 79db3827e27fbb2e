"""The Service Bus namespace and the resources of the entity table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import servicebus

from config.settings import ServiceBusSku
from infra.messaging.entities import QueueSpec, SubscriptionSpec, TopicSpec

# Premium accepts up to 100 MB per message; keep the 1 MB default explicit so a portal
# change shows as drift. Large payloads go to blob storage and travel as a reference.
# https://learn.microsoft.com/azure/service-bus-messaging/service-bus-premium-messaging#large-messages-support
PREMIUM_MAX_MESSAGE_SIZE_KB = 1024


@dataclass(frozen=True)
class NamespaceArgs:
    """What the namespace needs; `private` turns public network access off."""

    azure_name: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    location: str
    sku: ServiceBusSku
    private: bool
    tags: Mapping[str, str]
    # Geo-replication (Premium): the region of the secondary replica and the largest lag
    # the primary tolerates before it refuses writes; None: one region only.
    replica_region: str | None = None
    max_replication_lag_seconds: int = 300


def namespace_sku(sku: ServiceBusSku) -> servicebus.SBSkuArgs:
    """Standard, or Premium with one messaging unit in one partition.

    Basic has no topics, sessions or duplicate detection, which the entity table needs.
    https://learn.microsoft.com/azure/service-bus-messaging/service-bus-premium-messaging
    """
    if sku is ServiceBusSku.BASIC:
        raise ValueError(
            "Service Bus Basic has no topics, sessions or duplicate detection; "
            "the messaging layer needs Standard or Premium"
        )
    premium = sku is ServiceBusSku.PREMIUM
    return servicebus.SBSkuArgs(
        name=servicebus.SkuName(sku.value),
        tier=servicebus.SkuTier(sku.value),
        capacity=1 if premium else None,
    )


def create_namespace(
    name: str, args: NamespaceArgs, *, parent: pulumi.Resource
) -> servicebus.Namespace:
    premium = args.sku is ServiceBusSku.PREMIUM
    return servicebus.Namespace(
        f"{name}-sb",
        namespace_name=args.azure_name,
        resource_group_name=args.resource_group_name,
        location=args.location,
        sku=namespace_sku(args.sku),
        # Fixed at creation; the capacity (messaging units) must be a multiple of it.
        premium_messaging_partitions=1 if premium else None,
        # Entra ID only: no SAS keys, so no connection string exists to leak.
        # https://learn.microsoft.com/azure/service-bus-messaging/disable-local-authentication
        disable_local_auth=True,
        minimum_tls_version="1.2",
        # With private endpoints the namespace is reachable only through its endpoint in
        # the integration subnet. Private endpoints need Premium (settings enforce it).
        # https://learn.microsoft.com/azure/service-bus-messaging/private-link-service
        public_network_access="Disabled" if args.private else "Enabled",
        # Zone redundancy is a Premium feature; Standard is left to the platform default.
        # https://learn.microsoft.com/azure/reliability/reliability-service-bus
        zone_redundant=True if premium else None,
        # Messages and metadata replicated to a second region, promoted by the operator on a
        # region loss (docs/runbook.md#region-loss).
        # https://learn.microsoft.com/azure/service-bus-messaging/service-bus-geo-replication
        geo_data_replication=(
            servicebus.GeoDataReplicationPropertiesArgs(
                locations=[
                    servicebus.NamespaceReplicaLocationArgs(
                        location_name=args.location, role_type=servicebus.GeoDRRoleType.PRIMARY
                    ),
                    servicebus.NamespaceReplicaLocationArgs(
                        location_name=args.replica_region,
                        role_type=servicebus.GeoDRRoleType.SECONDARY,
                    ),
                ],
                max_replication_lag_duration_in_seconds=args.max_replication_lag_seconds,
            )
            if premium and args.replica_region is not None
            else None
        ),
        tags=dict(args.tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def create_network_rule_set(
    name: str,
    *,
    namespace: servicebus.Namespace,
    resource_group_name: pulumi.Input[str],
    sku: ServiceBusSku,
    private: bool,
    allowed_ip_ranges: Sequence[pulumi.Input[str]],
) -> servicebus.NamespaceNetworkRuleSet:
    """The namespace's firewall: deny by default, admit the operator ranges and the
    platform's egress address where the namespace keeps public access.

    Standard supports IP firewall rules but not the trusted-services exception, and virtual
    network rules (service endpoints) and private endpoints need Premium:
    https://learn.microsoft.com/azure/service-bus-messaging/service-bus-ip-filtering
    Deny with no IP rule at all is enforced as Allow, so the messaging layer refuses a
    public namespace with nothing to admit (Azure would leave it open to every network).
    """
    premium = sku is ServiceBusSku.PREMIUM
    return servicebus.NamespaceNetworkRuleSet(
        f"{name}-sb-network",
        namespace_name=namespace.name,
        resource_group_name=resource_group_name,
        default_action=servicebus.DefaultAction.DENY,
        # The same switch as the namespace's: Disabled where the private endpoint is the way in.
        public_network_access=(
            servicebus.PublicNetworkAccessFlag.DISABLED
            if private
            else servicebus.PublicNetworkAccessFlag.ENABLED
        ),
        ip_rules=(
            []
            if private
            else [
                servicebus.NWRuleSetIpRulesArgs(
                    ip_mask=ip, action=servicebus.NetworkRuleIPAction.ALLOW
                )
                for ip in allowed_ip_ranges
            ]
        ),
        # Premium only; on Standard the option does not exist (left unset, Azure's false).
        trusted_service_access_enabled=True if premium else None,
        opts=pulumi.ResourceOptions(parent=namespace),
    )


def create_queue(
    name: str,
    spec: QueueSpec,
    *,
    namespace: servicebus.Namespace,
    resource_group_name: pulumi.Input[str],
    premium: bool,
) -> servicebus.Queue:
    return servicebus.Queue(
        f"{name}-sbq-{spec.name}",
        queue_name=spec.name,
        namespace_name=namespace.name,
        resource_group_name=resource_group_name,
        lock_duration=spec.lock_duration,
        max_delivery_count=spec.max_delivery_count,
        default_message_time_to_live=spec.default_message_time_to_live,
        dead_lettering_on_message_expiration=True,
        requires_session=spec.requires_session,
        requires_duplicate_detection=spec.requires_duplicate_detection,
        duplicate_detection_history_time_window=spec.duplicate_detection_window,
        max_message_size_in_kilobytes=PREMIUM_MAX_MESSAGE_SIZE_KB if premium else None,
        opts=pulumi.ResourceOptions(parent=namespace),
    )


def create_topic(
    name: str,
    spec: TopicSpec,
    *,
    namespace: servicebus.Namespace,
    resource_group_name: pulumi.Input[str],
    premium: bool,
) -> servicebus.Topic:
    return servicebus.Topic(
        f"{name}-sbt-{spec.name}",
        topic_name=spec.name,
        namespace_name=namespace.name,
        resource_group_name=resource_group_name,
        default_message_time_to_live=spec.default_message_time_to_live,
        requires_duplicate_detection=spec.requires_duplicate_detection,
        duplicate_detection_history_time_window=spec.duplicate_detection_window,
        max_message_size_in_kilobytes=PREMIUM_MAX_MESSAGE_SIZE_KB if premium else None,
        opts=pulumi.ResourceOptions(parent=namespace),
    )


def create_subscription(
    name: str,
    spec: SubscriptionSpec,
    *,
    topic_spec: TopicSpec,
    topic: servicebus.Topic,
    namespace: servicebus.Namespace,
    resource_group_name: pulumi.Input[str],
) -> servicebus.Subscription:
    """A subscription, with its `$Default` rule narrowed to the spec's SQL filter if any.

    Azure gives every new subscription a `$Default` rule that matches everything, and a
    message reaches the subscription if any rule matches: adding a filtered `Rule` beside
    it would filter nothing. `DefaultRule` manages `$Default` itself and replaces its
    filter. https://learn.microsoft.com/azure/service-bus-messaging/topic-filters
    """
    logical = f"{name}-sbs-{topic_spec.name}-{spec.name}"
    subscription = servicebus.Subscription(
        logical,
        subscription_name=spec.name,
        topic_name=topic.name,
        namespace_name=namespace.name,
        resource_group_name=resource_group_name,
        lock_duration=spec.lock_duration,
        max_delivery_count=spec.max_delivery_count,
        default_message_time_to_live=spec.default_message_time_to_live,
        dead_lettering_on_message_expiration=True,
        # A message whose filter throws goes to the DLQ with the error, not silently away.
        dead_lettering_on_filter_evaluation_exceptions=True,
        opts=pulumi.ResourceOptions(parent=topic),
    )
    if spec.sql_filter is not None:
        servicebus.DefaultRule(
            f"{logical}-filter",
            subscription_name=subscription.name,
            topic_name=topic.name,
            namespace_name=namespace.name,
            resource_group_name=resource_group_name,
            filter_type=servicebus.FilterType.SQL_FILTER,
            sql_filter=servicebus.SqlFilterArgs(sql_expression=spec.sql_filter),
            opts=pulumi.ResourceOptions(parent=subscription),
        )
    return subscription
