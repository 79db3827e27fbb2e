"""Functions layer per stack: Flex plan, functionAppConfig, identity-only storage, settings."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest

from config.settings import (
    ENVIRONMENTS,
    SettingsError,
    get_environment_settings,
    load_stack_settings,
)
from infra.functions import (
    DEPLOYMENT_CONTAINER,
    DEPRECATED_ON_FLEX,
    HOST_PLATFORM_SETTINGS,
    LOCAL_ONLY_SETTINGS,
    OPTIONAL_SECRET_SETTINGS,
    SERVICE_URL_SETTINGS,
    check_flex_settings,
    workers_app_settings,
)
from infra.networking.subnets import CONTAINER_APPS_DELEGATION
from infra.security import BuiltInRole
from offline.engine import ProgramRun, RecordedResource
from scripts import deploy_functions
from tests.conftest import stack_run

MANIFEST = Path(__file__).resolve().parent.parent / "services/workers/settings-manifest.json"
APP = "azure-native:web:WebApp"
PLAN = "azure-native:web:AppServicePlan"
PRIVATE = ("staging", "prod")
BASE = {"platform:location": "westus2", "platform:owner": "team", "platform:costCenter": "CC-1"}


def manifest_names() -> set[str]:
    return {v["name"] for v in json.loads(MANIFEST.read_text())["variables"]}


@pytest.fixture(params=ENVIRONMENTS)
def run(request: pytest.FixtureRequest) -> ProgramRun:
    return stack_run(str(request.param))


def _layer(run: ProgramRun, type_token: str) -> list[RecordedResource]:
    return [r for r in run.by_type(type_token) if run.layer_of(r) == "functions"]


def _app(run: ProgramRun) -> RecordedResource:
    return run.one(APP)


def _settings(run: ProgramRun) -> dict[str, str]:
    return {s["name"]: s["value"] for s in _app(run).inputs["siteConfig"]["appSettings"]}


def _workers(run: ProgramRun) -> RecordedResource:
    return next(
        r
        for r in run.by_type("azure-native:managedidentity:UserAssignedIdentity")
        if r.name.endswith("-workers")
    )


def _host_storage(run: ProgramRun) -> RecordedResource:
    (account,) = _layer(run, "azure-native:storage:StorageAccount")
    return account


def test_every_stack_runs_with_no_input_problems(run: ProgramRun) -> None:
    assert run.error is None
    assert [str(p) for p in run.problems] == []
    assert _layer(run, APP) and _layer(run, PLAN)


def test_plan_is_flex_consumption_fc1_on_linux(run: ProgramRun) -> None:
    plan = run.one(PLAN).inputs
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert plan["reserved"] is True
    assert plan["kind"] == "functionapp"
    assert _app(run).inputs["serverFarmId"] == run.one(PLAN).id


def test_function_app_config_deploys_from_blob_with_the_workers_identity(run: ProgramRun) -> None:
    config = _app(run).inputs["functionAppConfig"]
    storage = config["deployment"]["storage"]
    account = _host_storage(run).inputs["accountName"]
    assert storage["type"] == "blobContainer"
    assert storage["value"] == f"https://{account}.blob.core.windows.net/{DEPLOYMENT_CONTAINER}"
    assert storage["authentication"] == {
        "type": "UserAssignedIdentity",
        "userAssignedIdentityResourceId": _workers(run).id,
    }
    (container,) = _layer(run, "azure-native:storage:BlobContainer")
    assert container.inputs["containerName"] == DEPLOYMENT_CONTAINER
    assert container.inputs["publicAccess"] == "None"


def test_runtime_and_scale_follow_the_environment(run: ProgramRun) -> None:
    config = _app(run).inputs["functionAppConfig"]
    scale = get_environment_settings(run.stack).functions
    assert config["runtime"] == {"name": "python", "version": scale.python_version}
    assert config["scaleAndConcurrency"] == {
        "maximumInstanceCount": scale.maximum_instance_count,
        "instanceMemoryMB": scale.instance_memory_mb,
        "triggers": {"http": {"perInstanceConcurrency": scale.http_per_instance_concurrency}},
    }
    # The deploy step builds the package's wheels for the setting's default unless told
    # otherwise (scripts/deploy_functions.py --python-version): every stack runs that one.
    assert config["runtime"]["version"] == deploy_functions.DEFAULT_PYTHON_VERSION


def test_prod_scales_further_than_the_default() -> None:
    assert get_environment_settings("prod").functions.maximum_instance_count == 100
    assert get_environment_settings("dev").functions.maximum_instance_count == 40


def test_app_is_https_only_tls12_without_ftp_and_behind_access_restrictions(
    run: ProgramRun,
) -> None:
    inputs = _app(run).inputs
    site = inputs["siteConfig"]
    assert inputs["httpsOnly"] is True
    assert inputs["kind"] == "functionapp,linux"
    assert site["minTlsVersion"] == "1.2"
    assert site["scmMinTlsVersion"] == "1.2"
    assert site["ftpsState"] == "Disabled"
    assert site["ipSecurityRestrictionsDefaultAction"] == "Deny"
    assert site["scmIpSecurityRestrictionsDefaultAction"] == "Deny"
    assert all(
        r["action"] == "Allow" and "/" in r["ipAddress"] for r in site["scmIpSecurityRestrictions"]
    )
    assert "linuxFxVersion" not in site  # Flex takes the runtime from functionAppConfig
    assert inputs["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": [_workers(run).id],
    }


def test_basic_auth_publishing_is_off(run: ProgramRun) -> None:
    for token in ("azure-native:web:WebAppFtpAllowed", "azure-native:web:WebAppScmAllowed"):
        policy = run.one(token).inputs
        assert policy["allow"] is False
        assert policy["name"] == _app(run).inputs["name"]


def test_vnet_integration_in_the_delegated_functions_subnet(run: ProgramRun) -> None:
    subnet = next(
        r for r in run.by_type("azure-native:network:Subnet") if r.name.endswith("-functions")
    )
    assert _app(run).inputs["virtualNetworkSubnetId"] == subnet.id
    assert [d["serviceName"] for d in subnet.inputs["delegations"]] == [CONTAINER_APPS_DELEGATION]


def test_host_storage_is_identity_only(run: ProgramRun) -> None:
    inputs = _host_storage(run).inputs
    assert inputs["allowSharedKeyAccess"] is False
    assert inputs["defaultToOAuthAuthentication"] is True
    assert inputs["allowBlobPublicAccess"] is False
    assert inputs["enableHttpsTrafficOnly"] is True
    assert inputs["minimumTlsVersion"] == "TLS1_2"
    assert inputs["networkRuleSet"]["defaultAction"] == "Deny"
    private = run.stack in PRIVATE
    assert inputs["publicNetworkAccess"] == ("Disabled" if private else "Enabled")
    endpoints = {
        e.inputs["privateLinkServiceConnections"][0]["groupIds"][0]
        for e in _layer(run, "azure-native:network:PrivateEndpoint")
    }
    assert endpoints == ({"blob", "queue", "table"} if private else set())


def test_host_storage_keeps_deleted_blobs_and_is_protected_where_data_is(run: ProgramRun) -> None:
    (blob,) = _layer(run, "azure-native:storage:BlobServiceProperties")
    assert blob.inputs["deleteRetentionPolicy"] == {"enabled": True, "days": 7}
    assert _host_storage(run).protect is get_environment_settings(run.stack).security.protect_data


def test_workers_identity_gets_the_host_storage_roles(run: ProgramRun) -> None:
    account = _host_storage(run)
    grants = {
        r.inputs["roleDefinitionId"].rsplit("/", 1)[1]
        for r in _layer(run, "azure-native:authorization:RoleAssignment")
        if r.inputs["scope"] == account.id
        and r.inputs["principalId"] == _workers(run).outputs["principalId"]
    }
    assert grants == {
        BuiltInRole.STORAGE_BLOB_DATA_OWNER.value,
        BuiltInRole.STORAGE_QUEUE_DATA_CONTRIBUTOR.value,
        BuiltInRole.STORAGE_TABLE_DATA_CONTRIBUTOR.value,
    }


def test_app_starts_after_its_storage_grants(run: ProgramRun) -> None:
    grants = {r.urn for r in _layer(run, "azure-native:authorization:RoleAssignment")}
    assert grants and grants <= set(_app(run).dependencies)


def test_app_and_storage_send_diagnostics(run: ProgramRun) -> None:
    targets = {
        d.inputs["resourceUri"] for d in _layer(run, "azure-native:monitor:DiagnosticSetting")
    }
    account = _host_storage(run).id
    assert {_app(run).id, account, f"{account}/blobServices/default"} <= targets


def test_settings_contract_with_the_workers_manifest(run: ProgramRun) -> None:
    """Every setting the workers read is set, except the local platform's own settings and
    the optional OpenFIGI key; the only extra is what the Functions host reads."""
    names = set(_settings(run))
    assert manifest_names() - names == LOCAL_ONLY_SETTINGS | OPTIONAL_SECRET_SETTINGS
    assert names - manifest_names() == HOST_PLATFORM_SETTINGS


def test_the_workers_call_the_services_at_their_container_apps_urls(run: ProgramRun) -> None:
    settings = _settings(run)
    urls = run.stack_outputs["microservice_urls"]
    assert {name: settings[name] for name in SERVICE_URL_SETTINGS} == {
        f"{service.upper()}_API_BASE_URL": url for service, url in urls.items()
    }
    assert all(url.startswith("https://") for url in urls.values())


def test_settings_are_identity_based_and_point_at_the_stacks_resources(run: ProgramRun) -> None:
    settings = _settings(run)
    client_id = _workers(run).outputs["clientId"]
    namespace = run.one("azure-native:servicebus:Namespace").inputs["namespaceName"]
    assert settings["AzureWebJobsStorage__accountName"] == _host_storage(run).inputs["accountName"]
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__clientId"] == client_id
    assert settings["ServiceBusConnection__fullyQualifiedNamespace"] == (
        f"{namespace}.servicebus.windows.net"
    )
    assert settings["ServiceBusConnection__credential"] == "managedidentity"
    assert settings["ServiceBusConnection__clientId"] == client_id
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        f"ClientId={client_id};Authorization=AAD"
    )
    assert settings["APPLICATIONINSIGHTS_CONNECTION_STRING"].startswith("InstrumentationKey=")
    assert settings["ENVIRONMENT"] == run.stack
    assert not any("AccountKey=" in v or "SharedAccessKey" in v for v in settings.values())
    assert not set(settings) & DEPRECATED_ON_FLEX


def test_delivery_counts_match_the_messaging_entities(run: ProgramRun) -> None:
    settings = _settings(run)
    queue = next(
        r
        for r in run.by_type("azure-native:servicebus:Queue")
        if r.inputs["queueName"] == "orders-queue"
    )
    assert int(settings["ORDERS_QUEUE_MAX_DELIVERY_COUNT"]) == queue.inputs["maxDeliveryCount"]
    counts = {
        r.inputs["maxDeliveryCount"]
        for r in run.by_type("azure-native:servicebus:Subscription")
        if r.inputs["subscriptionName"] in ("topic-worker", "notifications", "notifier")
    }
    assert {int(settings["SUBSCRIPTION_MAX_DELIVERY_COUNT"])} == counts


@pulumi.runtime.test  # type: ignore[misc]
def test_with_service_urls_every_manifest_setting_is_set() -> pulumi.Output[None]:
    urls = {name: f"https://{name.lower()}.internal" for name in SERVICE_URL_SETTINGS}
    settings = workers_app_settings(
        environment="dev",
        storage_account_name="st",
        client_id="c",
        servicebus_namespace="ns.servicebus.windows.net",
        entity_settings={
            "SERVICEBUS_ORDERS_QUEUE": "orders-queue",
            "SERVICEBUS_EVENTS_TOPIC": "events-topic",
            "SERVICEBUS_NOTIFICATIONS_TOPIC": "notifications-topic",
            "SERVICEBUS_ETL_QUEUE": "etl-queue",
            "SERVICEBUS_THIRDPARTY_QUEUE": "thirdparty-queue",
            "SERVICEBUS_AUDIT_QUEUE": "audit-queue",
        },
        app_insights_connection_string="InstrumentationKey=x",
        staging_blob_account_url="https://stetl.blob.core.windows.net/",
        audit_blob_account_url="https://staudit.blob.core.windows.net",
        audit_container_name="audit-records",
        service_base_urls=urls,
    )
    assert (
        set(settings)
        == (manifest_names() - LOCAL_ONLY_SETTINGS - OPTIONAL_SECRET_SETTINGS)
        | HOST_PLATFORM_SETTINGS
    )
    return pulumi.Output.from_input(settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]).apply(
        lambda v: None if v == "ClientId=c;Authorization=AAD" else pytest.fail(v)
    )


def test_unknown_service_url_settings_are_refused() -> None:
    with pytest.raises(ValueError, match=r"ORDER_API_BASE_URL.*allowed: ORDERS_API_BASE_URL"):
        workers_app_settings(
            environment="dev",
            storage_account_name="st",
            client_id="c",
            servicebus_namespace="ns",
            entity_settings={},
            app_insights_connection_string="x",
            staging_blob_account_url="https://stetl.blob.core.windows.net/",
            audit_blob_account_url="https://staudit.blob.core.windows.net",
            audit_container_name="audit-records",
            service_base_urls={"ORDER_API_BASE_URL": "https://x"},
        )


@pytest.mark.parametrize(
    "name",
    [
        "WEBSITE_RUN_FROM_PACKAGE",
        "FUNCTIONS_WORKER_RUNTIME",
        "WEBSITE_CONTENTSHARE",
        "AzureWebJobsStorage",
    ],
)
def test_deprecated_flex_settings_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name}.*Flex Consumption deprecates"):
        check_flex_settings({"ENVIRONMENT": "dev", name: "1"})


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"skus": {"functionsPlan": "ElasticPremium"}}, "allowed: FlexConsumption"),
        ({"features": {"enableServiceBus": False}}, "allowed: enableServiceBus = true"),
        ({"functions": {"maximumInstanceCount": 10}}, "functions.maximumInstanceCount"),
        ({"functions": {"instanceMemoryMb": 1024}}, "functions.instanceMemoryMb"),
    ],
)
def test_impossible_functions_settings_are_rejected(
    overrides: dict[str, object], fragment: str
) -> None:
    config = {**BASE, "platform:overrides": json.dumps(overrides)}
    with pytest.raises(SettingsError, match=fragment):
        load_stack_settings("dev", config)


def test_the_policy_pack_knows_the_same_deprecated_settings() -> None:
    # The pack ships on its own (no infra import), so the two lists are kept equal here.
    from policies.rules.web import FLEX_DEPRECATED_SETTINGS

    assert FLEX_DEPRECATED_SETTINGS == DEPRECATED_ON_FLEX
