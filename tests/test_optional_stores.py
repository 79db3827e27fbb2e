"""Optional stores per environment: Azure Managed Redis (dev, prod) and Cosmos DB (dev) by flag."""

from __future__ import annotations

import functools
import json
from typing import Any

import pulumi
import pytest

from config.settings import ENVIRONMENTS, get_environment_settings
from infra.cosmos import (
    DATA_CONTRIBUTOR_ROLE,
    RUNS_PARTITION_KEY,
    Cosmos,
    CosmosArgs,
    runs_ttl_seconds,
)
from infra.redis import CLUSTERING_POLICY, DATABASE_PORT, Redis, RedisArgs
from infra.security import Workload
from offline.engine import ProgramRun, RecordedResource
from tests.test_etl import EGRESS_IP, WORKSPACE_ID, Platform, principal_of, run_layer

CLUSTER = "azure-native:redisenterprise:RedisEnterprise"
REDIS_DB = "azure-native:redisenterprise:Database"
ACCESS = "azure-native:redisenterprise:AccessPolicyAssignment"
ACCOUNT = "azure-native:cosmosdb:DatabaseAccount"
SQL_DB = "azure-native:cosmosdb:SqlResourceSqlDatabase"
SQL_CONTAINER = "azure-native:cosmosdb:SqlResourceSqlContainer"
SQL_ROLE = "azure-native:cosmosdb:SqlResourceSqlRoleAssignment"
DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
ENDPOINT = "azure-native:network:PrivateEndpoint"
LOCK = "azure-native:authorization:ManagementLockByScope"

REDIS_STACKS = ("dev", "prod")
COSMOS_STACKS = ("dev",)


def build_optional_stores(platform: Platform) -> tuple[Redis | None, Cosmos | None]:
    """Mirrors `__main__.py`: each store exists only where its feature flag is on."""
    env, core = platform.env, platform.core
    redis = None
    if env.features.enable_redis:
        redis = Redis(
            "redis",
            RedisArgs(
                placement=core.placement(env),
                identities=platform.identities,
                private_endpoint_site=platform.networking.private_endpoint_site,
                workspace_id=platform.workspace_id,
            ),
        )
    cosmos = None
    if env.features.enable_cosmos_db:
        cosmos = Cosmos(
            "cosmos",
            CosmosArgs(
                placement=core.placement(env),
                allowed_ip_ranges=platform.allowed_ip_ranges,
                identities=platform.identities,
                private_endpoint_site=platform.networking.private_endpoint_site,
                workspace_id=platform.workspace_id,
            ),
        )
    return redis, cosmos


def _export_stores(platform: Platform) -> None:
    redis, cosmos = build_optional_stores(platform)
    if redis is not None:
        pulumi.export("redis_host_name", redis.host_name)
        pulumi.export("redis_port", redis.port)
    if cosmos is not None:
        pulumi.export("cosmos_endpoint", cosmos.endpoint)
        pulumi.export("cosmos_database", cosmos.database_name)


@functools.cache
def layer_run(stack: str) -> ProgramRun:
    return run_layer(stack, _export_stores)


@functools.cache
def run_with_flags(stack: str, flags: str) -> ProgramRun:
    """A stack with feature flags overridden, e.g. `'{"enableCosmosDb": true}'`."""
    return run_layer(stack, _export_stores, overrides={"features": json.loads(flags)})


