"""Serial-only siblings: the hazard table, the dependency graph it reads, and the plan's verdict."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi_azure_native import network, redisenterprise, sql

from offline import plan
from offline.engine import ProgramRun, run_program
from offline.hazards import CHANGE_HAZARDS, SERIAL_HAZARDS, DependencyGraph, check, check_changes
from tests.conftest import stack_run

RG = "rg-hazards"


def _run(program: Callable[[], None]) -> ProgramRun:
    run = run_program("dev", program=program)
    assert run.error is None, run.error
    return run


def _assignment(
    name: str, database: str = "default", opts: pulumi.ResourceOptions | None = None
) -> redisenterprise.AccessPolicyAssignment:
    return redisenterprise.AccessPolicyAssignment(
        name,
        access_policy_assignment_name=name,
        cluster_name="redis-1",
        database_name=database,
        resource_group_name=RG,
        access_policy_name="default",
        user=redisenterprise.AccessPolicyAssignmentPropertiesUserArgs(object_id="oid"),
        opts=opts,
    )


def _unchained(*names: str, database: str = "default") -> Callable[[], None]:
    def program() -> None:
        for name in names:
            _assignment(name, database)

    return program


def _urn(run: ProgramRun, name: str) -> str:
    (found,) = [r.urn for r in run.resources.values() if r.name == name]
    return found


def test_every_hazard_row_names_its_source() -> None:
    assert {h.name for h in SERIAL_HAZARDS} >= {
        "redis-access-policy-assignments",
        "firewall-policy-writes",
        "sql-vulnerability-assessment-after-alert-policy",
    }
    for hazard in SERIAL_HAZARDS:
        assert hazard.source.startswith("https://github.com/"), hazard.name
        assert hazard.reason


def test_concurrent_redis_assignments_are_reported_with_both_names_and_the_source() -> None:
    run = _run(_unchained("orders", "products"))
    (violation,) = check(run.resources)
    assert {violation.first, violation.second} == {_urn(run, "orders"), _urn(run, "products")}
    assert _urn(run, "orders") in violation.message and _urn(run, "products") in violation.message
    assert "Azure/azure-dev/issues/6640" in violation.source
    assert "microsoft/aspire/issues/13043" in violation.source


def test_chained_redis_assignments_pass() -> None:
    def program() -> None:
        first = _assignment("orders")
        second = _assignment("products", opts=pulumi.ResourceOptions(depends_on=[first]))
        _assignment("payments", opts=pulumi.ResourceOptions(depends_on=[second]))

    assert check(_run(program).resources) == []


def test_assignments_on_different_databases_may_run_at_once() -> None:
    def program() -> None:
        _unchained("a", database="default")()
        _unchained("b", database="other")()

    assert check(_run(program).resources) == []


def test_three_unchained_assignments_give_every_pair() -> None:
    run = _run(_unchained("a", "b", "c"))
    assert len(check(run.resources)) == 3


def _firewall_and_rules(firewall_waits: bool, groups: int = 1) -> Callable[[], None]:
    def program() -> None:
        policy = network.FirewallPolicy(
            "policy", firewall_policy_name="afwp-1", resource_group_name=RG
        )
        rules: list[pulumi.Resource] = []
        for index in range(groups):
            rules.append(
                network.FirewallPolicyRuleCollectionGroup(
                    f"rules-{index}",
                    rule_collection_group_name=f"g{index}",
                    firewall_policy_name=policy.name,
                    resource_group_name=RG,
                    priority=200 + index,
                    opts=pulumi.ResourceOptions(
                        parent=policy, depends_on=rules[-1:] if firewall_waits else None
                    ),
                )
            )
        network.AzureFirewall(
            "firewall",
            azure_firewall_name="afw-1",
            resource_group_name=RG,
            firewall_policy=network.SubResourceArgs(id=policy.id),
            opts=pulumi.ResourceOptions(depends_on=rules if firewall_waits else None),
        )

    return program


def test_firewall_written_beside_its_policys_rule_group_is_reported() -> None:
    run = _run(_firewall_and_rules(firewall_waits=False))
    (violation,) = check(run.resources)
    assert violation.hazard == "firewall-policy-writes"
    assert {violation.first, violation.second} == {_urn(run, "firewall"), _urn(run, "rules-0")}
    assert "terraform-provider-azurerm/issues/15440" in violation.source


def test_two_rule_groups_of_one_policy_at_once_are_reported() -> None:
    run = _run(_firewall_and_rules(firewall_waits=False, groups=2))
    pairs = {frozenset((v.first, v.second)) for v in check(run.resources)}
    assert frozenset((_urn(run, "rules-0"), _urn(run, "rules-1"))) in pairs
    assert len(pairs) == 3


def test_firewall_after_its_rule_groups_passes() -> None:
    assert check(_run(_firewall_and_rules(firewall_waits=True, groups=2)).resources) == []


def _sql(order: str) -> Callable[[], None]:
    def program() -> None:
        common = {"server_name": "sql-1", "resource_group_name": RG}
        if order == "reversed":
            va = sql.SqlVulnerabilityAssessmentsSetting(
                "va", vulnerability_assessment_name="default", **common
            )
            sql.ServerSecurityAlertPolicy(
                "alerts",
                security_alert_policy_name="Default",
                state=sql.SecurityAlertsPolicyState.ENABLED,
                opts=pulumi.ResourceOptions(depends_on=[va]),
                **common,
            )
            return
        alerts = sql.ServerSecurityAlertPolicy(
            "alerts",
            security_alert_policy_name="Default",
            state=sql.SecurityAlertsPolicyState.ENABLED,
            **common,
        )
        sql.SqlVulnerabilityAssessmentsSetting(
            "va",
            vulnerability_assessment_name="default",
            opts=pulumi.ResourceOptions(depends_on=[alerts] if order == "after" else None),
            **common,
        )

    return program


@pytest.mark.parametrize("order", ["concurrent", "reversed"])
def test_vulnerability_assessment_not_after_the_alert_policy_is_reported(order: str) -> None:
    run = _run(_sql(order))
    (violation,) = check(run.resources)
    assert violation.first == _urn(run, "alerts") and violation.second == _urn(run, "va")
    assert "azure-quickstart-templates/issues/6355" in violation.source


def test_vulnerability_assessment_after_the_alert_policy_passes() -> None:
    assert check(_run(_sql("after")).resources) == []


def test_graph_follows_depends_on_parents_and_output_inputs() -> None:
    def program() -> None:
        a = _assignment("explicit")
        _assignment("waits-explicitly", opts=pulumi.ResourceOptions(depends_on=[a]))
        parent = network.FirewallPolicy("parent", firewall_policy_name="p", resource_group_name=RG)
        network.FirewallPolicyRuleCollectionGroup(
            "child",
            rule_collection_group_name="g",
            firewall_policy_name="p",
            resource_group_name=RG,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        network.AzureFirewall(
            "uses-output",
            azure_firewall_name="f",
            resource_group_name=RG,
            firewall_policy=network.SubResourceArgs(id=parent.id),
        )
        network.AzureFirewall("unrelated", azure_firewall_name="u", resource_group_name=RG)

    run = _run(program)
    graph = DependencyGraph(run.resources)
    assert graph.ordered(_urn(run, "explicit"), _urn(run, "waits-explicitly"))
    assert graph.ordered(_urn(run, "parent"), _urn(run, "child"))
    assert graph.ordered(_urn(run, "parent"), _urn(run, "uses-output"))
    assert not graph.ordered(_urn(run, "child"), _urn(run, "uses-output"))
    assert not graph.ordered(_urn(run, "parent"), _urn(run, "unrelated"))
    assert not graph.ordered(_urn(run, "waits-explicitly"), _urn(run, "explicit"))


def test_every_stack_orders_its_serial_siblings(any_stack: ProgramRun) -> None:
    assert check(any_stack.resources) == []


def test_the_stacks_really_have_the_siblings_the_table_guards() -> None:
    # Without these the stack check above would pass vacuously.
    prod = stack_run("prod")
    types = {r.type for r in prod.resources.values()}
    for hazard in SERIAL_HAZARDS:
        assert hazard.first & types and hazard.second & types, hazard.name


def test_plan_fails_and_names_both_resources_when_siblings_can_run_at_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    violating = _run(_unchained("orders", "products"))
    summary = plan.summarize(violating)
    assert summary["ok"] is False
    (row,) = summary["hazards"]
    assert row["hazard"] == "redis-access-policy-assignments"
    monkeypatch.setattr(plan, "run_program", lambda stack: violating)
    assert plan.main(["dev"]) == 1
    text = capsys.readouterr().out
    assert "Serial-only siblings (1)" in text
    assert _urn(violating, "orders") in text and _urn(violating, "products") in text
    assert "https://github.com/Azure/azure-dev/issues/6640" in text


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plan_of_a_real_stack_reports_no_serial_siblings(stack: str) -> None:
    summary = plan.summarize(stack_run(stack))
    assert summary["hazards"] == []
    assert summary["ok"] is True


# --- changes between a base plan and this one (WORM accounts) ----------------------------

ACCOUNT_KEY = "platform:audit:AuditTrail$azure-native:storage:StorageAccount::audit-st"


def _account(
    *, days: float = 2555, state: str | None = "Locked", name: str = "staud", **worm: Any
) -> dict[str, Any]:
    policy: dict[str, Any] = {"immutabilityPeriodSinceCreationInDays": days}
    if state is not None:
        policy["state"] = state
    policy.update(worm)
    return {
        "type": "azure-native:storage:StorageAccount",
        "name": "audit-st",
        "inputs": {
            "accountName": name,
            "location": "westus2",
            "isHnsEnabled": False,
            "immutableStorageWithVersioning": {"enabled": True, "immutabilityPolicy": policy},
        },
    }


def _changes(base: dict[str, Any] | None, head: dict[str, Any] | None) -> list[str]:
    return [
        v.hazard
        for v in check_changes(
            {ACCOUNT_KEY: base} if base else {}, {ACCOUNT_KEY: head} if head else {}
        )
    ]


def _with_inputs(entry: dict[str, Any], **inputs: Any) -> dict[str, Any]:
    return {**entry, "inputs": {**entry["inputs"], **inputs}}


def test_every_change_hazard_names_a_microsoft_learn_source() -> None:
    assert {h.name for h in CHANGE_HAZARDS} == {
        "worm-account-deleted",
        "worm-account-replaced",
        "worm-enabled-after-creation",
        "worm-policy-created-locked",
        "worm-locked-policy-unlocked",
        "worm-locked-policy-shortened",
        "worm-locked-append-writes",
        "worm-policy-locked-from-disabled",
        "worm-container-deleted",
        "worm-container-replaced",
    }
    for hazard in CHANGE_HAZARDS:
        assert hazard.source.startswith("https://learn.microsoft.com/"), hazard.name


@pytest.mark.parametrize(
    ("base", "head", "expected"),
    [
        pytest.param(_account(), _account(), [], id="unchanged"),
        pytest.param(_account(), _account(days=3650), [], id="locked-extended"),
        pytest.param(_account(state="Unlocked"), _account(), [], id="unlocked-then-locked"),
        pytest.param(
            _account(state="Unlocked", days=30),
            _account(state="Unlocked", days=3),
            [],
            id="unlocked-shortened",
        ),
        pytest.param(None, _account(state="Unlocked"), [], id="created-unlocked"),
        pytest.param(None, _account(), ["worm-policy-created-locked"], id="created-locked"),
        pytest.param(
            _account(), _account(days=1825), ["worm-locked-policy-shortened"], id="shortened"
        ),
        pytest.param(
            _account(),
            _account(state="Unlocked"),
            ["worm-locked-policy-unlocked"],
            id="unlocked",
        ),
        pytest.param(
            _account(), _account(state=None), ["worm-locked-policy-unlocked"], id="state-dropped"
        ),
        pytest.param(
            _account(),
            _account(allowProtectedAppendWrites=True),
            ["worm-locked-append-writes"],
            id="append-writes",
        ),
        pytest.param(_account(), None, ["worm-account-deleted"], id="deleted"),
        pytest.param(_account(), _account(name="staud2"), ["worm-account-replaced"], id="renamed"),
        pytest.param(
            _account(),
            _with_inputs(_account(), resourceGroupName="rg-other"),
            ["worm-account-replaced"],
            id="moved-resource-group",
        ),
        pytest.param(
            _account(state="Disabled"),
            _account(),
            ["worm-policy-locked-from-disabled"],
            id="disabled-then-locked",
        ),
        pytest.param(
            _account(state="Disabled"), _account(state="Unlocked"), [], id="disabled-then-unlocked"
        ),
        pytest.param(
            {**_account(), "inputs": {"accountName": "staud", "location": "westus2"}},
            _account(state="Unlocked"),
            ["worm-enabled-after-creation"],
            id="enabled-later",
        ),
    ],
)
def test_change_hazards(
    base: dict[str, Any] | None, head: dict[str, Any] | None, expected: list[str]
) -> None:
    assert _changes(base, head) == expected


CONTAINER_KEY = "platform:audit:AuditTrail$azure-native:storage:BlobContainer::audit-st-records"


def _container(**inputs: Any) -> dict[str, Any]:
    return {
        "type": "azure-native:storage:BlobContainer",
        "name": "audit-st-records",
        "inputs": {
            "resourceGroupName": "rg-plat-prod-wus2",
            "accountName": "staud",
            "containerName": "audit-records",
            "immutableStorageWithVersioning": {"enabled": True},
            **inputs,
        },
    }


def _container_changes(base: dict[str, Any] | None, head: dict[str, Any] | None) -> list[str]:
    return [
        v.hazard
        for v in check_changes(
            {CONTAINER_KEY: base} if base else {}, {CONTAINER_KEY: head} if head else {}
        )
    ]


@pytest.mark.parametrize(
    ("base", "head", "expected"),
    [
        pytest.param(_container(), _container(), [], id="unchanged"),
        pytest.param(None, _container(), [], id="created"),
        pytest.param(_container(), None, ["worm-container-deleted"], id="deleted"),
        pytest.param(
            _container(),
            _container(containerName="audit-records-2"),
            ["worm-container-replaced"],
            id="renamed",
        ),
        pytest.param(
            _container(), _container(accountName="staud2"), ["worm-container-replaced"], id="moved"
        ),
        pytest.param(
            _container(),
            _container(resourceGroupName="rg-other"),
            ["worm-container-replaced"],
            id="other-resource-group",
        ),
        pytest.param(
            _container(),
            _container(immutableStorageWithVersioning={"enabled": False}),
            ["worm-container-replaced"],
            id="worm-off",
        ),
        pytest.param(
            _container(immutableStorageWithVersioning={"enabled": False}),
            None,
            [],
            id="not-worm-deleted",
        ),
    ],
)
def test_container_change_hazards(
    base: dict[str, Any] | None, head: dict[str, Any] | None, expected: list[str]
) -> None:
    assert _container_changes(base, head) == expected


def test_a_change_hazard_names_the_resource_and_the_fix() -> None:
    (violation,) = check_changes({}, {ACCOUNT_KEY: _account()})
    assert ACCOUNT_KEY in violation.message
    assert "audit.createUnlocked" in violation.message
    assert "Disabled or Unlocked" in violation.message


def test_accounts_without_worm_are_not_watched() -> None:
    plain = {"type": "azure-native:storage:StorageAccount", "name": "etl-st", "inputs": {}}
    assert check_changes({"k": plain}, {}) == []


def test_the_plan_fails_when_a_locked_policy_would_be_shortened(
    run_with: Callable[..., ProgramRun],
) -> None:
    overrides = json.dumps(
        {
            "audit": {
                "retentionDays": 2000,
                "personalDataRetentionDays": {"orders": 2000, "payments": 2000},
            }
        }
    )
    result = plan.summarize(
        run_with("prod", **{"platform:overrides": overrides}), base=plan.COMMITTED
    )
    assert [h["hazard"] for h in result["change_hazards"]] == ["worm-locked-policy-shortened"]
    assert "from 2555 to 2000 days" in result["change_hazards"][0]["message"]
    assert result["ok"] is False
    assert "Changes against the base plan (1)" in plan.render_text(result)


def test_a_partial_program_is_compared_with_nothing() -> None:
    # Layer tests run part of the program under a stack's name: no change check applies.
    assert plan.summarize(_run(_unchained("orders")))["change_hazards"] == []


def test_the_committed_plans_change_nothing_azure_refuses() -> None:
    for stack in ("dev", "qa", "staging", "prod"):
        summary = plan.summarize(stack_run(stack), base=plan.COMMITTED)
        assert summary["change_hazards"] == [], stack
