"""Messaging layer per environment: namespace security, entity table, least-privilege grants."""

from __future__ import annotations

import dataclasses
import functools
import json
import uuid
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from config.settings import (
    ENVIRONMENTS,
    ServiceBusSku,
    StackSettings,
    get_environment_settings,
    load_stack_settings,
)
from infra.core import Core, CoreArgs, Namer, base_tags
from infra.messaging import (
    ENTITIES,
    GRANTS,
    NOTIFIABLE_EVENTS,
    Access,
    Grant,
    Messaging,
    MessagingArgs,
    QueueSpec,
    SubscriptionSpec,
    TopicSpec,
    check_tables,
    namespace_sku,
)
from infra.networking import Networking, NetworkingArgs
from infra.observability import AlertContext
from infra.security import BuiltInRole, Workload, WorkloadIdentity
from offline.engine import (
    SUBSCRIPTION_ID,
    ProgramRun,
    RecordedResource,
    load_stack_config,
    run_program,
)

NAMESPACE = "azure-native:servicebus:Namespace"
QUEUE = "azure-native:servicebus:Queue"
TOPIC = "azure-native:servicebus:Topic"
SUBSCRIPTION = "azure-native:servicebus:Subscription"
DEFAULT_RULE = "azure-native:servicebus:DefaultRule"
RULE = "azure-native:servicebus:Rule"
ROLE = "azure-native:authorization:RoleAssignment"
DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
METRIC_ALERT = "azure-native:monitor:MetricAlert"
ENDPOINT = "azure-native:network:PrivateEndpoint"
COMPONENT = "platform:messaging:Messaging"

RG_PATH = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-fake/providers"
WORKSPACE_ID = f"{RG_PATH}/Microsoft.OperationalInsights/workspaces/log-fake"
ACTION_GROUP_ID = f"{RG_PATH}/Microsoft.Insights/actionGroups/ag-fake"
PRIVATE = ("staging", "prod")

SENDER = BuiltInRole.SERVICE_BUS_DATA_SENDER.value
RECEIVER = BuiltInRole.SERVICE_BUS_DATA_RECEIVER.value

# The grants written out by hand, so that widening the table also means changing this test.
EXPECTED_GRANTS = {
    ("orders", SENDER, "orders-queue"),
    ("orders", SENDER, "events-topic"),
    ("payments", SENDER, "events-topic"),
    ("users", SENDER, "events-topic"),
    ("users", SENDER, "audit-queue"),
    ("products", SENDER, "audit-queue"),
    ("orders", SENDER, "audit-queue"),
    ("payments", SENDER, "audit-queue"),
    ("workers", RECEIVER, "audit-queue"),
    ("workers", RECEIVER, "events-topic/erasure"),
    ("workers", RECEIVER, "orders-queue"),
    ("workers", SENDER, "etl-queue"),
    ("workers", RECEIVER, "etl-queue"),
    ("workers", SENDER, "thirdparty-queue"),
    ("workers", RECEIVER, "thirdparty-queue"),
    ("workers", RECEIVER, "events-topic/topic-worker"),
    ("workers", RECEIVER, "events-topic/notifications"),
    ("workers", SENDER, "notifications-topic"),
    ("workers", RECEIVER, "notifications-topic/notifier"),
}


def principal_of(workload: Workload) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"principal/{workload.value}"))


def fake_identities() -> dict[Workload, WorkloadIdentity]:
    """Stand-ins for the security layer's identities, with known principal ids."""
    return {
        w: WorkloadIdentity(
            id=pulumi.Output.from_input(
                f"{RG_PATH}/Microsoft.ManagedIdentity/userAssignedIdentities/id-{w.value}"
            ),
            name=pulumi.Output.from_input(f"id-{w.value}"),
            principal_id=pulumi.Output.from_input(principal_of(w)),
            client_id=pulumi.Output.from_input(str(uuid.uuid5(uuid.NAMESPACE_URL, w.value))),
        )
        for w in Workload
    }


