"""Every rule fixture through both paths: the offline evaluator and the served pack agree, and
both give the fixture's expected verdict (pass, violation, or unknown until `pulumi up`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from policies.config import PolicyConfig
from policies.core import UNKNOWN, ResourceRecord, ResourceRule, RuleContext
from policies.rules import RULES_BY_NAME
from tests.policies import paths
from tests.policies.fixtures import FIXTURES, REQUIRED_RULES, Fixture

TODAY = date(2026, 12, 1)


def _verdict(outcome: paths.Outcome) -> str:
    if outcome.violations:
        return "violation"
    return "unknown" if outcome.undecided else "pass"


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.id)
def test_fixture_verdict_is_the_same_on_both_paths(fixture: Fixture) -> None:
    rules = [fixture.rule]
    offline = paths.offline(
        fixture.resources, fixture.environment, PolicyConfig(), TODAY, rules=rules
    )
    served = paths.pack(fixture.resources, fixture.environment, {}, TODAY, rules=rules)
    assert served == offline
    assert _verdict(offline) == fixture.expect, sorted(offline.violations)


def test_every_new_rule_has_each_kind_of_fixture() -> None:
    kinds: dict[str, set[str]] = defaultdict(set)
    for fixture in FIXTURES:
        kinds[fixture.rule].add(fixture.kind)
    incomplete = {
        rule: sorted({"compliant", "violating", "missing", "unknown"} - kinds[rule])
        for rule in REQUIRED_RULES
        if kinds[rule] != {"compliant", "violating", "missing", "unknown"}
    }
    assert incomplete == {}


def test_fixtures_name_real_rules() -> None:
    assert sorted({f.rule for f in FIXTURES} - set(RULES_BY_NAME)) == []


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.id)
def test_fixture_properties_are_real_sdk_inputs(fixture: Fixture) -> None:
    """The rules read camelCase inputs as the engine sends them; every property a fixture
    sets (and so every path a rule reads) must exist in the azure-native v3 input types."""
    from offline.sdk_types import check_resource_inputs

    for resource in fixture.resources:
        problems = check_resource_inputs(resource.urn, resource.type, dict(resource.props))
        unknown = [
            str(p) for p in problems if "unknown property" in p.message or "no SDK" in p.message
        ]
        assert unknown == []


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


def _replaced(value: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return UNKNOWN
    head, *rest = path
    if isinstance(value, Mapping):
        return {k: (_replaced(v, tuple(rest)) if k == head else v) for k, v in value.items()}
    return [(_replaced(v, tuple(rest)) if i == head else v) for i, v in enumerate(value)]


def _judge(rule: Any, records: list[ResourceRecord], environment: Any) -> str:
    if isinstance(rule, ResourceRule):
        findings = [
            f
            for r in records
            if rule.applies_to(r.type)
            for f in rule.check(r.props, RuleContext(environment, {}, r.type, r.urn, r.name))
        ]
    else:
        findings = rule.check(records, RuleContext(environment, {}))
    if any(not f.unknown for f in findings):
        return "violation"
    return "unknown" if findings else "pass"


VIOLATING = [f for f in FIXTURES if f.expect == "violation"]


@pytest.mark.parametrize("fixture", VIOLATING, ids=lambda f: f.id)
def test_no_rule_fails_open_on_an_unknown_value(fixture: Fixture) -> None:
    """Make any one value of a violating fixture unknown (as preview would): the rule must
    still report the violation or say it cannot tell yet, never pass."""
    rule = RULES_BY_NAME[fixture.rule]
    opened = []
    for index, resource in enumerate(fixture.resources):
        for path in _leaves(resource.props):
            changed = list(fixture.resources)
            changed[index] = replace(resource, props=_replaced(resource.props, path))
            if _judge(rule, changed, fixture.environment) == "pass":
                opened.append(f"{resource.name}:{'.'.join(map(str, path))}")
    assert opened == []
