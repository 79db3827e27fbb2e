"""Observability layer: workspace, App Insights, action group, alerts, budget and workbook."""

from __future__ import annotations

import datetime
import functools
import json
import uuid
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from config.settings import ENVIRONMENTS, StackSettings, load_stack_settings
from infra.core import Core, CoreArgs, Namer, base_tags
from infra.observability import (
    Observability,
    ObservabilityArgs,
    add_diagnostic_setting,
    container_app_alerts,
    function_alerts,
    gateway_alerts,
    log_alert,
    service_bus_alerts,
    sql_alerts,
)
from infra.observability.app_insights import ALLOWED_RETENTION_DAYS, component_retention_days
from infra.observability.budget import budget_notifications, first_of_month
from infra.observability.diagnostics import DIAGNOSTIC_SETTING_NAME
from infra.observability.workbook import SECTIONS, workbook_name
from offline.engine import ProgramRun, load_stack_config, run_program

WORKSPACE = "azure-native:operationalinsights:Workspace"
APP_INSIGHTS = "azure-native:applicationinsights:Component"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
METRIC_ALERT = "azure-native:monitor:MetricAlert"
LOG_ALERT = "azure-native:monitor:ScheduledQueryRule"
DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
BUDGET = "azure-native:consumption:Budget"
WORKBOOK = "azure-native:applicationinsights:Workbook"
COMPONENT = "platform:observability:Observability"

START_DATE = "2026-11-01T00:00:00Z"
TARGET = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-x/providers"
APIM_ID = f"{TARGET}/Microsoft.ApiManagement/service/apim-test"
NAMESPACE_ID = f"{TARGET}/Microsoft.ServiceBus/namespaces/sbns-test"
CONTAINER_APP_ID = f"{TARGET}/Microsoft.App/containerApps/ca-test"
DATABASE_ID = f"{TARGET}/Microsoft.Sql/servers/sql-test/databases/sqldb-test"
QUEUES = ("orders-queue", "etl-queue")

# (log retention days, daily quota GB; -1 is Azure's "no cap") from seed 003's table.
EXPECTED_WORKSPACE = {"dev": (30, 1.0), "qa": (30, 2.0), "staging": (60, 5.0), "prod": (365, -1.0)}


def _program(
    stack: str, config: dict[str, Any], extra: Callable[[Observability, dict[str, str]], None]
) -> Callable[[], None]:
    def program() -> None:
        settings = load_stack_settings(stack, config)
        tags = base_tags(settings, pulumi.get_project())
        namer = Namer(
            settings.deployment.workload, settings.environment, settings.deployment.region_code
        )
        core = Core("core", CoreArgs(location=settings.deployment.location, namer=namer, tags=tags))
        observability = Observability(
            "observability",
            ObservabilityArgs(
                placement=core.placement(settings.env),
                alert_emails=settings.deployment.alert_emails,
                budget_start_date=START_DATE,
            ),
        )
        extra(observability, tags)
        pulumi.export("workspace_id", observability.workspace_id)
        pulumi.export(
            "app_insights_connection_string", observability.app_insights_connection_string
        )

    return program


def _with_alerts(observability: Observability, tags: dict[str, str]) -> None:
    """What later layers do: alerts and a diagnostic setting for their own resources."""
    context = observability.alert_context
    gateway_alerts(
        "gateway-alerts", context=context, apim_id=APIM_ID, parent=observability, tags=tags
    )
    service_bus_alerts(
        "messaging-alerts",
        context=context,
        namespace_id=NAMESPACE_ID,
        entities=QUEUES,
        parent=observability,
        tags=tags,
    )
    function_alerts(
        "functions-alerts",
        context=context,
        function_app_name="func-plat-test",
        parent=observability,
        tags=tags,
    )
    container_app_alerts(
        "orders-alerts",
        context=context,
        container_app_id=CONTAINER_APP_ID,
        parent=observability,
        tags=tags,
    )
    sql_alerts(
        "database-alerts", context=context, database_id=DATABASE_ID, parent=observability, tags=tags
    )
    add_diagnostic_setting(
        "gateway-diag",
        target_resource_id=APIM_ID,
        workspace_id=observability.workspace_id,
        parent=observability,
        log_analytics_destination_type="Dedicated",
    )


def run_layer(
    stack: str,
    extra: Callable[[Observability, dict[str, str]], None] = _with_alerts,
    drop: tuple[str, ...] = (),
) -> ProgramRun:
    config, secrets = load_stack_config(stack)
    config = {k: v for k, v in config.items() if k not in drop}
    return run_program(
        stack, config=config, secret_keys=secrets, program=_program(stack, config, extra)
    )


@functools.cache
def layer_run(stack: str) -> ProgramRun:
    return run_layer(stack)