@pytest.fixture(params=ENVIRONMENTS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _endpoints_to(run: ProgramRun, target: RecordedResource) -> list[RecordedResource]:
    return [
        e
        for e in run.by_type(ENDPOINT)
        if e.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == target.id
    ]


def _in_data_subnet_and_zone(run: ProgramRun, endpoint: RecordedResource, zone: str) -> None:
    data_subnet = next(
        s for s in run.by_type("azure-native:network:Subnet") if s.name.endswith("snet-data")
    )
    assert endpoint.inputs["subnet"]["id"] == data_subnet.id
    zone_id = next(
        z.id
        for z in run.by_type("azure-native:privatedns:PrivateZone")
        if z.inputs["privateZoneName"] == zone
    )
    group = next(
        g
        for g in run.by_type("azure-native:network:PrivateDnsZoneGroup")
        if g.parent == endpoint.urn
    )
    assert group.inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == zone_id


def test_runs_without_errors_or_input_problems(stack: str) -> None:
    run = layer_run(stack)
    assert run.error is None
    assert [str(p) for p in run.problems] == []


def test_stores_exist_only_where_their_flags_say(stack: str) -> None:
    run, features = layer_run(stack), get_environment_settings(stack).features
    assert features.enable_redis is (stack in REDIS_STACKS)
    assert features.enable_cosmos_db is (stack in COSMOS_STACKS)
    assert len(run.by_type(CLUSTER)) == (1 if stack in REDIS_STACKS else 0)
    assert len(run.by_type(REDIS_DB)) == (1 if stack in REDIS_STACKS else 0)
    assert len(run.by_type(ACCOUNT)) == (1 if stack in COSMOS_STACKS else 0)
    assert len(run.by_type("platform:redis:Redis")) == (1 if stack in REDIS_STACKS else 0)
    assert len(run.by_type("platform:cosmos:Cosmos")) == (1 if stack in COSMOS_STACKS else 0)


def test_the_wiring_follows_overridden_flags_too() -> None:
    off = run_with_flags("dev", '{"enableRedis": false, "enableCosmosDb": false}')
    assert off.error is None
    assert off.by_type(CLUSTER) == [] and off.by_type(ACCOUNT) == []
    on = run_with_flags("qa", '{"enableRedis": true, "enableCosmosDb": true}')
    assert on.error is None and on.problems == []
    assert len(on.by_type(CLUSTER)) == 1 and len(on.by_type(ACCOUNT)) == 1


# --- Azure Managed Redis -------------------------------------------------------------------


@pytest.mark.parametrize("stack", REDIS_STACKS)
def test_redis_cluster_sku_tls_availability_and_network(stack: str) -> None:
    run, env = layer_run(stack), get_environment_settings(stack)
    cluster = run.one(CLUSTER)
    inputs = cluster.inputs
    assert inputs["sku"] == {"name": env.skus.redis}
    assert inputs["minimumTlsVersion"] == "1.2"
    assert inputs["highAvailability"] == ("Enabled" if stack == "prod" else "Disabled")
    assert inputs["clusterName"].startswith(f"amr-plat-{stack}-")
    assert inputs["tags"]["layer"] == "redis"
    endpoints = _endpoints_to(run, cluster)
    if stack == "prod":
        assert inputs["publicNetworkAccess"] == "Disabled"
        (endpoint,) = endpoints
        assert endpoint.inputs["privateLinkServiceConnections"][0]["groupIds"] == [
            "redisEnterprise"
        ]
        _in_data_subnet_and_zone(run, endpoint, "privatelink.redis.azure.net")
    else:
        assert inputs["publicNetworkAccess"] == "Enabled"
        assert endpoints == []


@pytest.mark.parametrize("stack", REDIS_STACKS)
def test_redis_database_is_encrypted_and_keyless(stack: str) -> None:
    run = layer_run(stack)
    database = run.one(REDIS_DB).inputs
    assert database["databaseName"] == "default"
    assert database["clusterName"] == run.one(CLUSTER).inputs["clusterName"]
    assert database["clientProtocol"] == "Encrypted"
    assert database["accessKeysAuthentication"] == "Disabled"
    assert database["clusteringPolicy"] == CLUSTERING_POLICY == "EnterpriseCluster"
    assert database["port"] == DATABASE_PORT == 10000
    assert database["evictionPolicy"] == "VolatileLRU"


@pytest.mark.parametrize("stack", REDIS_STACKS)
def test_only_orders_and_products_may_use_the_cache(stack: str) -> None:
    run = layer_run(stack)
    assignments = run.by_type(ACCESS)
    assert sorted(a.inputs["user"]["objectId"] for a in assignments) == sorted(
        principal_of(w) for w in (Workload.ORDERS, Workload.PRODUCTS)
    )
    database = run.one(REDIS_DB).inputs
    for assignment in assignments:
        assert assignment.inputs["accessPolicyName"] == "default"
        assert assignment.inputs["databaseName"] == database["databaseName"]
        assert assignment.inputs["clusterName"] == database["clusterName"]
        assert assignment.inputs["accessPolicyAssignmentName"].isalnum()


@pytest.mark.parametrize("stack", REDIS_STACKS)
def test_redis_diagnostics(stack: str) -> None:
    run = layer_run(stack)
    settings = {d.inputs["resourceUri"]: d.inputs for d in run.by_type(DIAGNOSTIC)}
    on_cluster = settings[run.one(CLUSTER).id]
    assert on_cluster["workspaceId"] == WORKSPACE_ID
    assert on_cluster.get("logs") is None
    assert on_cluster["metrics"] == [{"category": "AllMetrics", "enabled": True}]
    on_database = settings[run.one(REDIS_DB).id]
    assert on_database["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    assert on_database.get("metrics") is None


# --- Cosmos DB -----------------------------------------------------------------------------


def _cosmos_account(run: ProgramRun) -> dict[str, Any]:
    return run.one(ACCOUNT).inputs


def test_cosmos_is_serverless_entra_only_and_tls12() -> None:
    run = layer_run("dev")
    inputs = _cosmos_account(run)
    assert inputs["capabilities"] == [{"name": "EnableServerless"}]
    assert inputs["kind"] == "GlobalDocumentDB"
    assert inputs["databaseAccountOfferType"] == "Standard"
    assert inputs["locations"] == [{"locationName": "westus2", "failoverPriority": 0}]
    assert inputs["disableLocalAuth"] is True
    assert inputs["disableKeyBasedMetadataWriteAccess"] is True
    assert inputs["minimalTlsVersion"] == "Tls12"
    assert inputs["accountName"].startswith("cosmos-plat-dev-")
    assert inputs["tags"]["layer"] == "cosmos"


def test_cosmos_is_public_with_ip_rules_in_dev() -> None:
    run = layer_run("dev")
    inputs = _cosmos_account(run)
    assert inputs["publicNetworkAccess"] == "Enabled"
    assert inputs["ipRules"] == [{"ipAddressOrRange": EGRESS_IP}]
    assert _endpoints_to(run, run.one(ACCOUNT)) == []


def test_cosmos_goes_private_where_private_endpoints_are() -> None:
    run = run_with_flags("staging", '{"enableCosmosDb": true}')
    assert run.error is None and run.problems == []
    account = run.one(ACCOUNT)
    assert account.inputs["publicNetworkAccess"] == "Disabled"
    assert account.inputs["ipRules"] == []
    (endpoint,) = _endpoints_to(run, account)
    assert endpoint.inputs["privateLinkServiceConnections"][0]["groupIds"] == ["Sql"]
    _in_data_subnet_and_zone(run, endpoint, "privatelink.documents.azure.com")


def test_cosmos_run_log_database_and_container() -> None:
    run, env = layer_run("dev"), get_environment_settings("dev")
    account_name = _cosmos_account(run)["accountName"]
    database = run.one(SQL_DB).inputs
    assert database["databaseName"] == "etl"
    assert database["resource"] == {"id": "etl"}
    assert database["accountName"] == account_name
    container = run.one(SQL_CONTAINER).inputs
    assert container["containerName"] == "runs"
    assert container["databaseName"] == "etl"
    assert container["resource"]["partitionKey"] == {
        "paths": [RUNS_PARTITION_KEY],
        "kind": "Hash",
        "version": 2,
    }
    assert container["resource"]["defaultTtl"] == env.etl.delete_after_days * 86_400
    assert runs_ttl_seconds(90) == 7_776_000


def test_worker_is_cosmos_data_contributor_on_the_etl_database_only() -> None:
    run = layer_run("dev")
    account = run.one(ACCOUNT)
    (assignment,) = run.by_type(SQL_ROLE)
    inputs = assignment.inputs
    assert inputs["principalId"] == principal_of(Workload.WORKERS)
    assert inputs["roleDefinitionId"] == f"{account.id}/sqlRoleDefinitions/{DATA_CONTRIBUTOR_ROLE}"
    assert DATA_CONTRIBUTOR_ROLE == "00000000-0000-0000-0000-000000000002"
    assert inputs["scope"] == f"{account.id}/dbs/etl"
    assert inputs["accountName"] == account.inputs["accountName"]
    assert len(inputs["roleAssignmentId"]) == 36


def test_cosmos_diagnostics_use_resource_specific_tables() -> None:
    run = layer_run("dev")
    (setting,) = [
        d for d in run.by_type(DIAGNOSTIC) if d.inputs["resourceUri"] == run.one(ACCOUNT).id
    ]
    assert setting.inputs["workspaceId"] == WORKSPACE_ID
    assert setting.inputs["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    assert setting.inputs["logAnalyticsDestinationType"] == "Dedicated"


def test_cosmos_is_protected_and_locked_where_data_is() -> None:
    dev = layer_run("dev")
    assert dev.one(ACCOUNT).protect is False
    assert dev.by_type(LOCK) == []
    prod = run_with_flags("prod", '{"enableCosmosDb": true}')
    assert prod.error is None and prod.problems == []
    account = prod.one(ACCOUNT)
    assert account.protect is True
    (lock,) = [lk for lk in prod.by_type(LOCK) if lk.inputs["scope"] == account.id]
    assert lock.inputs["level"] == "CanNotDelete"


def test_outputs_hold_endpoints_but_no_keys(stack: str) -> None:
    run = layer_run(stack)
    components = run.by_type("platform:redis:Redis") + run.by_type("platform:cosmos:Cosmos")
    text = json.dumps([[c.outputs for c in components], run.stack_outputs]).lower()
    for secret_marker in ("primarykey", "secondarykey", "accountkey", "connectionstring"):
        assert secret_marker not in text
    if stack in REDIS_STACKS:
        assert run.stack_outputs["redis_port"] == 10000
        assert run.stack_outputs["redis_host_name"].endswith(".redis.azure.net")
    if stack in COSMOS_STACKS:
        assert run.stack_outputs["cosmos_endpoint"].startswith("https://cosmos-plat-dev-")
        assert run.stack_outputs["cosmos_database"] == "etl"
