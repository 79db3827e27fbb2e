"""Monthly cost estimate: every deployed type priced, figures that follow settings and usage."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from config.settings import ENVIRONMENTS, load_stack_settings
from offline import cost
from offline.engine import ProgramRun, RecordedResource
from offline.prices import PRICES
from tests.conftest import stack_run

Run = Callable[..., ProgramRun]


def _estimate(run: ProgramRun) -> cost.CostReport:
    assert run.error is None, run.error
    return cost.estimate(run, load_stack_settings(run.stack, run.config))


def _overridden(run_with: Run, stack: str, overrides: dict[str, Any]) -> ProgramRun:
    return run_with(stack, **{"platform:overrides": json.dumps(overrides)})


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_every_resource_of_every_stack_is_priced_or_free(stack: str) -> None:
    report = _estimate(stack_run(stack))
    assert report.unpriced == {}
    assert report.total_usd > 0
    assert round(sum(report.by_layer().values()), 2) == pytest.approx(report.total_usd, abs=0.05)
    assert (
        report.budget_usd
        == load_stack_settings(stack, stack_run(stack).config).env.monitoring.monthly_budget_usd
    )


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_every_stack_fits_its_budget(stack: str) -> None:
    report = _estimate(stack_run(stack))
    assert not report.over_budget, cost.render_text(report)


def test_prod_is_dominated_by_ddos_service_bus_and_logs() -> None:
    # Service Bus geo-replication bills the secondary replica's messaging unit too.
    top = [name for _, name, _, _ in _estimate(stack_run("prod")).dominant(3)]
    assert top == ["networking-ddos", "messaging-sb", "observability-workspace"]


def test_geo_replication_doubles_the_service_bus_units(run_with: Run) -> None:
    single = _overridden(run_with, "prod", {"recovery": {"serviceBusGeoReplication": False}})
    sb = [i for i in _estimate(stack_run("prod")).items if i.name == "messaging-sb"]
    sb_single = [i for i in _estimate(single).items if i.name == "messaging-sb"]
    assert sb[0].quantity == pytest.approx(2 * sb_single[0].quantity)


def test_sql_sku_change_moves_the_estimate_by_the_list_price_difference(run_with: Run) -> None:
    base = _estimate(stack_run("dev"))
    changed = _estimate(_overridden(run_with, "dev", {"skus": {"sqlDatabase": "S1"}}))
    delta = PRICES["sql.S1"].usd - PRICES["sql.Basic"].usd
    assert changed.total_usd - base.total_usd == pytest.approx(delta, abs=0.01)
    meters = {i.meter for i in changed.items if i.type == "azure-native:sql:Database"}
    assert meters == {"sql.S1"}


def test_log_ingestion_is_capped_by_the_daily_quota(run_with: Run) -> None:
    run = _overridden(run_with, "dev", {"monitoring": {"dailyQuotaGb": 0.2}})
    ingest = next(i for i in _estimate(run).items if i.meter == "log_analytics.ingest")
    assert ingest.quantity == pytest.approx(0.2 * 30.42, abs=0.001)
    assert "daily cap" in ingest.note
    uncapped = next(
        i for i in _estimate(stack_run("dev")).items if i.meter == "log_analytics.ingest"
    )
    assert uncapped.quantity == pytest.approx(cost.USAGE["dev"].log_ingest_gb_per_day * 30.42)


def test_long_retention_costs_what_is_kept_beyond_31_days() -> None:
    report = _estimate(stack_run("prod"))
    retention = next(i for i in report.items if i.meter == "log_analytics.retention")
    assert retention.quantity == pytest.approx(
        cost.USAGE["prod"].log_ingest_gb_per_day * (365 - 31)
    )


def test_over_budget_says_what_dominates(run_with: Run) -> None:
    run = _overridden(run_with, "prod", {"monitoring": {"monthlyBudgetUsd": 1000}})
    report = _estimate(run)
    assert report.over_budget
    text = cost.render_text(report)
    assert "OVER BUDGET" in text
    assert "dominated by: networking-ddos $2,944" in text


def _fake_run(*resources: RecordedResource) -> ProgramRun:
    return ProgramRun(
        stack="dev",
        project="platform",
        config=dict(stack_run("dev").config),
        resources={r.urn: r for r in resources},
        stack_outputs={},
        secret_outputs=set(),
        invokes=[],
        problems=[],
        error=None,
    )


def _resource(type_: str, name: str, **inputs: Any) -> RecordedResource:
    return RecordedResource(
        urn=f"urn:pulumi:dev::platform::{type_}::{name}",
        type=type_,
        name=name,
        custom=True,
        parent=None,
        protect=False,
        inputs=inputs,
        outputs={},
        id=None,
    )


def test_a_type_without_a_price_is_reported_not_costed_as_zero() -> None:
    run = _fake_run(
        _resource("azure-native:network:ApplicationGateway", "agw"),
        _resource("azure-native:servicebus:Namespace", "sb", sku={"name": "Basic"}),
        _resource("azure-native:servicebus:Queue", "q"),
        _resource("azure-native:cdn:Profile", "fd", sku={"name": "Standard_Verizon"}),
    )
    report = _estimate(run)
    assert set(report.unpriced) == {
        "azure-native:network:ApplicationGateway",
        "azure-native:servicebus:Namespace (Service Bus sku 'Basic')",
        "azure-native:cdn:Profile (no meter front_door.Standard_Verizon)",
    }
    assert report.free["azure-native:servicebus:Queue"] == "billed through its parent resource"
    assert report.items == []
    assert "NOT PRICED" in cost.render_text(report)


def test_redis_high_availability_doubles_the_nodes() -> None:
    run = _fake_run(
        _resource("azure-native:redisenterprise:RedisEnterprise", "a", sku={"name": "Balanced_B1"}),
        _resource(
            "azure-native:redisenterprise:RedisEnterprise",
            "b",
            sku={"name": "Balanced_B1"},
            highAvailability="Disabled",
        ),
    )
    items = {i.name: i.monthly_usd for i in _estimate(run).items}
    assert items["a"] == pytest.approx(2 * items["b"])


def test_every_price_names_its_source_and_basis() -> None:
    for meter, entry in PRICES.items():
        assert entry.source.startswith("https://azure.microsoft.com/pricing/"), meter
        assert entry.basis in ("quoted", "assumption"), meter
        assert entry.usd >= 0, meter


def test_cost_command_prints_the_estimate(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost.main(["staging"]) == 0
    text = capsys.readouterr().out
    assert "Monthly cost estimate (staging): $" in text
    assert "of a $2,000 budget, within budget" in text
    assert "messaging-sb" in text
    assert cost.main(["qa", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["budget_usd"] == 500 and data["unpriced"] == {}
    assert data["usage"]["log_ingest_gb_per_day"] == cost.USAGE["qa"].log_ingest_gb_per_day


def test_the_audit_account_costs_its_records_kept_and_written() -> None:
    usage = cost.USAGE["prod"]
    items = [i for i in _estimate(stack_run("prod")).items if i.name == "audit-st"]
    by_meter = {i.meter: i for i in items}
    # Geo-redundant hot storage for the records kept, one write per record, no reads.
    assert set(by_meter) == {"blob.hot.GRS", "blob.writes"}
    assert by_meter["blob.hot.GRS"].monthly_usd == pytest.approx(
        usage.audit_blob_gb * PRICES["blob.hot.GRS"].usd
    )
    assert by_meter["blob.writes"].monthly_usd == pytest.approx(
        usage.audit_writes_10k * PRICES["blob.writes"].usd
    )
    # Dev keeps its few records in one datacenter.
    dev = [i for i in _estimate(stack_run("dev")).items if i.name == "audit-st"]
    assert {i.meter for i in dev} == {"blob.hot.LRS", "blob.writes"}
