"""First-deploy critical path: the longest chain through the recorded dependencies."""

from __future__ import annotations

from typing import Any

import pytest

from config.settings import ENVIRONMENTS
from offline import critical_path
from offline.create_times import CREATE_MINUTES, create_time
from offline.engine import ProgramRun, RecordedResource
from tests.conftest import stack_run

RG = "azure-native:resources:ResourceGroup"


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_every_stack_has_a_consistent_chain(stack: str) -> None:
    run = stack_run(stack)
    path = critical_path.critical_path(run)
    graph = critical_path.dependency_graph(run)
    assert path.steps, "a stack with resources has a path"
    assert path.steps[0].start == 0
    for before, after in zip(path.steps, path.steps[1:], strict=False):
        assert before.urn in graph[after.urn], f"{after.name} does not wait for {before.name}"
        assert after.start == pytest.approx(before.finish)
    for step in path.steps:
        assert step.finish == pytest.approx(step.start + step.minutes)
    # No chain through the graph is longer than the one reported.
    assert path.minutes == pytest.approx(max(_longest(graph, run).values()))


def _longest(graph: dict[str, set[str]], run: ProgramRun) -> dict[str, float]:
    done: dict[str, float] = {}
    remaining = dict(graph)
    while remaining:
        for urn, before in list(remaining.items()):
            if all(b in done for b in before):
                sku = run.resources[urn].inputs.get("sku")
                name = sku.get("name") if isinstance(sku, dict) else None
                own = create_time(run.resources[urn].kind, name).minutes
                done[urn] = own + max((done[b] for b in before), default=0.0)
                del remaining[urn]
    return done


def test_prod_first_deploy_is_under_twenty_minutes() -> None:
    path = critical_path.critical_path(stack_run("prod"))
    assert path.minutes < critical_path.PROD_LIMIT_MINUTES, critical_path.render_text(path)


def _resource(
    name: str,
    type_: str,
    deps: tuple[str, ...] = (),
    parent: str | None = None,
    custom: bool = True,
    **inputs: Any,
) -> RecordedResource:
    return RecordedResource(
        urn=f"urn:pulumi:dev::platform::{type_}::{name}",
        type=type_,
        name=name,
        custom=custom,
        parent=parent,
        protect=False,
        inputs=inputs,
        outputs={},
        id=None,
        dependencies=list(deps),
    )


def _run(*resources: RecordedResource) -> ProgramRun:
    return ProgramRun("dev", "platform", {}, {r.urn: r for r in resources}, {}, set(), [], [], None)


def test_longest_chain_wins_and_a_custom_parent_counts() -> None:
    rg = _resource("rg", RG)
    server = _resource("sql", "azure-native:sql:Server", (rg.urn,))
    # The database names the server only through its parent: it still waits for it.
    db = _resource("db", "azure-native:sql:Database", (rg.urn,), parent=server.urn)
    vault = _resource("kv", "azure-native:keyvault:Vault", (rg.urn,))
    path = critical_path.critical_path(_run(rg, server, db, vault))
    assert [s.name for s in path.steps] == ["rg", "sql", "db"]
    assert path.minutes == pytest.approx(0.1 + 3 + 3)


def test_a_dependency_on_a_component_waits_for_everything_in_it() -> None:
    component = _resource("net", "platform:networking:Networking", custom=False)
    firewall = _resource("fw", "azure-native:network:AzureFirewall", parent=component.urn)
    rg = _resource("rg", RG, (component.urn,))
    assert critical_path.dependency_graph(_run(component, firewall, rg))[rg.urn] == {firewall.urn}


def test_a_cycle_is_an_error() -> None:
    a_urn = "urn:pulumi:dev::platform::azure-native:keyvault:Vault::a"
    b = _resource("b", "azure-native:keyvault:Vault", (a_urn,))
    a = _resource("a", "azure-native:keyvault:Vault", (b.urn,))
    with pytest.raises(ValueError, match="dependency cycle"):
        critical_path.critical_path(_run(a, b))


def test_an_unknown_type_names_the_table_to_extend() -> None:
    with pytest.raises(KeyError, match=r"offline/create_times\.py"):
        critical_path.critical_path(_run(_resource("x", "azure-native:network:ApplicationGateway")))


def test_sku_changes_the_time_where_it_matters() -> None:
    apim = "azure-native:apimanagement:ApiManagementService"
    assert create_time(apim, "Developer").minutes == 40
    assert create_time(apim, "StandardV2").minutes == 5
    assert create_time("azure-native:servicebus:Namespace", "Premium").minutes == 5
    assert create_time("azure-native:servicebus:Namespace", "Standard").minutes == 1
    for entry in CREATE_MINUTES.values():
        assert entry.source.startswith("https://learn.microsoft.com/")


def test_command_prints_the_chain(capsys: pytest.CaptureFixture[str]) -> None:
    assert critical_path.main(["prod"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("First-deploy critical path (prod): ")
    assert "core-rg" in text
