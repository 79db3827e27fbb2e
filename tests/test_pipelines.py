"""The GitHub workflows' structure: stages in order, environments, OIDC, concurrency, pins."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import ENVIRONMENTS

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
STAGES = ("dev", "qa", "staging", "prod")


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def _all_workflows() -> dict[str, dict[str, Any]]:
    return {path.name: _load(path.name) for path in sorted(WORKFLOWS.glob("*.yml"))}


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = job.get("steps", [])
    return steps


def _uses(step: dict[str, Any], action: str) -> bool:
    return str(step.get("uses", "")).lower().startswith(action.lower() + "@")


def test_the_stages_match_the_environments() -> None:
    assert tuple(ENVIRONMENTS) == STAGES


def test_every_action_is_pinned_to_a_commit_sha() -> None:
    seen = 0
    for name, workflow in _all_workflows().items():
        for job_name, job in workflow["jobs"].items():
            if "uses" in job:  # a reusable workflow in this repository
                target = str(job["uses"])
                assert target.startswith("./.github/workflows/"), (name, job_name, target)
                assert (ROOT / target).is_file(), target
                continue
            for step in _steps(job):
                if "uses" in step:
                    seen += 1
                    assert PINNED.match(step["uses"]), f"{name}:{job_name}: {step['uses']}"
                    # The tag the SHA stands for, for a reader and for updates.
                    line = next(
                        ln
                        for ln in (WORKFLOWS / name).read_text().splitlines()
                        if step["uses"] in ln
                    )
                    assert re.search(r"# v\d+\.\d+\.\d+$", line), line
    assert seen > 10


def test_no_workflow_grants_anything_by_default() -> None:
    for name, workflow in _all_workflows().items():
        assert workflow["permissions"] == {}, name
        for job_name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}:{job_name} has no explicit permissions"
            assert "write-all" not in str(job["permissions"])


def _needs_oidc(job: dict[str, Any]) -> bool:
    """A job that logs in to Azure, or calls the stage workflow, which does."""
    return bool(job.get("uses")) or any(_uses(s, "azure/login") for s in _steps(job))


def test_id_token_write_only_where_azure_login_happens() -> None:
    for name, workflow in _all_workflows().items():
        for job_name, job in workflow["jobs"].items():
            permissions = job["permissions"]
            assert permissions.get("id-token") == ("write" if _needs_oidc(job) else None), (
                name,
                job_name,
            )
            # Nothing writes to the repository, its pull requests or its packages.
            assert set(permissions) <= {"contents", "id-token"}, (name, job_name)
            assert permissions.get("contents") == "read", (name, job_name)


def test_azure_login_is_oidc_without_a_client_secret() -> None:
    for workflow in _all_workflows().values():
        for job in workflow["jobs"].values():
            for step in _steps(job):
                if _uses(step, "azure/login"):
                    assert set(step["with"]) == {"client-id", "tenant-id", "subscription-id"}
    text = "\n".join(p.read_text() for p in WORKFLOWS.glob("*.yml"))
    assert "AZURE_CLIENT_SECRET" not in text and "ARM_CLIENT_SECRET" not in text
    assert "creds:" not in text


def test_deploy_promotes_dev_qa_staging_prod_in_order_after_one_build() -> None:
    deploy = _load("deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    assert list(jobs) == ["build", *STAGES]
    previous = None
    for stage in STAGES:
        job = jobs[stage]
        assert job["uses"] == "./.github/workflows/stage.yml"
        assert job["with"]["stack"] == stage
        needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
        # The images come from the one build; the gate is the stage before.
        assert "build" in needs
        if previous is not None:
            assert previous in needs, f"{stage} must wait for {previous}"
        assert job["with"]["images"] == "${{ needs.build.outputs.images }}"
        previous = stage
    assert "images" in jobs["build"]["outputs"]
    # Never cancel a deploy in flight.
    assert deploy["concurrency"]["cancel-in-progress"] is False


def test_build_pushes_each_service_once_and_outputs_digests() -> None:
    build = _load("deploy.yml")["jobs"]["build"]
    pushes = [s for s in _steps(build) if _uses(s, "docker/build-push-action")]
    assert sorted(s["id"] for s in pushes) == ["orders", "payments", "products", "users"]
    assert all(s["with"]["push"] is True for s in pushes)
    digests = next(s for s in _steps(build) if s.get("id") == "digests")
    for service in ("users", "orders", "products", "payments"):
        assert f"steps.{service}.outputs.digest" in str(digests["env"])
    assert "sha256:[0-9a-f]{64}" in digests["run"]


def test_each_stage_is_an_environment_with_its_own_concurrency_group() -> None:
    stage = _load("stage.yml")
    assert set(stage["on"]["workflow_call"]["inputs"]) == {"stack", "images", "source_registry"}
    (job,) = stage["jobs"].values()
    assert job["environment"] == "${{ inputs.stack }}"
    assert job["concurrency"] == {
        "group": "pulumi-${{ inputs.stack }}",
        "cancel-in-progress": False,
    }
    # A runner inside the stack's VNet (private SQL endpoint): documented in the runbook.
    assert "self-hosted" in job["runs-on"]
    assert "platform-${{ inputs.stack }}" in job["runs-on"]


def test_stage_steps_run_promote_up_grants_functions_smoke_in_order() -> None:
    (job,) = _load("stage.yml")["jobs"].values()
    steps = _steps(job)

    def index(predicate: Any) -> int:
        return next(i for i, s in enumerate(steps) if predicate(s))

    promote = index(lambda s: "az acr import" in s.get("run", ""))
    configure = index(lambda s: "platform:images." in s.get("run", ""))
    up = index(lambda s: _uses(s, "pulumi/actions") and s.get("with", {}).get("command") == "up")
    grants = index(lambda s: "scripts.grant_database_access" in s.get("run", ""))
    functions = index(lambda s: "scripts.deploy_functions" in s.get("run", ""))
    smoke = index(lambda s: "scripts.smoke_gateway" in s.get("run", ""))
    assert promote < configure < up < grants < functions < smoke
    # A stack with a gateway must be smoke-tested through it; only qa (no APIM) skips.
    assert "enable_api_management" in steps[smoke]["run"] and "exit 1" in steps[smoke]["run"]
    assert steps[promote]["if"] == "inputs.stack != 'dev'"
    # Promotion is by digest, never by tag.
    assert "@$digest" in steps[promote]["run"]
    with_ = steps[up]["with"]
    assert with_["policyPacks"] == "policies"
    assert with_["policyPackConfigs"] == "policies/config.${{ inputs.stack }}.json"
    for stack in STAGES:
        assert (ROOT / "policies" / f"config.{stack}.json").is_file()
    # No step may swallow a failure: a failed stage stops the promotion.
    assert not any(s.get("continue-on-error") for s in steps)
    for script in ("grant_database_access", "deploy_functions", "smoke_gateway"):
        assert (ROOT / "scripts" / f"{script}.py").is_file()


def _make_prerequisites(target: str) -> list[str]:
    line = next(
        ln for ln in (ROOT / "Makefile").read_text().splitlines() if ln.startswith(f"{target}:")
    )
    return line.split(":", 1)[1].split()


def test_pr_checks_run_everything_make_test_runs() -> None:
    pr = _load("pr.yml")
    assert pr["on"] == {"pull_request": {"branches": ["main"]}}
    runs = [s.get("run", "") for s in _steps(pr["jobs"]["checks"])]
    for target in _make_prerequisites("test"):
        assert f"make {target}" in runs, f"pr.yml checks lacks make {target}"
    assert "lint-workflows" in _make_prerequisites("test")


def test_pr_plan_covers_every_stack_and_the_snapshot_diff() -> None:
    plan = _load("pr.yml")["jobs"]["plan"]
    checkout = next(s for s in _steps(plan) if _uses(s, "actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    text = "\n".join(s.get("run", "") for s in _steps(plan))
    assert f"for stack in {' '.join(STAGES)}" in text
    # -s: no echoed command lines in the summary, only the Markdown.
    assert 'make -s plan-markdown STACK="$stack" >> "$GITHUB_STEP_SUMMARY"' in text
    assert "make -s snapshot-diff BASE=origin/main FORMAT=markdown" in text
    assert {"plan-markdown", "snapshot-diff"} <= set(_make_targets())


def test_pr_images_build_without_push() -> None:
    images = _load("pr.yml")["jobs"]["images"]
    assert images["strategy"]["matrix"]["service"] == ["users", "orders", "products", "payments"]
    (build,) = [s for s in _steps(images) if _uses(s, "docker/build-push-action")]
    assert build["with"]["push"] is False


def test_pr_preview_runs_per_stack_and_skips_without_credentials() -> None:
    preview = _load("pr.yml")["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == list(STAGES)
    assert "matrix.stack" in preview["concurrency"]["group"]
    steps = _steps(preview)
    assert steps[0]["if"] == "vars.AZURE_CLIENT_ID == ''"
    assert "skipped" in steps[0]["run"] and "::notice" in steps[0]["run"]
    # Every other step is skipped together with the login, so a fork's run is green.
    assert all(s.get("if") == "vars.AZURE_CLIENT_ID != ''" for s in steps[1:])
    (pulumi,) = [s for s in steps if _uses(s, "pulumi/actions")]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPackConfigs"] == "policies/config.${{ matrix.stack }}.json"


def _make_targets() -> list[str]:
    text = (ROOT / "Makefile").read_text()
    return re.findall(r"^([a-z][\w-]*):", text, flags=re.MULTILINE)


LINTER = ROOT / "tools" / "workflow-lint"
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"


def _copy_workflows(tmp_path: Path, broken: str) -> Path:
    (tmp_path / ".github").mkdir()
    shutil.copytree(WORKFLOWS, tmp_path / ".github" / "workflows")
    shutil.copy(ROOT / ".github" / "actionlint.yaml", tmp_path / ".github")
    (tmp_path / ".github" / "workflows" / "broken.yml").write_text(broken)
    return tmp_path


@pytest.mark.skipif(
    not (LINTER / "node_modules").is_dir() or shutil.which("node") is None,
    reason="make lint-workflows installs actionlint (it runs before the tests in make test)",
)
def test_actionlint_wrapper_passes_the_repo_and_catches_a_broken_workflow(
    tmp_path: Path,
) -> None:
    node = str(shutil.which("node"))
    ok = subprocess.run(  # noqa: S603 - fixed argv
        [node, str(LINTER / "lint.cjs"), str(ROOT)], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = _copy_workflows(
        tmp_path,
        "on: push\npermissions: {}\njobs:\n  x:\n    runs-on: [self-hosted, platform-nowhere]\n"
        "    permissions: {}\n    steps:\n      - run: echo ${{ github.evnt.ref }}\n",
    )
    bad = subprocess.run(  # noqa: S603 - fixed argv
        [node, str(LINTER / "lint.cjs"), str(broken)], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1
    # An undeclared self-hosted label stays an error; the declared ones do not.
    assert 'label "platform-nowhere" is unknown' in bad.stdout
    assert "evnt" in bad.stdout
    assert "platform-dev" not in bad.stdout


@pytest.mark.skipif(not CHECKOV.exists(), reason="make lint-workflows installs checkov")
def test_checkov_flags_a_write_all_workflow(tmp_path: Path) -> None:
    broken = _copy_workflows(
        tmp_path,
        "on: push\npermissions: write-all\njobs:\n  x:\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - run: echo hi\n",
    )
    result = subprocess.run(  # noqa: S603 - fixed argv
        [str(CHECKOV), "--config-file", str(ROOT / ".checkov.yaml"), "-d", str(broken)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout
    assert "CKV2_GHA_1" in result.stdout
