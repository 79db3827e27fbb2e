"""Microservices layer per stack: internal environment, private DNS, the four apps, settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from config.images import BOOTSTRAP_IMAGE, BOOTSTRAP_PORT, SERVICE_NAMES
from config.settings import (
    ENVIRONMENTS,
    ContainerAppsSettings,
    ServiceCompute,
    SettingsError,
    SubnetName,
    get_environment_settings,
    load_stack_settings,
)
from infra.functions.app_settings import WORKER_TUNABLES
from infra.microservices import (
    LIVENESS_PATH,
    LOCAL_ONLY_SETTINGS,
    READINESS_PATH,
    SERVICEBUS_SCALER,
    SERVICES,
    BusConsumer,
    PlatformInputs,
    base_url_setting,
    secret_references,
    service_settings,
    servicebus_scale_rule,
    traffic_weights,
)
from infra.networking.nsg import CONTAINER_APPS_INGRESS_PORTS
from infra.networking.subnets import CONTAINER_APPS_DELEGATION
from offline.engine import ProgramRun, RecordedResource
from tests.conftest import stack_run

MANIFEST = Path(__file__).resolve().parent.parent / "services/settings-manifest.json"
ENV = "azure-native:app:ManagedEnvironment"
APP = "azure-native:app:ContainerApp"
ZONE = "azure-native:privatedns:PrivateZone"
RECORD = "azure-native:privatedns:PrivateRecordSet"
LINK = "azure-native:privatedns:VirtualNetworkLink"
DIGEST = "sha256:" + "cd" * 32
BASE = {"platform:location": "westus2", "platform:owner": "team", "platform:costCenter": "CC-1"}


def manifest(service: str) -> dict[str, dict[str, Any]]:
    variables = json.loads(MANIFEST.read_text())["services"][service]["variables"]
    return {v["name"]: v for v in variables}


def _layer(run: ProgramRun, type_token: str) -> list[RecordedResource]:
    return [r for r in run.by_type(type_token) if run.layer_of(r) == "microservices"]


def _apps(run: ProgramRun) -> dict[str, RecordedResource]:
    return {r.inputs["template"]["containers"][0]["name"]: r for r in run.by_type(APP)}


def _env_vars(app: RecordedResource) -> dict[str, Any]:
    return {e["name"]: e for e in app.inputs["template"]["containers"][0]["env"]}


def _identity(run: ProgramRun, workload: str) -> RecordedResource:
    return next(
        r
        for r in run.by_type("azure-native:managedidentity:UserAssignedIdentity")
        if r.name.endswith(f"-{workload}")
    )


def _subnet(run: ProgramRun, name: str) -> RecordedResource:
    return next(r for r in run.by_type("azure-native:network:Subnet") if r.name.endswith(name))


# --- the environment ---------------------------------------------------------------------------


def test_every_stack_runs_with_the_layer_and_no_input_problems(any_stack: ProgramRun) -> None:
    assert any_stack.error is None
    assert [str(p) for p in any_stack.problems] == []
    assert len(_layer(any_stack, ENV)) == 1
    assert sorted(_apps(any_stack)) == sorted(SERVICE_NAMES)


def test_environment_is_internal_with_workload_profiles_in_the_app_subnet(
    any_stack: ProgramRun,
) -> None:
    env = any_stack.one(ENV).inputs
    subnet = _subnet(any_stack, "-app")
    assert env["vnetConfiguration"] == {"infrastructureSubnetId": subnet.id, "internal": True}
    assert [d["serviceName"] for d in subnet.inputs["delegations"]] == [CONTAINER_APPS_DELEGATION]
    assert {"name": "Consumption", "workloadProfileType": "Consumption"}.items() <= (
        env["workloadProfiles"][0].items()
    )
    settings = get_environment_settings(any_stack.stack).container_apps
    assert env["zoneRedundant"] is settings.zone_redundant
    assert env["zoneRedundant"] is (any_stack.stack == "prod")


def test_environment_logs_through_azure_monitor_without_the_workspace_key(
    any_stack: ProgramRun,
) -> None:
    env = any_stack.one(ENV)
    assert env.inputs["appLogsConfiguration"] == {"destination": "azure-monitor"}
    workspace = any_stack.one("azure-native:operationalinsights:Workspace")
    (diag,) = [
        d
        for d in any_stack.by_type("azure-native:monitor:DiagnosticSetting")
        if d.inputs["resourceUri"] == env.id
    ]
    assert diag.inputs["workspaceId"] == workspace.id
    assert diag.inputs["logAnalyticsDestinationType"] == "Dedicated"


def test_private_zone_of_the_default_domain_with_a_wildcard_to_the_static_ip(
    any_stack: ProgramRun,
) -> None:
    env = any_stack.one(ENV)
    (zone,) = _layer(any_stack, ZONE)
    (record,) = _layer(any_stack, RECORD)
    (link,) = _layer(any_stack, LINK)
    assert zone.inputs["privateZoneName"] == env.outputs["defaultDomain"]
    assert record.inputs["privateZoneName"] == zone.inputs["privateZoneName"]
    assert record.inputs["relativeRecordSetName"] == "*"
    assert record.inputs["recordType"] == "A"
    assert record.inputs["aRecords"] == [{"ipv4Address": env.outputs["staticIp"]}]
    # The record waits for the environment (its IP is the environment's output).
    assert env.urn in record.dependencies
    vnet = any_stack.one("azure-native:network:VirtualNetwork")
    assert link.inputs["virtualNetwork"] == {"id": vnet.id}
    assert link.inputs["registrationEnabled"] is False


def test_outputs_are_exported(any_stack: ProgramRun) -> None:
    env = any_stack.one(ENV)
    outputs = any_stack.stack_outputs
    domain = env.outputs["defaultDomain"]
    assert outputs["container_apps_default_domain"] == domain
    assert outputs["container_apps_static_ip"] == env.outputs["staticIp"]
    apps = _apps(any_stack)
    assert outputs["microservice_urls"] == {
        s: f"https://{apps[s].inputs['containerAppName']}.{domain}" for s in SERVICE_NAMES
    }


# --- the apps ----------------------------------------------------------------------------------


def test_ingress_is_vnet_only_https_from_the_calling_subnets(any_stack: ProgramRun) -> None:
    settings = get_environment_settings(any_stack.stack)
    subnets = settings.network.subnets
    callers = {subnets["app"], subnets["functions"]}
    if settings.features.enable_api_management:
        callers.add(subnets["gateway"])
    for app in _apps(any_stack).values():
        ingress = app.inputs["configuration"]["ingress"]
        assert ingress["external"] is True  # VNet only: the environment is internal
        assert ingress["allowInsecure"] is False
        assert ingress["transport"] == "http"
        rules = ingress["ipSecurityRestrictions"]
        assert {r["action"] for r in rules} == {"Allow"}
        assert {r["ipAddressRange"] for r in rules} == callers


def test_ingress_callers_are_what_the_app_subnet_nsg_admits_on_the_ingress_ports(
    any_stack: ProgramRun,
) -> None:
    (nsg,) = [
        n
        for n in any_stack.by_type("azure-native:network:NetworkSecurityGroup")
        if n.name.endswith("-app")
    ]
    admitted = {
        rule["sourceAddressPrefix"]
        for rule in nsg.inputs["securityRules"]
        if rule["access"] == "Allow"
        and (
            rule.get("destinationPortRange") == "*"
            or set(CONTAINER_APPS_INGRESS_PORTS) <= set(rule.get("destinationPortRanges", []))
        )
    }
    for app in _apps(any_stack).values():
        cidrs = {
            r["ipAddressRange"]
            for r in app.inputs["configuration"]["ingress"]["ipSecurityRestrictions"]
        }
        assert cidrs <= admitted
    assert CONTAINER_APPS_INGRESS_PORTS == ("443", "31443", "80", "31080")


def test_each_app_runs_as_its_own_identity_and_pulls_with_it(any_stack: ProgramRun) -> None:
    login = any_stack.one("azure-native:containerregistry:Registry").outputs["loginServer"]
    for service, app in _apps(any_stack).items():
        identity = _identity(any_stack, service)
        assert app.inputs["identity"] == {
            "type": "UserAssigned",
            "userAssignedIdentities": [identity.id],
        }
        assert app.inputs["configuration"]["registries"] == [
            {"server": login, "identity": identity.id}
        ]
        env = _env_vars(app)
        assert env["AZURE_CLIENT_ID"]["value"] == identity.outputs["clientId"]


def test_apps_hold_no_secret_values(any_stack: ProgramRun) -> None:
    for app in _apps(any_stack).values():
        configuration = app.inputs["configuration"]
        assert all("value" not in s for s in configuration.get("secrets", []))
        for var in _env_vars(app).values():
            value = str(var.get("value", ""))
            assert not any(k in value for k in ("AccountKey=", "SharedAccessKey", "Password="))


def test_each_app_is_created_after_its_acrpull_grant(any_stack: ProgramRun) -> None:
    for service, app in _apps(any_stack).items():
        (grant,) = [
            r
            for r in any_stack.by_type("azure-native:authorization:RoleAssignment")
            if r.name == f"registry-acrpull-{service}"
        ]
        assert grant.urn in app.dependencies


def test_without_digests_the_apps_run_the_bootstrap_image_without_probes(
    any_stack: ProgramRun,
) -> None:
    for app in _apps(any_stack).values():
        container = app.inputs["template"]["containers"][0]
        assert container["image"] == BOOTSTRAP_IMAGE
        assert "probes" not in container
        assert app.inputs["configuration"]["ingress"]["targetPort"] == BOOTSTRAP_PORT


def test_a_digest_deploys_the_service_image_with_its_health_probes(
    run_with: Callable[..., ProgramRun],
) -> None:
    run = run_with("qa", **{"platform:images": json.dumps({"orders": DIGEST})})
    assert run.ok, (run.error, run.problems)
    apps = _apps(run)
    login = run.one("azure-native:containerregistry:Registry").outputs["loginServer"]
    container = apps["orders"].inputs["template"]["containers"][0]
    assert container["image"] == f"{login}/orders@{DIGEST}"
    assert apps["orders"].inputs["configuration"]["ingress"]["targetPort"] == 8000
    probes = {p["type"]: p for p in container["probes"]}
    assert set(probes) == {"Startup", "Liveness", "Readiness"}
    assert probes["Readiness"]["httpGet"] == {
        "path": READINESS_PATH,
        "port": 8000,
        "scheme": "HTTP",
    }
    assert probes["Liveness"]["httpGet"]["path"] == LIVENESS_PATH
    assert probes["Startup"]["httpGet"]["path"] == LIVENESS_PATH
    for probe in probes.values():
        assert 1 <= probe["failureThreshold"] <= 10
        assert 1 <= probe["periodSeconds"] <= 240
        assert 0 <= probe.get("initialDelaySeconds", 0) <= 60
    # The others keep the bootstrap image until their digest is configured.
    assert apps["users"].inputs["template"]["containers"][0]["image"] == BOOTSTRAP_IMAGE


def test_health_routes_are_the_ones_the_services_serve() -> None:
    source = (
        Path(__file__).resolve().parent.parent / "services/shared/platform_common/app.py"
    ).read_text()
    assert 'prefix="/health"' in source
    assert '"/live"' in source and '"/ready"' in source
    assert (LIVENESS_PATH, READINESS_PATH) == ("/health/live", "/health/ready")


def test_scale_follows_the_settings_with_an_http_rule_and_no_bus_rule(
    any_stack: ProgramRun,
) -> None:
    settings = get_environment_settings(any_stack.stack).container_apps
    for service, app in _apps(any_stack).items():
        compute = settings.services[service]
        template = app.inputs["template"]
        scale = template["scale"]
        assert scale["minReplicas"] == compute.min_replicas
        assert scale["maxReplicas"] == compute.max_replicas
        assert scale["rules"] == [
            {
                "name": "http-concurrency",
                "http": {"metadata": {"concurrentRequests": str(compute.concurrent_requests)}},
            }
        ]
        assert template["containers"][0]["resources"] == {
            "cpu": compute.cpu,
            "memory": f"{compute.memory_gi:g}Gi",
        }
        assert app.inputs["workloadProfileName"] == compute.workload_profile
    # Three replicas, one per zone, where the environment is zone-redundant.
    if settings.zone_redundant:
        assert all(c.min_replicas >= 3 for c in settings.services.values())


def test_no_service_consumes_service_bus_so_none_scales_on_it() -> None:
    # The workers (Functions) receive from every queue and subscription; the services only
    # publish through their outbox. A service that starts consuming gets a KEDA rule.
    assert all(spec.consumes == () for spec in SERVICES.values())
    for app in _apps(stack_run("prod")).values():
        rules = app.inputs["template"]["scale"]["rules"]
        assert not [r for r in rules if "custom" in r]


def test_revisions_are_multiple_with_the_latest_taking_all_traffic(any_stack: ProgramRun) -> None:
    for app in _apps(any_stack).values():
        configuration = app.inputs["configuration"]
        assert configuration["activeRevisionsMode"] == "Multiple"
        assert configuration["ingress"]["traffic"] == [{"latestRevision": True, "weight": 100}]


def test_a_traffic_pin_keeps_a_share_on_the_named_revision(
    run_with: Callable[..., ProgramRun],
) -> None:
    pin = {"orders": {"revisionName": "ca-plat-orders-qa-wus2--v1", "weight": 80}}
    run = run_with("qa", **{"platform:overrides": json.dumps({"containerApps": {"traffic": pin}})})
    assert run.ok, (run.error, run.problems)
    apps = _apps(run)
    assert apps["orders"].inputs["configuration"]["ingress"]["traffic"] == [
        {"revisionName": "ca-plat-orders-qa-wus2--v1", "latestRevision": False, "weight": 80},
        {"latestRevision": True, "weight": 20},
    ]
    assert apps["users"].inputs["configuration"]["ingress"]["traffic"] == [
        {"latestRevision": True, "weight": 100}
    ]


# --- the settings contract ---------------------------------------------------------------------


def contract_gaps(service: str, names: set[str]) -> tuple[list[str], list[str]]:
    """(read but not set, set but not read) for one service against its manifest."""
    read = set(manifest(service)) - LOCAL_ONLY_SETTINGS
    return sorted(read - names), sorted(names - read)


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_settings_contract_with_the_services_manifest(any_stack: ProgramRun, service: str) -> None:
    """Every variable a service reads is set by the stack, and nothing nobody reads; only the
    local platform's own settings are left out."""
    names = set(_env_vars(_apps(any_stack)[service]))
    assert contract_gaps(service, names) == ([], [])
    assert not names & LOCAL_ONLY_SETTINGS
    required = {n for n, v in manifest(service).items() if v["required_in_azure"]}
    assert required <= names


