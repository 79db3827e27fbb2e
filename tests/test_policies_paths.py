"""One result on both paths: every stack, previewed and applied, through the offline evaluator
and through the pack as the CLI serves it, must give the same violations and the same open
questions; and a preview never reports a violation that the update would not."""

from __future__ import annotations

from datetime import date
from functools import cache

import pytest

from offline.engine import ProgramRun, run_program
from policies.config import PolicyConfig
from policies.constants import ENVIRONMENTS, Environment
from tests.policies import paths

TODAY = date(2026, 12, 1)


@cache
def _run(stack: str) -> ProgramRun:
    return run_program(stack)


@pytest.mark.parametrize("mode", ["up", "preview"])
@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_both_paths_agree_on_every_stack(stack: Environment, mode: paths.Mode) -> None:
    records = paths.shape(_run(stack).resources.values(), mode)
    offline = paths.offline(records, stack, PolicyConfig.for_environment(stack), TODAY)
    served = paths.pack(records, stack, paths.shipped_config(stack), TODAY)
    assert sorted(served.violations - offline.violations) == []
    assert sorted(offline.violations - served.violations) == []
    assert sorted(served.undecided ^ offline.undecided) == []


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_every_stack_has_no_mandatory_violation_on_either_path(stack: Environment) -> None:
    for mode in ("up", "preview"):
        records = paths.shape(_run(stack).resources.values(), mode)  # type: ignore[arg-type]
        served = paths.pack(records, stack, paths.shipped_config(stack), TODAY)
        assert [v for v in served.violations if v[3] == "mandatory"] == [], mode


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_preview_never_invents_a_violation(stack: Environment) -> None:
    run = _run(stack)
    config = paths.shipped_config(stack)
    up = paths.pack(paths.shape(run.resources.values(), "up"), stack, config, TODAY)
    preview = paths.pack(paths.shape(run.resources.values(), "preview"), stack, config, TODAY)
    assert {v[:2] for v in preview.violations} <= {v[:2] for v in up.violations}


def test_preview_shape_really_hides_outputs() -> None:
    """The preview shape must blank references, or the agreement above proves little."""
    records = paths.shape(_run("prod").resources.values(), "preview")
    settings = [r for r in records if r.type == "azure-native:monitor:DiagnosticSetting"]
    assert settings
    assert all(r.property_dependencies.get("resourceUri") for r in settings)


def test_every_type_a_stack_rule_references_can_be_matched_by_name() -> None:
    """Stack rules find targets by ARM id; without a namespace and name key the pack path
    (which has no ids) cannot, which is how the firewall's diagnostic setting was lost."""
    from policies.core import ARM_TYPES, NAME_PROPERTIES, StackRule
    from policies.rules import RULES
    from policies.rules.stack import DIAGNOSTIC_TYPES, PRIVATE_LINK_TYPES

    referenced = {*DIAGNOSTIC_TYPES, *PRIVATE_LINK_TYPES}
    for rule in RULES:
        if isinstance(rule, StackRule):
            referenced |= {t for t in rule.resource_types if t.startswith("azure-native:")}
    unmatched = sorted(t for t in DIAGNOSTIC_TYPES + PRIVATE_LINK_TYPES if t not in ARM_TYPES)
    assert unmatched == []
    assert sorted(t for t in referenced & set(ARM_TYPES) if t not in NAME_PROPERTIES) == []
