"""docs/runbook.md names only what exists: make targets, scripts, workflows, outputs, names."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from config.settings import CONFIG_NAMESPACE, ENVIRONMENTS, STACK_KEYS
from infra.core.locks import LOCK_NAME
from infra.messaging.entities import ETL_QUEUE, ORDERS_QUEUE, THIRDPARTY_QUEUE
from tests.conftest import stack_run

ROOT = Path(__file__).resolve().parent.parent
RUNBOOK = (ROOT / "docs" / "runbook.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()


def test_every_make_target_exists() -> None:
    targets = set(re.findall(r"^([a-z][\w-]*):", MAKEFILE, flags=re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][\w-]*)", RUNBOOK))
    assert named, "the runbook names no make target"
    assert named <= targets, named - targets


def test_every_module_it_runs_exists() -> None:
    modules = set(re.findall(r"python -m ([\w.]+)", RUNBOOK)) | {
        f"scripts.{m}" for m in re.findall(r"scripts\.(\w+)", RUNBOOK)
    }
    assert {"scripts.grant_database_access", "scripts.deploy_functions"} <= modules
    assert "scripts.smoke_gateway" in modules and "config.recovery" in modules
    for module in modules:
        assert importlib.util.find_spec(module) is not None, module


def test_every_file_it_names_exists() -> None:
    paths = set(re.findall(r"`((?:\.github|services|config|tests|policies)/[\w./<>-]+)`", RUNBOOK))
    for path in paths:
        if "<stack>" in path:
            for stack in ENVIRONMENTS:
                assert (ROOT / path.replace("<stack>", stack)).exists(), path
        else:
            assert (ROOT / path).exists(), path
    assert ".github/workflows/stage.yml" in paths


def test_names_match_the_code() -> None:
    assert f"`{LOCK_NAME}`" in RUNBOOK
    for queue in re.findall(r"dead-letters/([\w-]+)/replay", RUNBOOK):
        assert queue in {ORDERS_QUEUE, ETL_QUEUE, THIRDPARTY_QUEUE}
    blueprint = (ROOT / "services/workers/workers_app/blueprints/operator.py").read_text()
    assert 'route="operator/dead-letters/{entity}/replay"' in blueprint
    assert "/api/operator/dead-letters/" in RUNBOOK  # Functions' default route prefix
    for key in re.findall(rf"{CONFIG_NAMESPACE}:(\w+)", RUNBOOK):
        assert key in STACK_KEYS, key
    secrets = (ROOT / "infra/security/secrets.py").read_text()
    assert '"openfigi-api-key"' in secrets and "`openfigi-api-key`" in RUNBOOK


def test_outputs_it_uses_are_exported_by_prod() -> None:
    outputs = stack_run("prod").stack_outputs
    for name in ("sql_listener_fqdn", "functions_app_name", "etl_storage_account_name"):
        assert name in outputs and f"{name}" in RUNBOOK, name


def test_runner_labels_match_the_workflows_and_the_lint_config() -> None:
    config = (ROOT / ".github" / "actionlint.yaml").read_text()
    stage = (ROOT / ".github" / "workflows" / "stage.yml").read_text()
    assert '"platform-${{ inputs.stack }}"' in stage
    for stack in ENVIRONMENTS:
        assert f"- platform-{stack}" in config
    assert "[self-hosted, linux, x64, platform-<stack>]" in RUNBOOK


def test_every_section_the_issue_asks_for() -> None:
    headings = re.findall(r"^## (.+)$", RUNBOOK, flags=re.MULTILINE)
    for wanted in (
        "Deploy",
        "Promote",
        "Roll back",
        "Rotate credentials",
        "Restore the database to a point in time",
        "Drain or replay a dead-letter queue",
        "Region loss",
    ):
        assert wanted in headings, wanted


def test_a_non_prod_audit_account_is_emptied_before_it_is_deleted() -> None:
    """Expired retention is not enough: every version is deleted and soft-deleted ones purged
    before Azure deletes a version-level WORM account."""
    from infra.audit.store import SOFT_DELETE_DAYS

    section = RUNBOOK.split("## Delete a non-prod audit account", 1)[1].split("\n## ", 1)[0]
    assert "--include v " in section and "--version-id" in section
    assert "--include dv" in section
    assert f"{SOFT_DELETE_DAYS} days (`SOFT_DELETE_DAYS`" in section
    assert "deleted once the newest record is that old" not in RUNBOOK