def build_messaging(
    settings: StackSettings,
    *,
    with_site: bool = True,
    allowed: list[pulumi.Input[str]] | None = None,
) -> Messaging:
    """What `__main__.py` does for the layer, on the real core and networking layers."""
    env, deployment = settings.env, settings.deployment
    tags = base_tags(settings, pulumi.get_project())
    namer = Namer(deployment.workload, env.environment, deployment.region_code)
    core = Core("core", CoreArgs(location=deployment.location, namer=namer, tags=tags))
    networking = Networking(
        "networking",
        NetworkingArgs(
            placement=core.placement(env),
            workspace_id=WORKSPACE_ID,
        ),
    )
    # As `__main__.py` builds it: operator ranges plus the NAT gateway's egress address.
    egress = [networking.egress_public_ip] if networking.egress_public_ip is not None else []
    allow_list = [*deployment.allowed_ip_ranges, *egress] if allowed is None else allowed
    return Messaging(
        "messaging",
        MessagingArgs(
            placement=core.placement(env),
            identities=fake_identities(),
            subscription_id=SUBSCRIPTION_ID,
            private_endpoint_site=networking.private_endpoint_site if with_site else None,
            workspace_id=WORKSPACE_ID,
            alert_context=AlertContext(
                resource_group_name=core.resource_group_name,
                location=deployment.location,
                workspace_id=WORKSPACE_ID,
                action_group_id=ACTION_GROUP_ID,
                thresholds=env.monitoring.alerts,
            ),
            allowed_ip_ranges=allow_list,
        ),
    )


def run_layer(stack: str, build: Callable[[StackSettings], None]) -> ProgramRun:
    config, secrets = load_stack_config(stack)

    def program() -> None:
        build(load_stack_settings(stack, config))

    return run_program(stack, config=config, secret_keys=secrets, program=program)


def _export_all(settings: StackSettings) -> None:
    messaging = build_messaging(settings)
    pulumi.export("namespace_id", messaging.namespace_id)
    pulumi.export("namespace_name", messaging.namespace_name)
    pulumi.export("fully_qualified_namespace", messaging.fully_qualified_namespace)
    pulumi.export("queue_ids", messaging.queue_ids)
    pulumi.export("topic_ids", messaging.topic_ids)
    pulumi.export("subscription_ids", messaging.subscription_ids)
    pulumi.export("app_settings", messaging.app_settings)
    pulumi.export("subscription_names", messaging.subscription_names)


@functools.cache
def layer_run(stack: str) -> ProgramRun:
    return run_layer(stack, _export_all)


