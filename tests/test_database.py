"""Database layer per environment: Entra-only SQL, network access, backups, protection, grants."""

from __future__ import annotations

import json
import uuid

import pytest

from config.settings import ENVIRONMENTS, get_environment_settings
from infra.database import DatabaseUser, grant_statements, users_from_outputs
from infra.database.sql_database import sku_args
from offline.engine import DEPLOYER_OBJECT_ID, TENANT_ID, ProgramRun, RecordedResource
from tests.conftest import stack_run

SERVER = "azure-native:sql:Server"
DATABASE = "azure-native:sql:Database"


def _primary(run: ProgramRun) -> RecordedResource:
    """The primary server (prod also has the failover group's partner)."""
    (server,) = [r for r in run.by_type(SERVER) if r.name == "database-sql"]
    return server


@pytest.mark.parametrize("stack", ENVIRONMENTS)
@pytest.mark.parametrize("role", ["database-sql", "database-secondary-sql"])
def test_server_is_entra_only_with_tls_12(stack: str, role: str) -> None:
    servers = [r for r in stack_run(stack).by_type(SERVER) if r.name == role]
    if role == "database-secondary-sql" and stack != "prod":
        assert servers == []
        return
    (server,) = servers
    admin = server.inputs["administrators"]
    assert admin["azureADOnlyAuthentication"] is True
    assert admin["administratorType"] == "ActiveDirectory"
    assert admin["tenantId"] == TENANT_ID
    # Without an admin group in the stack file, the deploying identity is the admin.
    assert admin["sid"] == DEPLOYER_OBJECT_ID
    assert "administratorLogin" not in server.inputs
    assert "administratorLoginPassword" not in server.inputs
    assert server.inputs["minimalTlsVersion"] == "1.2"


def test_admin_group_from_stack_config(run_with: object) -> None:
    group_id = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    run: ProgramRun = run_with(  # type: ignore[operator]
        "prod",
        **{"platform:sqlAdminLogin": "sg-sql-admins", "platform:sqlAdminObjectId": group_id},
    )
    admin = _primary(run).inputs["administrators"]
    assert admin == {**admin, "login": "sg-sql-admins", "sid": group_id, "principalType": "Group"}


def test_half_an_admin_is_rejected(run_with: object) -> None:
    run: ProgramRun = run_with("dev", **{"platform:sqlAdminLogin": "sg-sql-admins"})  # type: ignore[operator]
    assert run.error is not None
    assert "platform:sqlAdminLogin and platform:sqlAdminObjectId go together" in run.error
    assert run.resources == {}


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_public_access_off_with_private_endpoint_else_firewall_allow_list(stack: str) -> None:
    run = stack_run(stack)
    server = _primary(run)
    endpoints = [
        e
        for e in run.by_type("azure-native:network:PrivateEndpoint")
        if e.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == server.id
    ]
    rules = run.by_type("azure-native:sql:FirewallRule")
    if stack in ("staging", "prod"):
        assert server.inputs["publicNetworkAccess"] == "Disabled"
        (endpoint,) = endpoints
        assert endpoint.inputs["privateLinkServiceConnections"][0]["groupIds"] == ["sqlServer"]
        assert rules == []
    else:
        assert server.inputs["publicNetworkAccess"] == "Enabled"
        assert endpoints == []
        nat_ip = run.stack_outputs["egress_public_ip"]
        assert {(r.inputs["startIpAddress"], r.inputs["endIpAddress"]) for r in rules} == {
            (nat_ip, nat_ip)
        }
        assert all(r.inputs["startIpAddress"] != "0.0.0.0" for r in rules)  # noqa: S104


