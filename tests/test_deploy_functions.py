"""scripts/deploy_functions.py: the OneDeploy command it builds, and what it refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts import deploy_functions as deploy

OUTPUTS = {"resource_group_name": "rg-plat-dev-wus2", "functions_app_name": "func-plat-x1"}


def _write(tmp_path: Path, outputs: Any) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_deploy_command_is_config_zip_with_the_stack_outputs(tmp_path: Path) -> None:
    zip_path = tmp_path / "workers.zip"
    command = deploy.deploy_command(
        app_name="func-plat-x1", resource_group="rg-plat-dev-wus2", zip_path=zip_path
    )
    assert command == [
        "az", "functionapp", "deployment", "source", "config-zip",
        "--resource-group", "rg-plat-dev-wus2", "--name", "func-plat-x1", "--src", str(zip_path),
        "--build-remote", "false",
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["-func", "func-", "f", "func_x", "a" * 61, "func x"])
def test_bad_app_names_are_refused_with_what_is_allowed(name: str) -> None:
    with pytest.raises(ValueError, match="2-60 letters, digits and hyphens"):
        deploy.deploy_command(app_name=name, resource_group="rg", zip_path=Path("w.zip"))


@pytest.mark.parametrize("group", ["", "rg.", "rg;rm", "a" * 91])
def test_bad_resource_groups_are_refused(group: str) -> None:
    with pytest.raises(ValueError, match="resource group"):
        deploy.deploy_command(app_name="func-a", resource_group=group, zip_path=Path("w.zip"))


def test_only_zip_packages_are_deployed() -> None:
    with pytest.raises(ValueError, match=r"\.zip"):
        deploy.deploy_command(app_name="func-a", resource_group="rg", zip_path=Path("w.tar.gz"))


def test_missing_outputs_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, {"resource_group_name": "rg"})
    with pytest.raises(SystemExit, match="functions_app_name"):
        deploy.load_outputs(path)


def test_unreadable_outputs_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text("{not json")
    with pytest.raises(SystemExit, match="cannot read stack outputs"):
        deploy.load_outputs(path)
    with pytest.raises(SystemExit, match="JSON object"):
        deploy.load_outputs(_write(tmp_path, ["x"]))


def test_print_shows_build_then_deploy_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("--print must not run anything")

    monkeypatch.setattr(deploy.subprocess, "run", refuse)
    zip_path = tmp_path / "w.zip"
    argv = [str(_write(tmp_path, OUTPUTS)), "--print", "--zip", str(zip_path), "--python", "py"]
    assert deploy.main([*argv, "--python-version", "3.12"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("services package-workers PYTHON=py FUNCTIONS_PYTHON=3.12")
    assert lines[0].startswith("make -C ")
    assert lines[1] == (
        "az functionapp deployment source config-zip --resource-group rg-plat-dev-wus2 "
        f"--name func-plat-x1 --src {zip_path} --build-remote false"
    )
    assert len(lines) == 2


def test_run_builds_checks_the_zip_then_deploys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[list[str]] = []
    zip_path = tmp_path / "w.zip"

    def run(command: list[str], check: bool) -> None:
        assert check is True
        ran.append(command)
        if command[0] == "make":
            zip_path.write_bytes(b"PK")

    monkeypatch.setattr(deploy.subprocess, "run", run)
    monkeypatch.setattr(deploy.shutil, "which", lambda _: "/usr/bin/az")
    assert deploy.main([str(_write(tmp_path, OUTPUTS)), "--zip", str(zip_path)]) == 0
    assert [c[0] for c in ran] == ["make", "az"]


def test_a_missing_package_stops_before_deploying(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[list[str]] = []
    monkeypatch.setattr(deploy.subprocess, "run", lambda c, check: ran.append(c))
    monkeypatch.setattr(deploy.shutil, "which", lambda _: "/usr/bin/az")
    argv = [str(_write(tmp_path, OUTPUTS)), "--zip", str(tmp_path / "none.zip"), "--skip-build"]
    with pytest.raises(SystemExit, match="does not exist"):
        deploy.main(argv)
    assert ran == []


def test_without_az_it_says_where_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy.shutil, "which", lambda _: None)
    with pytest.raises(SystemExit, match="Azure CLI"):
        deploy.main([str(_write(tmp_path, OUTPUTS)), "--skip-build"])