def test_the_contract_check_sees_a_missing_and_an_unread_setting() -> None:
    names = set(manifest("orders")) - LOCAL_ONLY_SETTINGS
    assert contract_gaps("orders", names - {"PRODUCTS_API_BASE_URL"} | {"ORDER_LIMIT"}) == (
        ["PRODUCTS_API_BASE_URL"],
        ["ORDER_LIMIT"],
    )


def test_local_only_settings_are_read_by_some_service() -> None:
    read = {name for s in SERVICE_NAMES for name in manifest(s)}
    assert read >= LOCAL_ONLY_SETTINGS


def test_settings_point_at_the_stacks_resources(any_stack: ProgramRun) -> None:
    apps = _apps(any_stack)
    # The listener: the failover group's name where prod keeps a partner, else the server's.
    server = any_stack.stack_outputs["sql_listener_fqdn"]
    if any_stack.stack == "prod":
        group = any_stack.one("azure-native:sql:FailoverGroup").inputs["failoverGroupName"]
        assert server == f"{group}.database.windows.net"
    database = any_stack.one("azure-native:sql:Database").inputs["databaseName"]
    namespace = any_stack.one("azure-native:servicebus:Namespace").inputs["namespaceName"]
    urls = any_stack.stack_outputs["microservice_urls"]
    for app in apps.values():
        env = {k: v["value"] for k, v in _env_vars(app).items()}
        assert env["ENVIRONMENT"] == any_stack.stack
        assert env["AZURE_SQL_SERVER"] == server
        assert env["AZURE_SQL_DATABASE"] == database
        assert env["APPLICATIONINSIGHTS_CONNECTION_STRING"].startswith("InstrumentationKey=")
        if "SERVICEBUS_FULLY_QUALIFIED_NAMESPACE" in env:
            assert env["SERVICEBUS_FULLY_QUALIFIED_NAMESPACE"] == (
                f"{namespace}.servicebus.windows.net"
            )
            assert env["MESSAGING_MODE"] == "servicebus"
        for callee in SERVICE_NAMES:
            if base_url_setting(callee) in env:
                assert env[base_url_setting(callee)] == urls[callee]
    assert base_url_setting("products") in _env_vars(apps["orders"])
    assert base_url_setting("orders") in _env_vars(apps["payments"])
    orders = {k: v["value"] for k, v in _env_vars(apps["orders"]).items()}
    assert orders["SERVICEBUS_ORDERS_QUEUE"] == "orders-queue"
    assert orders["SERVICEBUS_EVENTS_TOPIC"] == "events-topic"
    assert orders["SERVICEBUS_AUDIT_QUEUE"] == "audit-queue"