@functools.cache
def settings_of(stack: str) -> StackSettings:
    return load_stack_settings(stack, load_stack_config(stack)[0])


@pytest.fixture(params=ENVIRONMENTS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_runs_without_errors_or_input_problems(stack: str) -> None:
    run = layer_run(stack)
    assert run.error is None
    assert run.problems == []


def test_workspace_retention_and_daily_cap_follow_the_environment(stack: str) -> None:
    workspace = layer_run(stack).one(WORKSPACE).inputs
    retention, quota = EXPECTED_WORKSPACE[stack]
    assert workspace["retentionInDays"] == retention
    assert workspace["workspaceCapping"] == {"dailyQuotaGb": quota}
    assert workspace["sku"] == {"name": "PerGB2018"}
    assert workspace["publicNetworkAccessForIngestion"] == "Enabled"
    assert workspace["publicNetworkAccessForQuery"] == "Enabled"
    assert workspace["workspaceName"].startswith("log-plat-")
    assert workspace["tags"]["layer"] == "observability"


def test_app_insights_is_workspace_based_on_this_workspace(stack: str) -> None:
    run = layer_run(stack)
    component = run.one(APP_INSIGHTS).inputs
    assert component["ingestionMode"] == "LogAnalytics"
    assert component["workspaceResourceId"] == run.one(WORKSPACE).id
    assert component["kind"] == "web" and component["applicationType"] == "web"
    assert component["disableLocalAuth"] is True
    assert component["retentionInDays"] == EXPECTED_WORKSPACE[stack][0]


def test_component_retention_is_an_allowed_value_no_shorter_than_the_workspace() -> None:
    assert component_retention_days(30) == 30
    assert component_retention_days(45) == 60
    assert component_retention_days(730) == 730
    assert all(component_retention_days(d) in ALLOWED_RETENTION_DAYS for d in range(30, 731))


def test_action_group_mails_the_stacks_alert_addresses(stack: str) -> None:
    group = layer_run(stack).one(ACTION_GROUP).inputs
    emails = settings_of(stack).deployment.alert_emails
    assert emails, "every stack file sets alert e-mails"
    assert [r["emailAddress"] for r in group["emailReceivers"]] == list(emails)
    assert all(r["useCommonAlertSchema"] is True for r in group["emailReceivers"])
    assert len({r["name"] for r in group["emailReceivers"]}) == len(emails)
    assert group["location"] == "global"
    assert group["enabled"] is True
    assert 1 <= len(group["groupShortName"]) <= 12


def test_every_alert_acts_through_the_action_group(stack: str) -> None:
    run = layer_run(stack)
    group_id = run.one(ACTION_GROUP).id
    metric_alerts = run.by_type(METRIC_ALERT)
    log_alerts = run.by_type(LOG_ALERT)
    # gateway 1 + service bus 2 + container app 1 + sql 2; gateway 1 + functions 1.
    assert len(metric_alerts) == 6
    assert len(log_alerts) == 2
    for alert in metric_alerts:
        assert alert.inputs["actions"] == [{"actionGroupId": group_id}], alert.name
        assert alert.inputs["location"] == "global"
        assert alert.inputs["autoMitigate"] is True
        criteria = alert.inputs["criteria"]
        assert (
            criteria["odataType"] == "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria"
        )
    for alert in log_alerts:
        assert alert.inputs["actions"] == {"actionGroups": [group_id]}, alert.name
        assert alert.inputs["scopes"] == [run.one(WORKSPACE).id]
        assert alert.inputs["kind"] == "LogAlert"


def _metric(run: ProgramRun, name: str) -> dict[str, Any]:
    alert = next(r for r in run.by_type(METRIC_ALERT) if r.name == name)
    criterion: dict[str, Any] = alert.inputs["criteria"]["allOf"][0]
    return {**criterion, "scopes": alert.inputs["scopes"], "severity": alert.inputs["severity"]}


def _log(run: ProgramRun, name: str) -> dict[str, Any]:
    alert = next(r for r in run.by_type(LOG_ALERT) if r.name == name)
    condition: dict[str, Any] = alert.inputs["criteria"]["allOf"][0]
    return {**condition, "severity": alert.inputs["severity"]}


def test_alerts_use_real_metric_names_and_the_environments_thresholds(stack: str) -> None:
    run = layer_run(stack)
    t = settings_of(stack).env.monitoring.alerts

    latency = _metric(run, "gateway-alerts-latency")
    assert (latency["metricNamespace"], latency["metricName"]) == (
        "Microsoft.ApiManagement/service",
        "Duration",
    )
    assert latency["threshold"] == t.gateway_latency_ms
    assert latency["scopes"] == [APIM_ID]
    assert latency["severity"] == t.severity

    failed = _log(run, "gateway-alerts-5xx-percent")
    assert "ApiManagementGatewayLogs" in failed["query"] and APIM_ID in failed["query"]
    assert failed["metricMeasureColumn"] == "FailedPercent"
    assert failed["threshold"] == t.gateway_5xx_percent

    dead = _metric(run, "messaging-alerts-dead-letters")
    assert dead["metricName"] == "DeadletteredMessages"
    assert dead["threshold"] == t.dead_letter_messages
    assert dead["dimensions"] == [
        {"name": "EntityName", "operator": "Include", "values": list(QUEUES)}
    ]
    backlog = _metric(run, "messaging-alerts-backlog")
    assert backlog["metricName"] == "ActiveMessages"
    assert backlog["threshold"] == t.active_messages_backlog

    functions = _log(run, "functions-alerts-failures")
    assert "AppRequests" in functions["query"] and "func-plat-test" in functions["query"]
    assert functions["threshold"] == t.function_failures
    assert functions["operator"] == "GreaterThanOrEqual"

    restarts = _metric(run, "orders-alerts-restarts")
    assert (restarts["metricNamespace"], restarts["metricName"]) == (
        "Microsoft.App/containerApps",
        "RestartCount",
    )
    assert restarts["threshold"] == t.container_restarts

    cpu = _metric(run, "database-alerts-cpu")
    storage = _metric(run, "database-alerts-storage")
    assert cpu["metricNamespace"] == storage["metricNamespace"] == "Microsoft.Sql/servers/databases"
    assert (cpu["metricName"], cpu["threshold"]) == ("cpu_percent", t.sql_cpu_percent)
    assert (storage["metricName"], storage["threshold"]) == (
        "storage_percent",
        t.sql_storage_percent,
    )


def test_prod_alerts_are_stricter_than_dev() -> None:
    dev, prod = layer_run("dev"), layer_run("prod")
    assert _metric(prod, "gateway-alerts-latency")["threshold"] == 1000
    assert _metric(dev, "gateway-alerts-latency")["threshold"] == 2000
    assert _log(prod, "functions-alerts-failures")["threshold"] == 1
    assert _metric(prod, "orders-alerts-restarts")["severity"] == 1
    assert _metric(dev, "orders-alerts-restarts")["severity"] == 2


def test_budget_amount_and_notifications_come_from_settings(stack: str) -> None:
    run = layer_run(stack)
    budget = run.one(BUDGET).inputs
    monitoring = settings_of(stack).env.monitoring
    emails = list(settings_of(stack).deployment.alert_emails)
    group_id = run.one(ACTION_GROUP).id
    assert budget["amount"] == monitoring.monthly_budget_usd
    assert budget["scope"] == run.one("azure-native:resources:ResourceGroup").id
    assert budget["timeGrain"] == "Monthly" and budget["category"] == "Cost"
    assert budget["timePeriod"] == {"startDate": START_DATE}
    notifications = budget["notifications"].values()
    actual = sorted(n["threshold"] for n in notifications if n["thresholdType"] == "Actual")
    forecast = [n["threshold"] for n in notifications if n["thresholdType"] == "Forecasted"]
    assert actual == sorted(monitoring.budget_alert_thresholds_percent)
    assert forecast == [100]
    for notification in notifications:
        assert notification["operator"] == "GreaterThanOrEqualTo"
        assert notification["enabled"] is True
        assert notification["contactEmails"] == emails
        assert notification["contactGroups"] == [group_id]


def test_budget_start_is_the_first_of_the_creation_month() -> None:
    assert first_of_month(datetime.date(2027, 3, 15)) == "2027-03-01T00:00:00Z"
    assert first_of_month(datetime.date(2026, 12, 1)) == "2026-12-01T00:00:00Z"
    assert first_of_month().endswith("-01T00:00:00Z")


def test_budget_allows_at_most_five_notifications() -> None:
    with pytest.raises(ValueError, match="5 notifications"):
        budget_notifications((10, 20, 30, 40, 50), alert_emails=(), action_group_id="ag")
    assert len(budget_notifications((10, 20, 30, 40), alert_emails=(), action_group_id="ag")) == 5


def test_without_alert_emails_the_action_group_still_receives_everything() -> None:
    run = run_layer("dev", drop=("platform:alertEmails",))
    assert run.error is None and run.problems == []
    group = run.one(ACTION_GROUP)
    assert group.inputs.get("emailReceivers") in (None, [])
    for notification in run.one(BUDGET).inputs["notifications"].values():
        assert notification["contactEmails"] == []
        assert notification["contactGroups"] == [group.id]


def test_workbook_is_valid_json_with_the_four_sections(stack: str) -> None:
    run = layer_run(stack)
    workbook = run.one(WORKBOOK).inputs
    workspace_id = run.one(WORKSPACE).id
    assert workbook["kind"] == "shared" and workbook["category"] == "workbook"
    assert workbook["sourceId"] == workspace_id
    content = json.loads(workbook["serializedData"])
    assert content["version"] == "Notebook/1.0"
    assert content["fallbackResourceIds"] == [workspace_id]
    groups = {item["name"]: item for item in content["items"] if item["type"] == 12}
    assert tuple(groups) == SECTIONS
    tables = {
        "gateway": "ApiManagementGatewayLogs",
        "services": "ContainerAppSystemLogs_CL",
        "queues": "Microsoft.ServiceBus".upper(),
        "database": "cpu_percent",
    }
    for section, needle in tables.items():
        queries = [
            i["content"]["query"] for i in groups[section]["content"]["items"] if i["type"] == 3
        ]
        assert queries, f"{section} has no queries"
        assert any(needle in q for q in queries), f"{section} does not query {needle}"
    services = json.dumps(groups["services"])
    assert "AppRequests" in services and "ContainerAppConsoleLogs_CL" in services
    assert "storage_percent" in json.dumps(groups["database"])


def test_workbook_name_is_a_stable_guid_per_stack(stack: str) -> None:
    run = layer_run(stack)
    settings = settings_of(stack)
    name = run.one(WORKBOOK).inputs["resourceName"]
    assert str(uuid.UUID(name)) == name
    assert name == workbook_name(
        settings.deployment.workload, settings.environment, settings.deployment.region_code
    )
    others = {workbook_name("plat", env, "wus2") for env in ENVIRONMENTS}
    assert len(others) == len(ENVIRONMENTS)


def test_connection_string_output_is_secret(stack: str) -> None:
    run = layer_run(stack)
    assert "app_insights_connection_string" in run.secret_outputs
    assert "workspace_id" not in run.secret_outputs
    assert run.stack_outputs["app_insights_connection_string"].startswith("InstrumentationKey=")


def test_component_registers_its_outputs_and_parents_its_children(stack: str) -> None:
    run = layer_run(stack)
    component = run.one(COMPONENT)
    assert set(component.outputs) == {
        "workspace_id",
        "workspace_name",
        "workspace_customer_id",
        "app_insights_id",
        "app_insights_connection_string",
        "action_group_id",
        "budget_name",
        "workbook_id",
    }
    assert component.outputs["workspace_id"] == run.one(WORKSPACE).id
    assert component.outputs["budget_name"].startswith("budget-plat-")
    for type_token in (WORKSPACE, APP_INSIGHTS, ACTION_GROUP, BUDGET, WORKBOOK):
        child = run.one(type_token)
        assert child.parent == component.urn
        assert child.name.startswith("observability-")


def test_diagnostic_settings_send_all_logs_and_metrics_to_the_workspace(stack: str) -> None:
    run = layer_run(stack)
    workspace_id = run.one(WORKSPACE).id
    settings = {r.name: r.inputs for r in run.by_type(DIAGNOSTIC)}
    own = settings["observability-workspace-diag"]
    assert own["resourceUri"] == own["workspaceId"] == workspace_id
    assert own["name"] == DIAGNOSTIC_SETTING_NAME
    assert own["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    assert own["metrics"] == [{"category": "AllMetrics", "enabled": True}]
    assert "logAnalyticsDestinationType" not in own
    gateway = settings["gateway-diag"]
    assert gateway["resourceUri"] == APIM_ID
    assert gateway["workspaceId"] == workspace_id
    assert gateway["logAnalyticsDestinationType"] == "Dedicated"


def test_helpers_reject_what_azure_would_reject() -> None:
    def metrics_only_nothing(observability: Observability, tags: dict[str, str]) -> None:
        add_diagnostic_setting(
            "nothing",
            target_resource_id=APIM_ID,
            workspace_id=observability.workspace_id,
            parent=observability,
            logs=False,
            metrics=False,
        )

    assert "must send logs, metrics or both" in str(run_layer("dev", metrics_only_nothing).error)

    def count_with_column(observability: Observability, tags: dict[str, str]) -> None:
        context = observability.alert_context
        log_alert(
            "bad",
            resource_group_name=context.resource_group_name,
            location=context.location,
            workspace_id=context.workspace_id,
            query="AppRequests",
            operator="GreaterThan",
            threshold=1,
            action_group_id=context.action_group_id,
            severity=2,
            description="bad",
            parent=observability,
            tags=tags,
            metric_measure_column="Failures",
        )

    assert "metric_measure_column" in str(run_layer("dev", count_with_column).error)

    def no_entities(observability: Observability, tags: dict[str, str]) -> None:
        service_bus_alerts(
            "sb",
            context=observability.alert_context,
            namespace_id=NAMESPACE_ID,
            entities=(),
            parent=observability,
            tags=tags,
        )

    assert "at least one queue" in str(run_layer("dev", no_entities).error)
