"""The messaging layer: one Service Bus namespace, its entity table and per-entity grants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from config.settings import ServiceBusSku, SubnetName, secondary_region
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.messaging.entities import (
    ENTITIES,
    GRANTS,
    Access,
    QueueSpec,
    check_tables,
)
from infra.messaging.servicebus import (
    NamespaceArgs,
    create_namespace,
    create_network_rule_set,
    create_queue,
    create_subscription,
    create_topic,
)
from infra.networking.private_endpoints import (
    PrivateEndpointSite,
    PrivateLink,
    add_private_endpoint,
)
from infra.observability.alerts import AlertContext, service_bus_alerts
from infra.observability.diagnostics import add_diagnostic_setting
from infra.security.managed_identity import Workload, WorkloadIdentity
from infra.security.rbac import BuiltInRole, assign_role

ROLES = {
    Access.SEND: BuiltInRole.SERVICE_BUS_DATA_SENDER,
    Access.RECEIVE: BuiltInRole.SERVICE_BUS_DATA_RECEIVER,
}


@dataclass(frozen=True)
class MessagingArgs:
    """What the messaging layer needs from settings and from the layers before it."""

    placement: Placement
    identities: Mapping[Workload, WorkloadIdentity]
    subscription_id: pulumi.Input[str]
    private_endpoint_site: PrivateEndpointSite | None
    workspace_id: pulumi.Input[str]
    alert_context: AlertContext
    allowed_ip_ranges: Sequence[pulumi.Input[str]] = ()
    """Operator ranges and the platform's egress address: what the namespace's firewall
    admits where it keeps public access (no private endpoint)."""


class Messaging(pulumi.ComponentResource):
    """Service Bus reachable only with Entra ID, each workload granted only its entities."""

    namespace_id: pulumi.Output[str]
    """ARM id of the namespace (diagnostics, alerts)."""
    namespace_name: pulumi.Output[str]
    """Azure name of the namespace."""
    fully_qualified_namespace: pulumi.Output[str]
    """<namespace>.servicebus.windows.net: SERVICEBUS_FULLY_QUALIFIED_NAMESPACE for the
    services, `<connection>__fullyQualifiedNamespace` for the Functions app."""
    queue_ids: dict[str, pulumi.Output[str]]
    """Queue name -> ARM id."""
    topic_ids: dict[str, pulumi.Output[str]]
    """Topic name -> ARM id."""
    subscription_ids: dict[str, pulumi.Output[str]]
    """`topic/subscription` -> ARM id."""
    app_settings: dict[str, pulumi.Output[str]]
    """Environment variables the services and workers read: the namespace FQDN and each
    entity's name (SERVICEBUS_ORDERS_QUEUE -> orders-queue, ...). Taken from the created
    resources, so an app that reads one is deployed after the entity exists."""
    subscription_names: dict[str, list[str]]
    """Topic name -> its subscription names (what topic triggers bind to)."""

    def __init__(
        self, name: str, args: MessagingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:messaging:Messaging", name, None, opts)
        env, namer = args.placement.env, args.placement.namer
        tags = layer_tags(args.placement.tags, "messaging")
        check_tables()
        private = env.security.enable_private_endpoints
        if private and args.private_endpoint_site is None:
            raise ValueError(
                "private endpoints are on but no private endpoint site was given: the "
                "namespace would have public access off and no way in"
            )
        premium = env.skus.service_bus is ServiceBusSku.PREMIUM
        if not private and not args.allowed_ip_ranges:
            raise ValueError(
                "the Service Bus namespace keeps public access but no IP range was given to "
                "admit: Azure enforces defaultAction Deny only with at least one IP rule, so "
                "the namespace would be open to every network; pass the operator ranges or "
                "the egress address (network.enableNatGateway), or turn on private endpoints"
            )

        namespace = create_namespace(
            name,
            NamespaceArgs(
                azure_name=namer.unique_name("service_bus", args.placement.name_suffix),
                resource_group_name=args.placement.resource_group_name,
                location=args.placement.location,
                sku=env.skus.service_bus,
                private=private,
                tags=tags,
                replica_region=(
                    secondary_region(env.recovery, args.placement.location)
                    if env.recovery.service_bus_geo_replication
                    else None
                ),
                max_replication_lag_seconds=env.recovery.service_bus_max_lag_seconds,
            ),
            parent=self,
        )
        create_network_rule_set(
            name,
            namespace=namespace,
            resource_group_name=args.placement.resource_group_name,
            sku=env.skus.service_bus,
            private=private,
            allowed_ip_ranges=args.allowed_ip_ranges,
        )
        # Dedicated: operational and runtime audit logs land in AZMSOperationalLogs,
        # AZMSRuntimeAuditLogs, ... instead of AzureDiagnostics.
        # https://learn.microsoft.com/azure/service-bus-messaging/monitor-service-bus-reference
        add_diagnostic_setting(
            f"{name}-sb-diag",
            target_resource_id=namespace.id,
            workspace_id=args.workspace_id,
            parent=namespace,
            log_analytics_destination_type="Dedicated",
        )
        if private and args.private_endpoint_site is not None:
            add_private_endpoint(
                f"{name}-sb",
                args.private_endpoint_site,
                service=PrivateLink.SERVICE_BUS,
                target_resource_id=namespace.id,
                azure_name=namer.name("private_endpoint", role="sb"),
                subnet=SubnetName.INTEGRATION,
                tags=tags,
                parent=self,
            )

        self.queue_ids = {}
        self.topic_ids = {}
        self.subscription_ids = {}
        self.app_settings = {}
        self.subscription_names = {}
        for entity in ENTITIES:
            if isinstance(entity, QueueSpec):
                queue = create_queue(
                    name,
                    entity,
                    namespace=namespace,
                    resource_group_name=args.placement.resource_group_name,
                    premium=premium,
                )
                self.queue_ids[entity.name] = queue.id
                self.app_settings[entity.setting] = queue.name
                continue
            topic = create_topic(
                name,
                entity,
                namespace=namespace,
                resource_group_name=args.placement.resource_group_name,
                premium=premium,
            )
            self.topic_ids[entity.name] = topic.id
            self.app_settings[entity.setting] = topic.name
            self.subscription_names[entity.name] = [s.name for s in entity.subscriptions]
            for spec in entity.subscriptions:
                subscription = create_subscription(
                    name,
                    spec,
                    topic_spec=entity,
                    topic=topic,
                    namespace=namespace,
                    resource_group_name=args.placement.resource_group_name,
                )
                self.subscription_ids[f"{entity.name}/{spec.name}"] = subscription.id

        scopes = {**self.queue_ids, **self.topic_ids, **self.subscription_ids}
        for grant in GRANTS:
            identity = args.identities[grant.workload]
            assign_role(
                f"{name}-sb-{grant.access.value}-{grant.workload.value}-"
                + grant.target.replace("/", "-"),
                role=ROLES[grant.access],
                scope=scopes[grant.target],
                principal_id=identity.principal_id,
                subscription_id=args.subscription_id,
                parent=self,
                description=f"{grant.workload.value} may {grant.access.value} on "
                f"{grant.target}: {grant.why}",
            )

        # Subscriptions report under their topic's EntityName, so queues and topics cover all.
        service_bus_alerts(
            f"{name}-sb-alerts",
            context=args.alert_context,
            namespace_id=namespace.id,
            entities=[e.name for e in ENTITIES],
            parent=self,
            tags=tags,
        )

        self.namespace_id = namespace.id
        self.namespace_name = namespace.name
        self.fully_qualified_namespace = pulumi.Output.concat(
            namespace.name, ".servicebus.windows.net"
        )
        self.app_settings = {
            "SERVICEBUS_FULLY_QUALIFIED_NAMESPACE": self.fully_qualified_namespace,
            **self.app_settings,
        }
        self.register_outputs(
            {
                "namespace_id": self.namespace_id,
                "namespace_name": self.namespace_name,
                "fully_qualified_namespace": self.fully_qualified_namespace,
                "queue_ids": self.queue_ids,
                "topic_ids": self.topic_ids,
                "subscription_ids": self.subscription_ids,
                "app_settings": self.app_settings,
                "subscription_names": self.subscription_names,
            }
        )