def test_each_service_keeps_personal_data_as_long_as_its_settings_say(
    run_with: Callable[..., ProgramRun],
) -> None:
    run = run_with("prod")
    assert run.ok, (run.error, run.problems)
    for service, app in _apps(run).items():
        expected = {"users": "365", "products": "90", "orders": "2555", "payments": "2555"}
        assert _env_vars(app)["PERSONAL_DATA_RETENTION_DAYS"]["value"] == expected[service]


def test_the_workers_and_the_services_agree() -> None:
    products = SERVICES["products"].tunables
    # The ETL's batches must fit products-api's batch limit, or every load is refused (413).
    assert int(WORKER_TUNABLES["ETL_LOAD_BATCH_SIZE"]) <= int(products["PRODUCTS_LOAD_MAX_ITEMS"])
    # Every service admits the workers by the caller id the workers send, one users-api
    # refuses as an account id (services/users/users_service/schemas.py, WORKLOAD_ID_PREFIX):
    # no one can sign in through the gateway as the workers.
    for spec in SERVICES.values():
        assert spec.tunables["WORKERS_CALLER_ID"] == WORKER_TUNABLES["WORKERS_CALLER_ID"]
    assert WORKER_TUNABLES["WORKERS_CALLER_ID"].startswith("svc-")


