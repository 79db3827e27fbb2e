"""Disaster recovery: prod meets seed 000's RTO < 4 h and RPO < 1 h, and the program deploys
the copies the assessment counts on."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from config.recovery import (
    PAIRED_REGIONS,
    RecoverySettings,
    assess,
    overall,
    render_markdown,
    shortfalls,
)
from config.settings import (
    AZURE_REGIONS,
    ENVIRONMENTS,
    EnvironmentSettings,
    SettingsError,
    get_environment_settings,
    load_stack_settings,
)
from offline.engine import ProgramRun, load_stack_config
from offline.plan import summarize
from tests.conftest import stack_run

Run = Callable[..., ProgramRun]


def _with_recovery(environment: str, **recovery: Any) -> EnvironmentSettings:
    data = get_environment_settings(environment).model_dump(by_alias=True, mode="json")
    data["recovery"].update(recovery)
    return EnvironmentSettings.model_validate(data)


def test_prod_meets_the_objectives() -> None:
    prod = get_environment_settings("prod")
    assert shortfalls(prod) == []
    rto, rpo = overall(assess(prod))
    assert rto is not None and rpo is not None
    assert rto < 4 * 60 and rpo < 60
    assert prod.recovery.rto_minutes == 240 and prod.recovery.rpo_minutes == 60
    # Every stateful component has a cross-region mechanism with a source.
    components = {c.component: c for c in assess(prod)}
    for name in ("Azure SQL", "Service Bus", "ETL storage", "Key Vault", "Container images"):
        assert components[name].rto_minutes is not None, name
        assert components[name].source.startswith(("https://", "offline/")), name


def test_geo_restore_alone_would_miss_the_rto() -> None:
    without = _with_recovery("prod", sqlFailoverGroup=False)
    (sql,) = [c for c in assess(without) if c.component == "Azure SQL"]
    assert sql.rto_minutes == 12 * 60
    assert any(s.startswith("Azure SQL") for s in shortfalls(without))


def test_service_bus_without_replication_is_not_recoverable() -> None:
    without = _with_recovery("prod", serviceBusGeoReplication=False)
    assert any("Service Bus" in s for s in shortfalls(without))


@pytest.mark.parametrize("environment", [e for e in ENVIRONMENTS if e != "prod"])
def test_other_environments_keep_no_copies(environment: str) -> None:
    recovery = get_environment_settings(environment).recovery
    assert not recovery.any_enabled


def test_a_replication_lag_azure_refuses_is_refused() -> None:
    with pytest.raises(ValueError, match="0 \\(synchronous\\) or 300-86400"):
        RecoverySettings(service_bus_max_lag_seconds=120)
    assert RecoverySettings(service_bus_max_lag_seconds=0).service_bus_max_lag_seconds == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"skus": {"containerRegistry": "Standard"}, "security": {"enablePrivateEndpoints": False}},
         "geo-replication needs Premium"),
        ({"recovery": {"sqlFailoverGroup": True}, "features": {"enableSqlDatabase": False}},
         "no database to replicate"),
    ],
)  # fmt: skip
def test_copies_azure_cannot_make_are_refused(changes: dict[str, Any], message: str) -> None:
    config, _ = load_stack_config("prod")
    config["platform:overrides"] = json.dumps(changes)
    with pytest.raises(SettingsError, match=message):
        load_stack_settings("prod", config)


def test_service_bus_geo_replication_needs_premium() -> None:
    with pytest.raises(ValueError, match=r"serviceBusGeoReplication = true with skus\.serviceBus"):
        _with_recovery("dev", serviceBusGeoReplication=True)


def test_a_region_without_a_pair_needs_an_explicit_secondary() -> None:
    config, _ = load_stack_config("prod")
    config["platform:location"] = "italynorth"
    with pytest.raises(SettingsError, match="no secondary region for platform:location"):
        load_stack_settings("prod", config)
    config["platform:overrides"] = json.dumps({"recovery": {"secondaryRegion": "italynorth"}})
    with pytest.raises(SettingsError, match="is the primary region"):
        load_stack_settings("prod", config)
    # (Static Web Apps are not offered in italynorth: the SPA goes to a region that has them.)
    config["platform:overrides"] = json.dumps(
        {
            "recovery": {"secondaryRegion": "westeurope"},
            "frontend": {"staticWebAppLocation": "westeurope"},
        }
    )
    assert load_stack_settings("prod", config).secondary_region == "westeurope"


def test_every_pair_is_a_named_region_and_symmetric_where_azure_is() -> None:
    assert set(PAIRED_REGIONS) | set(PAIRED_REGIONS.values()) <= set(AZURE_REGIONS)
    assert PAIRED_REGIONS["westus2"] == "westcentralus"
    assert PAIRED_REGIONS[PAIRED_REGIONS["westus2"]] == "westus2"


def test_prod_deploys_the_copies_in_the_paired_region() -> None:
    run = stack_run("prod")
    servers = {r.name: r for r in run.by_type("azure-native:sql:Server")}
    assert servers["database-secondary-sql"].inputs["location"] == "westcentralus"
    assert "-wcus-" in servers["database-secondary-sql"].inputs["serverName"]
    assert servers["database-secondary-sql"].inputs["publicNetworkAccess"] == "Disabled"
    group = run.one("azure-native:sql:FailoverGroup")
    assert group.inputs["partnerServers"] == [{"id": servers["database-secondary-sql"].id}]
    assert group.inputs["databases"] == [run.one("azure-native:sql:Database").id]
    assert group.inputs["readWriteEndpoint"] == {
        "failoverPolicy": "Automatic",
        "failoverWithDataLossGracePeriodMinutes": 60,
    }
    replica = run.one("azure-native:containerregistry:Replication")
    assert replica.inputs["location"] == "westcentralus"
    namespace = run.one("azure-native:servicebus:Namespace")
    assert namespace.inputs["geoDataReplication"]["locations"] == [
        {"locationName": "westus2", "roleType": "Primary"},
        {"locationName": "westcentralus", "roleType": "Secondary"},
    ]
    # Clients follow the primary through the listener; the partner has a private endpoint.
    assert (
        run.stack_outputs["sql_listener_fqdn"]
        == f"{group.inputs['failoverGroupName']}.database.windows.net"
    )
    endpoints = [r.name for r in run.by_type("azure-native:network:PrivateEndpoint")]
    assert "database-secondary-sql-pep" in endpoints


@pytest.mark.parametrize("stack", ["dev", "qa", "staging"])
def test_other_stacks_deploy_no_copies(stack: str) -> None:
    run = stack_run(stack)
    assert run.by_type("azure-native:sql:FailoverGroup") == []
    assert run.by_type("azure-native:containerregistry:Replication") == []
    assert all(
        "geoDataReplication" not in r.inputs
        for r in run.by_type("azure-native:servicebus:Namespace")
    )
    assert run.stack_outputs.get("sql_listener_fqdn") == run.stack_outputs.get("sql_server_fqdn")


def test_prod_without_the_copies_fails_its_policy(run_with: Run) -> None:
    overrides = {"recovery": {"sqlFailoverGroup": False, "acrGeoReplication": False}}
    plan = summarize(run_with("prod", **{"platform:overrides": json.dumps(overrides)}))
    assert not plan["ok"]
    assert "prod-cross-region-copies" in plan["policy"]["text"]


def test_the_runbook_embeds_prods_current_table() -> None:
    from pathlib import Path

    runbook = (Path(__file__).resolve().parent.parent / "docs" / "runbook.md").read_text()
    begin = "<!-- recovery:prod:begin (python -m config.recovery prod; do not edit) -->\n"
    end = "<!-- recovery:prod:end -->"
    assert begin in runbook and end in runbook
    embedded = runbook.split(begin, 1)[1].split(end, 1)[0].strip()
    assert embedded == render_markdown(get_environment_settings("prod"))
