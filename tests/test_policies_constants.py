"""The pack's copies of project constants, its SDK facts and its generated table stay true."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from pulumi import _types as pulumi_types

from config.settings import AZURE_REGIONS, get_environment_settings
from infra.core.naming import RULES as NAMING_RULES
from infra.core.tags import REQUIRED_TAGS
from offline.sdk_types import args_class
from policies import compliance, constants
from policies.core import ARM_TYPES, NAME_PROPERTIES
from policies.rules import RULES, common


def test_regions_match_the_settings() -> None:
    assert tuple(AZURE_REGIONS) == constants.ALLOWED_REGIONS


def test_required_tags_match_the_tagging_strategy() -> None:
    assert constants.REQUIRED_TAGS == REQUIRED_TAGS


def test_audit_constants_match_the_audit_layer_and_settings() -> None:
    from config.audit import MIFID_RECORD_KEEPING_DAYS
    from infra.audit import AUDIT_CONTAINER, AUDIT_PURPOSE, PURPOSE_TAG

    assert constants.AUDIT_PURPOSE_TAG == (PURPOSE_TAG, AUDIT_PURPOSE)
    assert constants.AUDIT_CONTAINER == AUDIT_CONTAINER
    assert constants.MIFID_RECORD_KEEPING_DAYS == MIFID_RECORD_KEEPING_DAYS


def test_naming_rules_match_naming_py() -> None:
    expected = {
        kind: (r.abbreviation, r.min_length, r.max_length, r.charset.value)
        for kind, r in NAMING_RULES.items()
    }
    assert expected == constants.NAMING_RULES


@pytest.mark.parametrize("environment", constants.ENVIRONMENTS)
def test_environment_profiles_match_the_settings(environment: str) -> None:
    env = get_environment_settings(environment)
    profile = constants.PROFILES[environment]  # type: ignore[index]
    assert profile.private_endpoints == env.security.enable_private_endpoints
    assert profile.purge_protection == env.security.enable_purge_protection
    assert profile.soft_delete_days == env.security.soft_delete_retention_days
    assert profile.log_retention_days == env.monitoring.log_retention_days
    assert profile.waf_prevention == (env.security.waf_mode == "Prevention")


def _inputs(type_token: str) -> set[str]:
    cls = args_class(type_token)
    assert cls is not None, f"{type_token} is not an azure-native resource"
    return set(pulumi_types.input_type_py_to_pulumi_names(cls).values())


@pytest.mark.parametrize("type_token", sorted(common.TAGGABLE_TYPES))
def test_taggable_types_have_tags_in_the_sdk(type_token: str) -> None:
    assert "tags" in _inputs(type_token)


def _rule_types() -> list[str]:
    return sorted({t for r in RULES for t in r.resource_types})


@pytest.mark.parametrize("type_token", _rule_types())
def test_every_type_a_rule_names_exists_and_its_taggability_is_known(type_token: str) -> None:
    has_tags = "tags" in _inputs(type_token) and type_token not in common.NOT_ARM_TAGS
    assert has_tags == (type_token in common.TAGGABLE_TYPES)


@pytest.mark.parametrize(("type_token", "prop"), sorted(NAME_PROPERTIES.items()))
def test_name_properties_exist_in_the_sdk(type_token: str, prop: str) -> None:
    assert prop in _inputs(type_token)


@pytest.mark.parametrize("type_token", sorted(ARM_TYPES))
def test_arm_types_name_real_resources(type_token: str) -> None:
    assert args_class(type_token) is not None


def test_the_pack_imports_nothing_from_the_project() -> None:
    """The pack's venv has neither the project's packages nor pydantic, PyYAML or azure-native."""
    banned = {"config", "infra", "offline", "services", "pydantic", "yaml", "pulumi_azure_native"}
    pack_dir = Path(compliance.__file__).resolve().parent
    for path in pack_dir.rglob("*.py"):
        if "venv" in path.relative_to(pack_dir).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                assert module.split(".")[0] not in banned, f"{path}: imports {module}"


def test_compliance_table_is_up_to_date() -> None:
    assert compliance.main(["--check"]) == 0, "run `python -m policies.compliance`"


def test_compliance_table_lists_every_rule() -> None:
    text = compliance.render()
    for rule in RULES:
        assert f"| `{rule.name}` |" in text


def test_rule_modules_import_lazily() -> None:
    importlib.import_module("policies.rules")
