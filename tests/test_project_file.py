"""Pulumi.yaml's declared `platform:*` keys agree with config/settings.py's models."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from config.settings import CONFIG_NAMESPACE, STACK_KEYS, DeploymentSettings

ROOT = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
DECLARED: dict[str, dict[str, Any]] = PROJECT["config"]
# Keys left undeclared, each for the reason Pulumi.yaml's comment gives.
OPTIONAL_WITHOUT_DEFAULT = {
    "environment",
    "customDomain",
    "sqlAdminLogin",
    "sqlAdminObjectId",
    "openfigiApiKey",
}
OBJECT_VALUED = {"images", "overrides", "dnsZone"}
FIELDS: dict[str, FieldInfo] = {
    field.alias or name: field for name, field in DeploymentSettings.model_fields.items()
}


def _pulumi_type(annotation: Any) -> dict[str, Any]:
    """The project-file type of a settings annotation (str -> string, tuple[str] -> array)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _pulumi_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _pulumi_type(inner)
    if origin is tuple:
        return {"type": "array", "items": _pulumi_type(typing.get_args(annotation)[0])}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {"type": "object"}
    scalars = {dict: "object", str: "string", bool: "boolean", int: "integer"}
    kind = scalars.get(origin or annotation)
    assert kind is not None, f"no project config type for {annotation!r}"
    return {"type": kind}


def test_project_name_is_the_config_namespace() -> None:
    assert PROJECT["name"] == CONFIG_NAMESPACE


def test_every_stack_key_is_declared_or_left_out_for_a_stated_reason() -> None:
    assert set(DECLARED) | OPTIONAL_WITHOUT_DEFAULT | OBJECT_VALUED == set(STACK_KEYS)
    assert not set(DECLARED) & (OPTIONAL_WITHOUT_DEFAULT | OBJECT_VALUED)
    # Keys in the project's own namespace are declared without it.
    assert not any(":" in key for key in DECLARED)


def test_declared_types_match_the_models() -> None:
    for key, declaration in DECLARED.items():
        expected = _pulumi_type(FIELDS[key].annotation)
        got = {k: v for k, v in declaration.items() if k in ("type", "items")}
        assert got == expected, key
        assert declaration["description"].strip(), key


def test_required_keys_have_no_default_and_defaults_equal_the_models() -> None:
    for key, declaration in DECLARED.items():
        field = FIELDS[key]
        if field.is_required():
            assert "default" not in declaration, key
        else:
            assert "default" in declaration, f"{key}: the CLI would demand a value"
            default = field.get_default(call_default_factory=True)
            assert declaration["default"] == (
                list(default) if isinstance(default, tuple) else default
            ), key


def test_left_out_keys_really_have_no_declarable_default_or_type() -> None:
    for key in OPTIONAL_WITHOUT_DEFAULT - {"environment"}:
        assert FIELDS[key].get_default() is None, key
    for key in OBJECT_VALUED - {"overrides"}:
        assert _pulumi_type(FIELDS[key].annotation) == {"type": "object"}, key


def test_the_declared_defaults_validate() -> None:
    values = {key: d["default"] for key, d in DECLARED.items() if "default" in d}
    settings = DeploymentSettings.model_validate(
        {"location": "westus2", "owner": "o", "costCenter": "CC-1", **values}
    )
    assert settings.workload == "plat"


def test_stack_files_set_every_required_key() -> None:
    required = [key for key in DECLARED if "default" not in DECLARED[key]]
    for path in sorted(ROOT.glob("Pulumi.*.yaml")):
        config = yaml.safe_load(path.read_text())["config"]
        for key in required:
            assert f"{CONFIG_NAMESPACE}:{key}" in config, f"{path.name} lacks {key}"


def test_the_offline_engine_passes_declared_defaults_like_the_cli() -> None:
    from offline.engine import load_stack_config

    config, _ = load_stack_config("dev")
    assert config[f"{CONFIG_NAMESPACE}:workload"] == "plat"
    assert config[f"{CONFIG_NAMESPACE}:allowedIpRanges"] == "[]"
    # A stack file's own value wins over the default.
    prod, _ = load_stack_config("prod")
    assert "203.0.113.0/24" in prod[f"{CONFIG_NAMESPACE}:allowedIpRanges"]