def test_a_published_entity_the_messaging_layer_lacks_is_refused() -> None:
    platform = PlatformInputs(
        environment="dev",
        app_insights_connection_string="x",
        sql_server_fqdn="sql",
        sql_database_name="db",
        servicebus_namespace="ns",
        servicebus_settings={"SERVICEBUS_EVENTS_TOPIC": "events-topic"},
        urls=dict.fromkeys(SERVICE_NAMES, "https://x"),
        gateway_subnet_cidr="10.0.0.0/24",
        personal_data_retention_days=dict.fromkeys(SERVICE_NAMES, 1825),
    )
    with pytest.raises(ValueError, match=r"orders publishes to SERVICEBUS_ORDERS_QUEUE.*known"):
        service_settings(SERVICES["orders"], platform, client_id="c")


# --- Key Vault references and scale rules as factories -----------------------------------------


def test_secret_references_read_key_vault_with_the_identity() -> None:
    secrets, env = secret_references(
        {"PARTNER_API_KEY": "https://kv.vault.azure.net/secrets/partner"}, "/id/orders"
    )
    assert [(s.name, s.key_vault_url, s.identity, s.value) for s in secrets] == [
        ("partner-api-key", "https://kv.vault.azure.net/secrets/partner", "/id/orders", None)
    ]
    assert [(e.name, e.secret_ref, e.value) for e in env] == [
        ("PARTNER_API_KEY", "partner-api-key", None)
    ]