def test_operator_ranges_become_firewall_ranges(run_with: object) -> None:
    run: ProgramRun = run_with(
        "dev", **{"platform:allowedIpRanges": json.dumps(["203.0.113.0/24"])}
    )  # type: ignore[operator]
    ranges = {
        (r.inputs["startIpAddress"], r.inputs["endIpAddress"])
        for r in run.by_type("azure-native:sql:FirewallRule")
    }
    assert ("203.0.113.0", "203.0.113.255") in ranges


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_database_sku_backups_and_resilience(stack: str) -> None:
    run, env = stack_run(stack), get_environment_settings(stack)
    database = run.one(DATABASE)
    assert database.inputs["sku"]["name"] == env.skus.sql_database
    assert (
        database.inputs["requestedBackupStorageRedundancy"]
        == env.database.backup_storage_redundancy
    )
    pitr = run.one("azure-native:sql:BackupShortTermRetentionPolicy")
    assert pitr.inputs["retentionDays"] == {"dev": 7, "qa": 7, "staging": 14, "prod": 35}[stack]
    ltr = run.by_type("azure-native:sql:LongTermRetentionPolicy")
    if stack == "prod":
        (policy,) = ltr
        assert policy.inputs["weeklyRetention"] == "P52W"
        assert database.inputs["sku"]["tier"] == "Standard"
    else:
        assert ltr == []


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_auditing_diagnostics_alerts_and_defender(stack: str) -> None:
    run = stack_run(stack)
    database = run.one(DATABASE)
    servers = run.by_type(SERVER)
    audits = run.by_type("azure-native:sql:ServerBlobAuditingPolicy")
    # Every server audits, the failover group's partner (prod) included.
    assert sorted(a.inputs["serverName"] for a in audits) == sorted(
        s.inputs["serverName"] for s in servers
    )
    for audit in audits:
        assert audit.inputs["state"] == "Enabled"
        assert audit.inputs["isAzureMonitorTargetEnabled"] is True
    targets = {
        d.inputs["resourceUri"] for d in run.by_type("azure-native:monitor:DiagnosticSetting")
    }
    for each in servers:
        assert f"{each.id}/databases/master" in targets
    assert database.id in targets
    alerts = [
        a
        for a in run.by_type("azure-native:monitor:MetricAlert")
        if a.inputs["scopes"] == [database.id]
    ]
    assert {a.inputs["criteria"]["allOf"][0]["metricName"] for a in alerts} == {
        "cpu_percent",
        "storage_percent",
    }
    defender = run.by_type("azure-native:sql:ServerSecurityAlertPolicy")
    assert len(defender) == (len(servers) if stack in ("staging", "prod") else 0)


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_prod_data_is_protected_and_locked(stack: str) -> None:
    run = stack_run(stack)
    server, database = _primary(run), run.one(DATABASE)
    locked = {
        lock.inputs["scope"]
        for lock in run.by_type("azure-native:authorization:ManagementLockByScope")
    }
    prod = stack == "prod"
    assert server.protect is prod
    assert database.protect is prod
    assert (server.id in locked) is prod
    assert (database.id in locked) is prod


def test_sku_args_split_vcore_names() -> None:
    vcore = sku_args("GP_Gen5_2")
    assert (vcore.name, vcore.tier, vcore.family, vcore.capacity) == (
        "GP_Gen5",
        "GeneralPurpose",
        "Gen5",
        2,
    )
    dtu = sku_args("S2")
    assert (dtu.name, dtu.tier) == ("S2", "Standard")


def test_database_identities_are_exported_for_the_grant_step() -> None:
    run = stack_run("staging")
    identities = run.stack_outputs["database_identities"]
    assert set(identities) == {"users", "orders", "products", "payments", "workers"}
    users = users_from_outputs(identities)
    assert {u.name for u in users} == {f"id-plat-{w}-stg-wus2" for w in identities}


def test_grant_statements_are_idempotent_and_least_privilege() -> None:
    principal = str(uuid.uuid4())
    statements = grant_statements(
        [
            DatabaseUser(
                name="id-plat-orders-prod-wus2",
                principal_id=principal,
                roles=("db_datareader", "db_datawriter"),
            )
        ]
    )
    assert len(statements) == 3
    assert statements[0].startswith("IF NOT EXISTS (SELECT 1 FROM sys.database_principals")
    assert f"WITH OBJECT_ID = '{principal}'" in statements[0]
    assert "ALTER ROLE [db_datawriter] ADD MEMBER [id-plat-orders-prod-wus2]" in statements[2]
    assert all(s.startswith("IF NOT EXISTS") for s in statements)


@pytest.mark.parametrize(
    ("user", "message"),
    [
        (
            DatabaseUser("x]; DROP TABLE orders; --", str(uuid.uuid4()), ("db_datareader",)),
            "unsafe database user name",
        ),
        (DatabaseUser("id-plat-orders", "not-a-guid", ("db_datareader",)), "badly formed"),
        (DatabaseUser("id-plat-orders", str(uuid.uuid4()), ("db_owner",)), "not allowed"),
    ],
)
def test_grant_statements_refuse_bad_input(user: DatabaseUser, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grant_statements([user])


def test_missing_workload_in_outputs_is_named() -> None:
    with pytest.raises(ValueError, match="no 'workers'"):
        users_from_outputs(
            {
                w: {"name": "n", "principal_id": str(uuid.uuid4())}
                for w in ("users", "orders", "products", "payments")
            }
        )
