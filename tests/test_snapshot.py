"""Plan snapshots: committed copies are current, secrets masked, changes shown like a preview."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from config.settings import ENVIRONMENTS
from offline import snapshot
from offline.engine import SECRET_PLACEHOLDER, ProgramRun, RecordedResource
from tests.conftest import stack_run


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_committed_snapshot_is_current(stack: str) -> None:
    problem = snapshot.stale(stack_run(stack))
    assert problem is None, problem


def test_snapshot_holds_inputs_settings_and_policy() -> None:
    data = snapshot.snapshot(stack_run("prod"))
    firewall = next(r for r in data["resources"].values() if r["name"] == "networking-firewall")
    assert firewall["inputs"]["sku"] == {"name": "AZFW_VNet", "tier": "Standard"}
    assert any(k.endswith("::networking-snet-firewall") for k in firewall["dependsOn"])
    assert data["settings"]["environment"]["network"]["enableFirewall"] is True
    assert data["policy"]["summary"].startswith("Policy report (prod)")
    # The form on disk is stable: writing what was read gives the same bytes.
    committed = snapshot.path_for("prod").read_text()
    assert snapshot.dumps(json.loads(committed)) == committed


def test_budget_start_date_is_pinned_so_snapshots_do_not_age() -> None:
    data = snapshot.snapshot(stack_run("dev"))
    budget = next(r for r in data["resources"].values() if r["name"] == "observability-budget")
    assert budget["inputs"]["timePeriod"]["startDate"] == "<first of the creation month>"


def _run_with_secret() -> ProgramRun:
    base = stack_run("dev")
    secret = RecordedResource(
        urn="urn:pulumi:dev::platform::azure-native:keyvault:Secret::kv-secret",
        type="azure-native:keyvault:Secret",
        name="kv-secret",
        custom=True,
        parent=None,
        protect=False,
        inputs={
            "properties": {"value": rpc.wrap_rpc_secret("hunter2")},
            "other": SECRET_PLACEHOLDER,
            "plain": "visible",
        },
        outputs={},
        id=None,
    )
    return ProgramRun(
        stack=base.stack,
        project=base.project,
        config=base.config,
        resources={**base.resources, secret.urn: secret},
        stack_outputs={**base.stack_outputs, "password": "hunter2"},
        secret_outputs={"password"},
        invokes=[],
        problems=[],
        error=None,
    )


def test_secrets_are_masked() -> None:
    data = snapshot.snapshot(_run_with_secret())
    entry = data["resources"]["azure-native:keyvault:Secret::kv-secret"]
    assert entry["inputs"] == {
        "other": "[secret]",
        "plain": "visible",
        "properties": {"value": "[secret]"},
    }
    assert data["outputs"]["password"] == "[secret]"
    assert "hunter2" not in snapshot.dumps(data)


def _entry(type_: str, name: str, **inputs: Any) -> dict[str, Any]:
    return {"type": type_, "name": name, "inputs": inputs}


def test_compare_finds_added_removed_and_changed_properties() -> None:
    sa = "azure-native:storage:StorageAccount"
    base = {
        "resources": {
            "a::st": _entry(sa, "st", sku={"name": "Standard_LRS"}, old=1),
            "a::gone": _entry(sa, "gone"),
        },
        "settings": {"network": {"enableFirewall": False}},
    }
    head = {
        "resources": {
            "a::st": _entry(sa, "st", sku={"name": "Standard_GRS"}, new=2),
            "a::fresh": _entry(sa, "fresh"),
        },
        "settings": {"network": {"enableFirewall": True}},
    }
    changes = snapshot.compare(base, head)
    assert changes["added"] == [f"{sa} fresh"]
    assert changes["removed"] == [f"{sa} gone"]
    assert changes["changed"][f"{sa} st"] == [
        ("+", "inputs.new", None, 2),
        ("-", "inputs.old", 1, None),
        ("~", "inputs.sku.name", "Standard_LRS", "Standard_GRS"),
    ]
    text = snapshot.render_text({"prod": changes})
    assert "Stack prod: 1 to add, 1 to remove, 1 to change" in text
    assert f"+   {sa} fresh" in text
    assert f"-   {sa} gone" in text
    assert '~       inputs.sku.name: "Standard_LRS" => "Standard_GRS"' in text
    assert "~       network.enableFirewall: false => true" in text


def test_stale_snapshot_names_the_command(tmp_path: Path) -> None:
    run = stack_run("qa")
    data = snapshot.snapshot(run)
    key = next(k for k, r in data["resources"].items() if r["name"] == "etl-st")
    data["resources"][key]["inputs"]["sku"]["name"] = "Standard_GRS"
    snapshot.path_for("qa", tmp_path).write_text(snapshot.dumps(data))
    problem = snapshot.stale(run, tmp_path)
    assert problem is not None
    assert "run `make snapshot` and commit it" in problem
    assert '~       inputs.sku.name: "Standard_GRS" => "Standard_LRS"' in problem
    assert "is missing: run `make snapshot`" in (snapshot.stale(run, tmp_path / "none") or "")


def test_diff_against_a_ref_without_snapshots_adds_everything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Git's empty tree has no snapshots/: against it, every resource is new.
    assert snapshot.main(["diff", "qa", "--base", "4b825dc642cb6eb9a060e54bf8d69288fbee4904"]) == 0
    text = capsys.readouterr().out
    count = sum(1 for r in stack_run("qa").resources.values() if r.custom)
    assert f"Stack qa: {count} to add, 0 to remove, 0 to change" in text


def test_unknown_stack_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        snapshot.main(["diff", "uat"])
    assert "unknown stack(s) uat; allowed: dev, qa, staging, prod" in capsys.readouterr().err