def test_no_service_reads_a_secret_today() -> None:
    # Everything the services reach takes their identity; a row in SERVICES.secrets (and in
    # infra/security/secrets.py) turns into Key Vault references like the one above.
    assert all(not spec.secrets for spec in SERVICES.values())


def test_servicebus_scale_rule_authenticates_with_the_identity() -> None:
    queue = servicebus_scale_rule(
        BusConsumer(queue="orders-queue", message_count=10),
        namespace_name="sb-plat-dev",
        identity_id="/subscriptions/s/id-orders",
    )
    assert queue.name == "sb-orders-queue"
    assert queue.custom is not None
    assert queue.custom.type == SERVICEBUS_SCALER
    assert queue.custom.identity == "/subscriptions/s/id-orders"
    assert queue.custom.metadata == {
        "namespace": "sb-plat-dev",
        "messageCount": "10",
        "queueName": "orders-queue",
    }
    assert queue.custom.auth is None  # no connection string secret
    topic = servicebus_scale_rule(
        BusConsumer(topic="events-topic", subscription="payments"),
        namespace_name="sb",
        identity_id="/id",
    )
    assert topic.custom is not None
    assert topic.custom.metadata == {
        "namespace": "sb",
        "messageCount": "5",
        "topicName": "events-topic",
        "subscriptionName": "payments",
    }


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"queue": "q", "topic": "t"}, {"topic": "t"}, {"queue": "q", "subscription": "s"}],
)
def test_a_bus_consumer_names_one_entity(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"Service Bus (topic )?consumer"):
        BusConsumer(**kwargs)


