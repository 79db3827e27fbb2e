"""Every rule fixture through both paths: the offline evaluator and the served pack agree, and
both give the fixture's expected verdict (pass, violation, or unknown until `pulumi up`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest

from policies.config import PolicyConfig
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
