"""The post-deploy grant step: reads stack outputs, prints or runs idempotent T-SQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import grant_database_access
from tests.conftest import stack_run


def test_prints_grants_from_real_stack_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(stack_run("prod").stack_outputs))
    assert grant_database_access.main([str(outputs), "--print"]) == 0
    printed = capsys.readouterr().out.splitlines()
    creates = [line for line in printed if "CREATE USER" in line]
    assert len(creates) == 5
    assert any("[id-plat-orders-prod-wus2]" in line for line in creates)
    assert not any("gateway" in line for line in printed)


def test_missing_outputs_are_named(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"sql_server_fqdn": "x.database.windows.net"}))
    with pytest.raises(SystemExit, match="sql_database_name, database_identities"):
        grant_database_access.main([str(outputs), "--print"])


def test_unreadable_outputs_are_reported(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text("{not json")
    with pytest.raises(SystemExit, match="cannot read stack outputs"):
        grant_database_access.main([str(outputs), "--print"])