@pytest.fixture(params=ENVIRONMENTS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _namespace(run: ProgramRun) -> RecordedResource:
    return run.one(NAMESPACE)


def _by_name(run: ProgramRun, type_token: str, key: str) -> dict[str, RecordedResource]:
    return {r.inputs[key]: r for r in run.by_type(type_token)}


def _subscriptions(run: ProgramRun) -> dict[str, RecordedResource]:
    topics = {t.outputs["name"]: t for t in run.by_type(TOPIC)}
    found = {}
    for sub in run.by_type(SUBSCRIPTION):
        assert sub.inputs["topicName"] in topics
        found[f"{sub.inputs['topicName']}/{sub.inputs['subscriptionName']}"] = sub
    return found


def _targets_by_id(run: ProgramRun) -> dict[str, str]:
    """Recorded entity id -> `queue`, `topic` or `topic/subscription`."""
    ids = {q.id: name for name, q in _by_name(run, QUEUE, "queueName").items()}
    ids.update({t.id: name for name, t in _by_name(run, TOPIC, "topicName").items()})
    ids.update({s.id: key for key, s in _subscriptions(run).items()})
    assert None not in ids
    return {str(k): v for k, v in ids.items()}


def _messaging_roles(run: ProgramRun) -> list[RecordedResource]:
    return [r for r in run.by_type(ROLE) if run.layer_of(r) == "messaging"]


# --- the run as a whole -------------------------------------------------------------


def test_runs_without_errors_or_input_problems(stack: str) -> None:
    run = layer_run(stack)
    assert run.error is None
    assert [str(p) for p in run.problems] == []


def test_component_registers_its_real_outputs(stack: str) -> None:
    run = layer_run(stack)
    (component,) = [r for r in run.resources.values() if r.type == COMPONENT]
    outputs = component.outputs
    assert outputs["namespace_id"] == _namespace(run).id
    assert set(outputs["queue_ids"]) == {
        "orders-queue",
        "etl-queue",
        "thirdparty-queue",
        "audit-queue",
    }
    assert set(outputs["topic_ids"]) == {"events-topic", "notifications-topic"}
    # Every child is named after the component and parented inside it.
    for resource in run.resources.values():
        if run.layer_of(resource) == "messaging" and resource is not component:
            assert resource.name.startswith("messaging-"), resource.name


# --- namespace ----------------------------------------------------------------------


def test_namespace_sku_follows_the_environment(stack: str) -> None:
    inputs = _namespace(layer_run(stack)).inputs
    if stack in ("dev", "qa"):
        assert inputs["sku"] == {"name": "Standard", "tier": "Standard"}
        assert "premiumMessagingPartitions" not in inputs
        assert "zoneRedundant" not in inputs
    else:
        assert inputs["sku"] == {"name": "Premium", "tier": "Premium", "capacity": 1}
        assert inputs["premiumMessagingPartitions"] == 1
        assert inputs["zoneRedundant"] is True
    assert get_environment_settings(stack).skus.service_bus.value == inputs["sku"]["name"]


def test_namespace_is_entra_only_tls12_named_and_tagged(stack: str) -> None:
    inputs = _namespace(layer_run(stack)).inputs
    assert inputs["disableLocalAuth"] is True
    assert inputs["minimumTlsVersion"] == "1.2"
    assert inputs["namespaceName"].startswith("sbns-plat-")
    assert 6 <= len(inputs["namespaceName"]) <= 50
    assert inputs["tags"]["layer"] == "messaging"
    assert inputs["tags"]["environment"] == stack


def test_public_access_off_and_private_endpoint_only_where_private(stack: str) -> None:
    run = layer_run(stack)
    namespace = _namespace(run)
    endpoints = [
        e
        for e in run.by_type(ENDPOINT)
        if e.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == namespace.id
    ]
    if stack in PRIVATE:
        assert namespace.inputs["publicNetworkAccess"] == "Disabled"
        (endpoint,) = endpoints
        assert endpoint.inputs["privateLinkServiceConnections"][0]["groupIds"] == ["namespace"]
        integration = next(
            s
            for s in run.by_type("azure-native:network:Subnet")
            if s.name.endswith("snet-integration")
        )
        assert endpoint.inputs["subnet"]["id"] == integration.id
        assert endpoint.inputs["privateEndpointName"].startswith("pep-plat-sb-")
        assert endpoint.inputs["tags"]["layer"] == "messaging"
        zone = next(
            z
            for z in run.by_type("azure-native:privatedns:PrivateZone")
            if z.inputs["privateZoneName"] == "privatelink.servicebus.windows.net"
        )
        group = next(
            g
            for g in run.by_type("azure-native:network:PrivateDnsZoneGroup")
            if g.parent == endpoint.urn
        )
        assert group.inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == zone.id
    else:
        assert namespace.inputs["publicNetworkAccess"] == "Enabled"
        assert endpoints == []


def test_private_environment_without_a_site_is_refused() -> None:
    refused = run_layer(
        "prod", lambda settings: _ignore(build_messaging(settings, with_site=False))
    )
    assert refused.error is not None
    assert "private endpoint site" in refused.error
    assert refused.by_type(NAMESPACE) == []


def _ignore(_: Any) -> None:
    return None


NETWORK_RULE_SET = "azure-native:servicebus:NamespaceNetworkRuleSet"


def test_network_rule_set_denies_by_default_and_admits_the_allow_list(stack: str) -> None:
    run = layer_run(stack)
    namespace = _namespace(run)
    (rule_set,) = run.by_type(NETWORK_RULE_SET)
    inputs = rule_set.inputs
    assert rule_set.parent == namespace.urn
    assert inputs["namespaceName"] == namespace.outputs["name"]
    assert inputs["defaultAction"] == "Deny"
    # The same switch as the namespace's own, so the two never disagree.
    assert inputs["publicNetworkAccess"] == namespace.inputs["publicNetworkAccess"]
    if stack in PRIVATE:
        assert inputs["publicNetworkAccess"] == "Disabled"
        assert inputs.get("ipRules", []) == []
        # Trusted Microsoft services bypass the firewall on Premium.
        assert inputs["trustedServiceAccessEnabled"] is True
    else:
        assert inputs["publicNetworkAccess"] == "Enabled"
        egress = run.one("azure-native:network:PublicIPAddress").outputs["ipAddress"]
        assert inputs["ipRules"] == [{"ipMask": egress, "action": "Allow"}]
        # Standard has no trusted-services option (service-bus-ip-filtering): left unset.
        assert "trustedServiceAccessEnabled" not in inputs
    assert "virtualNetworkRules" not in inputs  # service endpoints need Premium


@pytest.mark.parametrize("stack_name", ["dev", "qa"])
def test_the_program_admits_operator_ranges_and_egress_like_key_vault(stack_name: str) -> None:
    from tests.conftest import stack_run

    run = stack_run(stack_name)
    (rule_set,) = run.by_type(NETWORK_RULE_SET)
    vault = run.one("azure-native:keyvault:Vault")
    admitted = [r["ipMask"] for r in rule_set.inputs["ipRules"]]
    assert admitted
    assert admitted == [r["value"] for r in vault.inputs["properties"]["networkAcls"]["ipRules"]]


def test_program_rule_set_clears_the_advisory() -> None:
    from policies.offline import evaluate, from_recorded
    from tests.conftest import stack_run

    for stack_name in ENVIRONMENTS:
        run = stack_run(stack_name)
        report = evaluate(from_recorded(run.resources.values()), stack_name)
        assert [r for r in report.results if r.rule == "servicebus-network-rule-set"] == []


def test_public_namespace_with_nothing_to_admit_is_refused() -> None:
    refused = run_layer("dev", lambda settings: _ignore(build_messaging(settings, allowed=[])))
    assert refused.error is not None
    assert "enforces defaultAction Deny only with at least one IP rule" in refused.error
    assert refused.by_type(NETWORK_RULE_SET) == []


def test_basic_is_refused() -> None:
    with pytest.raises(ValueError, match="Basic has no topics"):
        namespace_sku(ServiceBusSku.BASIC)


# --- entities -----------------------------------------------------------------------


def test_entity_names_and_no_shared_dlq(stack: str) -> None:
    run = layer_run(stack)
    assert set(_by_name(run, QUEUE, "queueName")) == {
        "orders-queue",
        "etl-queue",
        "thirdparty-queue",
        "audit-queue",
    }
    assert set(_by_name(run, TOPIC, "topicName")) == {"events-topic", "notifications-topic"}
    assert set(_subscriptions(run)) == {
        "events-topic/topic-worker",
        "events-topic/notifications",
        "events-topic/erasure",
        "notifications-topic/notifier",
    }
    assert "dlq-queue" not in _by_name(run, QUEUE, "queueName")


def test_every_queue_and_subscription_dead_letters_expired_messages(stack: str) -> None:
    run = layer_run(stack)
    for queue in run.by_type(QUEUE):
        assert queue.inputs["deadLetteringOnMessageExpiration"] is True
        assert "forwardDeadLetteredMessagesTo" not in queue.inputs
        for key in ("maxDeliveryCount", "lockDuration", "defaultMessageTimeToLive"):
            assert key in queue.inputs, (queue.name, key)
    for sub in run.by_type(SUBSCRIPTION):
        assert sub.inputs["deadLetteringOnMessageExpiration"] is True
        assert sub.inputs["deadLetteringOnFilterEvaluationExceptions"] is True
        for key in ("maxDeliveryCount", "lockDuration", "defaultMessageTimeToLive"):
            assert key in sub.inputs, (sub.name, key)


def test_queue_settings_fit_their_workloads(stack: str) -> None:
    queues = {k: v.inputs for k, v in _by_name(layer_run(stack), QUEUE, "queueName").items()}
    orders, etl, thirdparty = (
        queues["orders-queue"],
        queues["etl-queue"],
        queues["thirdparty-queue"],
    )
    # Per-order FIFO and outbox re-sends dropped.
    assert orders["requiresSession"] is True
    assert orders["requiresDuplicateDetection"] is True
    assert orders["duplicateDetectionHistoryTimeWindow"] == "PT10M"
    # Long-running file jobs, few retries.
    assert (etl["lockDuration"], etl["maxDeliveryCount"]) == ("PT5M", 3)
    assert etl["defaultMessageTimeToLive"] == "P1D"
    assert etl["requiresSession"] is False
    # Flaky third parties: many retries.
    assert thirdparty["maxDeliveryCount"] == 10
    assert thirdparty["defaultMessageTimeToLive"] == "P1D"
    assert thirdparty["requiresDuplicateDetection"] is False


def test_audit_queue_loses_no_record(stack: str) -> None:
    audit = _by_name(layer_run(stack), QUEUE, "queueName")["audit-queue"].inputs
    # The outbox re-sends with the record's id: the copy is dropped.
    assert audit["requiresDuplicateDetection"] is True
    assert audit["duplicateDetectionHistoryTimeWindow"] == "PT10M"
    assert audit["requiresSession"] is False
    # Transient blob failures are retried, and a record outlives a two-week outage of the
    # workers, then dead-letters instead of expiring away.
    assert audit["maxDeliveryCount"] == 10
    assert audit["defaultMessageTimeToLive"] == "P14D"
    assert audit["deadLetteringOnMessageExpiration"] is True


def test_topic_settings(stack: str) -> None:
    topics = {k: v.inputs for k, v in _by_name(layer_run(stack), TOPIC, "topicName").items()}
    assert topics["events-topic"]["requiresDuplicateDetection"] is True
    assert topics["events-topic"]["duplicateDetectionHistoryTimeWindow"] == "PT10M"
    assert topics["notifications-topic"]["requiresDuplicateDetection"] is False
    assert "duplicateDetectionHistoryTimeWindow" not in topics["notifications-topic"]


def test_entities_belong_to_the_namespace(stack: str) -> None:
    run = layer_run(stack)
    namespace = _namespace(run)
    name = namespace.outputs["name"]
    for entity in [*run.by_type(QUEUE), *run.by_type(TOPIC), *run.by_type(SUBSCRIPTION)]:
        assert entity.inputs["namespaceName"] == name
        assert entity.inputs["resourceGroupName"] == namespace.inputs["resourceGroupName"]


def test_premium_only_settings_only_on_premium(stack: str) -> None:
    run = layer_run(stack)
    premium = get_environment_settings(stack).skus.service_bus is ServiceBusSku.PREMIUM
    for entity in [*run.by_type(QUEUE), *run.by_type(TOPIC)]:
        if premium:
            assert entity.inputs["maxMessageSizeInKilobytes"] == 1024
        else:
            assert "maxMessageSizeInKilobytes" not in entity.inputs


def test_notifications_subscription_filters_its_default_rule(stack: str) -> None:
    run = layer_run(stack)
    subs = _subscriptions(run)
    assert run.by_type(RULE) == []  # a second rule would sit beside the match-all $Default
    notifications = subs["events-topic/notifications"]
    (rule,) = [r for r in run.by_type(DEFAULT_RULE) if r.parent == notifications.urn]
    assert rule.parent == notifications.urn
    assert rule.inputs["subscriptionName"] == notifications.outputs["name"]
    assert rule.inputs["topicName"] == "events-topic"
    assert rule.inputs["filterType"] == "SqlFilter"
    expression = rule.inputs["sqlFilter"]["sqlExpression"]
    assert expression == (
        "sys.Label IN ('OrderFilled', 'OrderCancelled', 'OrderRejected', "
        "'SettlementSettled', 'SettlementFailed')"
    )
    assert all(f"'{event}'" in expression for event in NOTIFIABLE_EVENTS)


def test_erasure_subscription_takes_user_erasures_only(stack: str) -> None:
    run = layer_run(stack)
    erasure = _subscriptions(run)["events-topic/erasure"]
    rules = {r.parent: r for r in run.by_type(DEFAULT_RULE)}
    # Only the two filtered subscriptions narrow $Default; the topic worker keeps all.
    assert set(rules) == {erasure.urn, _subscriptions(run)["events-topic/notifications"].urn}
    rule = rules[erasure.urn]
    assert rule.inputs["subscriptionName"] == "erasure"
    assert rule.inputs["filterType"] == "SqlFilter"
    assert rule.inputs["sqlFilter"]["sqlExpression"] == "sys.Label = 'UserErased'"
    assert erasure.inputs["maxDeliveryCount"] == 10
    assert erasure.inputs["defaultMessageTimeToLive"] == "P7D"


# --- grants -------------------------------------------------------------------------


def _grants(run: ProgramRun) -> set[tuple[str, str, str]]:
    workload_of = {principal_of(w): w.value for w in Workload}
    target_of = _targets_by_id(run)
    found = set()
    for role in _messaging_roles(run):
        role_id = role.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        found.add(
            (workload_of[role.inputs["principalId"]], role_id, target_of[role.inputs["scope"]])
        )
    return found


def test_grants_match_the_table_exactly(stack: str) -> None:
    run = layer_run(stack)
    roles = _messaging_roles(run)
    assert len(roles) == len(GRANTS)
    granted = _grants(run)
    assert granted == EXPECTED_GRANTS
    from_table = {
        (g.workload.value, SENDER if g.access is Access.SEND else RECEIVER, g.target)
        for g in GRANTS
    }
    assert granted == from_table


def test_least_privilege_facts(stack: str) -> None:
    granted = _grants(layer_run(stack))
    by_workload: dict[str, set[tuple[str, str]]] = {}
    for workload, role, target in granted:
        by_workload.setdefault(workload, set()).add((role, target))
    # The gateway has no Service Bus code and gets nothing.
    assert "gateway" not in by_workload
    assert (SENDER, "orders-queue") not in by_workload["workers"]
    assert all(role == SENDER for role, _ in by_workload["orders"])
    assert by_workload["payments"] == {(SENDER, "events-topic"), (SENDER, "audit-queue")}
    # products publishes audit records alone; users its erasures and audit records.
    assert by_workload["products"] == {(SENDER, "audit-queue")}
    assert by_workload["users"] == {(SENDER, "events-topic"), (SENDER, "audit-queue")}
    # Nobody but the workers reads audit records, and nobody but the services sends them.
    assert {w for w, r, t in granted if t == "audit-queue" and r == RECEIVER} == {"workers"}
    assert {w for w, r, t in granted if t == "audit-queue" and r == SENDER} == {
        "users",
        "products",
        "orders",
        "payments",
    }
    # Receivers hold queue or subscription scopes, never a whole topic.
    for workload, role, target in granted:
        if role == RECEIVER:
            assert (
                target in {"orders-queue", "etl-queue", "thirdparty-queue", "audit-queue"}
                or "/" in target
            )
        else:
            assert "/" not in target, (workload, target)


def test_grants_are_data_roles_on_entities_never_the_namespace(stack: str) -> None:
    run = layer_run(stack)
    namespace = _namespace(run)
    entity_ids = set(_targets_by_id(run))
    for role in _messaging_roles(run):
        inputs = role.inputs
        assert inputs["scope"] != namespace.id
        assert inputs["scope"] in entity_ids
        assert inputs["roleDefinitionId"] in {
            f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/"
            f"roleDefinitions/{role_id}"
            for role_id in (SENDER, RECEIVER)
        }
        assert inputs["principalType"] == "ServicePrincipal"
        uuid.UUID(inputs["roleAssignmentName"])


def test_role_assignment_names_are_stable() -> None:
    first = {r.name: r.inputs["roleAssignmentName"] for r in _messaging_roles(layer_run("dev"))}
    again = run_layer("dev", lambda settings: _ignore(build_messaging(settings)))
    assert first == {r.name: r.inputs["roleAssignmentName"] for r in _messaging_roles(again)}
    assert len(set(first.values())) == len(first)


# --- observability ------------------------------------------------------------------


def test_diagnostics_go_to_the_workspace_in_dedicated_tables(stack: str) -> None:
    run = layer_run(stack)
    namespace = _namespace(run)
    (setting,) = [d for d in run.by_type(DIAGNOSTIC) if d.inputs["resourceUri"] == namespace.id]
    assert setting.inputs["workspaceId"] == WORKSPACE_ID
    assert setting.inputs["logAnalyticsDestinationType"] == "Dedicated"
    assert setting.inputs["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]


def test_alerts_watch_every_queue_and_topic_on_the_namespace(stack: str) -> None:
    run = layer_run(stack)
    namespace = _namespace(run)
    thresholds = get_environment_settings(stack).monitoring.alerts
    alerts = [a for a in run.by_type(METRIC_ALERT) if run.layer_of(a) == "messaging"]
    metrics = {}
    for alert in alerts:
        assert alert.inputs["scopes"] == [namespace.id]
        assert alert.inputs["actions"] == [{"actionGroupId": ACTION_GROUP_ID}]
        (criterion,) = alert.inputs["criteria"]["allOf"]
        (dimension,) = criterion["dimensions"]
        assert dimension["name"] == "EntityName"
        assert set(dimension["values"]) == {e.name for e in ENTITIES}
        metrics[criterion["metricName"]] = criterion["threshold"]
    assert metrics == {
        "DeadletteredMessages": thresholds.dead_letter_messages,
        "ActiveMessages": thresholds.active_messages_backlog,
    }


# --- outputs ------------------------------------------------------------------------


def test_outputs_name_the_namespace_and_entities(stack: str) -> None:
    run = layer_run(stack)
    outputs = run.stack_outputs
    namespace = _namespace(run)
    name = namespace.inputs["namespaceName"]
    assert outputs["namespace_id"] == namespace.id
    assert outputs["namespace_name"] == name
    assert outputs["fully_qualified_namespace"] == f"{name}.servicebus.windows.net"
    # The same host the provider reports as the endpoint.
    assert namespace.outputs["serviceBusEndpoint"].startswith(
        f"https://{outputs['fully_qualified_namespace']}:"
    )
    queues = _by_name(run, QUEUE, "queueName")
    assert outputs["queue_ids"] == {k: v.id for k, v in queues.items()}
    assert outputs["topic_ids"] == {k: v.id for k, v in _by_name(run, TOPIC, "topicName").items()}
    assert outputs["subscription_ids"] == {k: v.id for k, v in _subscriptions(run).items()}
    assert outputs["app_settings"] == {
        "SERVICEBUS_FULLY_QUALIFIED_NAMESPACE": f"{name}.servicebus.windows.net",
        "SERVICEBUS_ORDERS_QUEUE": "orders-queue",
        "SERVICEBUS_ETL_QUEUE": "etl-queue",
        "SERVICEBUS_THIRDPARTY_QUEUE": "thirdparty-queue",
        "SERVICEBUS_AUDIT_QUEUE": "audit-queue",
        "SERVICEBUS_EVENTS_TOPIC": "events-topic",
        "SERVICEBUS_NOTIFICATIONS_TOPIC": "notifications-topic",
    }
    assert outputs["subscription_names"] == {
        "events-topic": ["topic-worker", "notifications", "erasure"],
        "notifications-topic": ["notifier"],
    }


def test_no_keys_or_connection_strings_anywhere(stack: str) -> None:
    run = layer_run(stack)
    assert not [r for r in run.resources.values() if "AuthorizationRule" in r.type]
    assert not [token for token in run.invokes if "servicebus" in token.lower()]
    mine = [r for r in run.resources.values() if run.layer_of(r) == "messaging"]
    text = json.dumps(
        [run.stack_outputs, *[(r.inputs, r.outputs) for r in mine]], default=str
    ).lower()
    for marker in ("sharedaccesskey", "endpoint=sb://", "connectionstring", "primarykey"):
        assert marker not in text
    assert run.secret_outputs == set()


# --- the tables themselves ----------------------------------------------------------


def test_tables_are_consistent() -> None:
    check_tables()


def _queue(**changes: Any) -> QueueSpec:
    base = QueueSpec(
        name="q",
        purpose="test",
        setting="SERVICEBUS_Q",
        lock_duration="PT1M",
        max_delivery_count=5,
        default_message_time_to_live="P1D",
    )
    return dataclasses.replace(base, **changes)


_TOPIC = TopicSpec(
    name="t",
    purpose="test",
    setting="SERVICEBUS_T",
    default_message_time_to_live="P1D",
    subscriptions=(SubscriptionSpec("s", "test", "PT1M", 5, "P1D"),),
)


@pytest.mark.parametrize(
    ("entities", "grants", "message"),
    [
        ((_queue(lock_duration="PT6M"),), (), "exceeds"),
        ((_queue(requires_duplicate_detection=True),), (), "duplicate_detection_window"),
        ((_queue(), _queue()), (), "unique"),
        ((_queue(),), (Grant(Workload.ORDERS, Access.SEND, "nope"),), "unknown entity"),
        ((_TOPIC,), (Grant(Workload.WORKERS, Access.RECEIVE, "t"),), "subscription it reads"),
        ((_TOPIC,), (Grant(Workload.ORDERS, Access.SEND, "t", "s"),), "send to the topic"),
        (
            (_queue(),),
            (Grant(Workload.ORDERS, Access.SEND, "q"), Grant(Workload.ORDERS, Access.SEND, "q")),
            "twice",
        ),
    ],
)
def test_check_tables_refuses_what_azure_or_least_privilege_would(
    entities: tuple[QueueSpec | TopicSpec, ...], grants: tuple[Grant, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_tables(entities, grants)


def test_every_entity_has_a_sender_and_every_reader_a_receiver() -> None:
    targets = {g.target for g in GRANTS}
    senders = {g.target for g in GRANTS if g.access is Access.SEND}
    receivers = {g.target for g in GRANTS if g.access is Access.RECEIVE}
    for entity in ENTITIES:
        assert entity.name in senders, entity.name
        if isinstance(entity, QueueSpec):
            assert entity.name in receivers, entity.name
        else:
            for sub in entity.subscriptions:
                assert f"{entity.name}/{sub.name}" in receivers
    assert targets == senders | receivers