def test_traffic_weights() -> None:
    from config.settings import RevisionPin

    assert [(w.latest_revision, w.weight) for w in traffic_weights(None)] == [(True, 100)]
    full = traffic_weights(RevisionPin(revision_name="ca-x--v1", weight=100))
    assert [(w.revision_name, w.weight) for w in full] == [("ca-x--v1", 100)]


def test_the_policy_pack_knows_the_bootstrap_image() -> None:
    # The pack ships on its own (no config import), so the two are kept equal here.
    from policies.rules.containerapps import BOOTSTRAP_IMAGES

    assert BOOTSTRAP_IMAGES == (BOOTSTRAP_IMAGE,)


# --- settings Azure would refuse ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (
            {"containerApps": {"services": {"orders": {"cpu": 0.5, "memoryGi": 2.0}}}},
            "takes 2 GiB per vCPU; allowed: memoryGi = 1",
        ),
        (
            {"containerApps": {"services": {"orders": {"minReplicas": 4, "maxReplicas": 2}}}},
            "minReplicas = 4 is above maxReplicas = 2",
        ),
        ({"containerApps": {"services": {"orders": {"cpu": 0.3}}}}, "cpu"),
        ({"containerApps": {"services": {"orders": {"maxReplicas": 1001}}}}, "maxReplicas"),
        (
            {"containerApps": {"zoneRedundant": True}},
            "minReplicas = 0 with containerApps.zoneRedundant = true",
        ),
        (
            {"containerApps": {"services": {"orders": {"workloadProfile": "big"}}}},
            "workloadProfile = big: no such profile",
        ),
        (
            {"containerApps": {"traffic": {"orders": {"revisionName": "v1", "weight": 50}}}},
            "revisionName",
        ),
        (
            {"features": {"enableSqlDatabase": False}},
            "features.enableSqlDatabase = false: the services refuse to start",
        ),
        (
            {"features": {"enableContainerApps": False}},
            "enableFunctions = true with features.enableContainerApps = false",
        ),
    ],
)
def test_impossible_container_apps_settings_are_rejected(
    overrides: dict[str, object], fragment: str
) -> None:
    config = {**BASE, "platform:overrides": json.dumps(overrides)}
    with pytest.raises(SettingsError, match=fragment):
        load_stack_settings("dev", config)


def test_zone_redundancy_needs_a_region_with_zones() -> None:
    config = {**BASE, "platform:location": "westus"}
    with pytest.raises(SettingsError, match=r"containerApps\.zoneRedundant = true in westus"):
        load_stack_settings("prod", config)
    assert load_stack_settings("prod", BASE).env.container_apps.zone_redundant is True


def test_a_dedicated_profile_is_added_next_to_consumption() -> None:
    settings = ContainerAppsSettings.model_validate(
        {
            "dedicatedProfile": {"name": "d4", "workloadProfileType": "D4"},
            "services": {
                s: ServiceCompute(workload_profile="d4" if s == "orders" else "Consumption")
                for s in SERVICE_NAMES
            },
        }
    )
    assert settings.services["orders"].workload_profile == "d4"
    with pytest.raises(ValueError, match="Consumption profile"):
        ContainerAppsSettings.model_validate(
            {"dedicatedProfile": {"name": "Consumption", "workloadProfileType": "D4"}}
        )


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_only_the_gateway_subnet_may_call_the_authenticate_endpoint(stack: str) -> None:
    """users-api admits POST /internal/v1/authenticate from the API Management subnet alone,
    reading the caller from the X-Forwarded-For entry Container Apps ingress appends."""
    apps = _apps(stack_run(stack))
    env = _env_vars(apps["users"])
    gateway = get_environment_settings(stack).network.subnets[SubnetName.GATEWAY]
    assert env["AUTHENTICATE_ALLOWED_CIDRS"]["value"] == gateway
    assert env["AUTHENTICATE_CLIENT_ADDRESS"]["value"] == "forwarded-for"
    for other in ("orders", "products", "payments"):
        assert "AUTHENTICATE_ALLOWED_CIDRS" not in _env_vars(apps[other])
