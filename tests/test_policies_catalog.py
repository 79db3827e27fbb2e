"""The catalog: every type the stacks create has an entry; every Checkov check and PSRule rule
for a listed type is there, implemented by a rule that judges the type or marked not
applicable with a reason; and COMPLIANCE.md shows it."""

from __future__ import annotations

from functools import cache

import pytest

from offline.engine import run_program
from policies.catalog import (
    CATALOG,
    CATALOG_BY_TYPE,
    MCSB,
    NOT_AZURE,
    Control,
    TypeEntry,
    _parse,
    checkov_checks,
    psrule_rules,
    title,
)
from policies.constants import ENVIRONMENTS
from policies.core import OutputsRule
from policies.rules import RULES, RULES_BY_NAME

# Types the upcoming layers add and whose rules already exist in the pack.
UPCOMING = (
    "azure-native:app:ContainerApp",
    "azure-native:app:ManagedEnvironment",
    "azure-native:containerregistry:Registry",
    "azure-native:web:WebApp",
    "azure-native:web:AppServicePlan",
    "azure-native:apimanagement:ApiManagementService",
    "azure-native:cdn:Profile",
    "azure-native:cdn:AFDEndpoint",
    "azure-native:web:StaticSite",
)


@cache
def _created_types() -> frozenset[str]:
    return frozenset(
        r.kind for stack in ENVIRONMENTS for r in run_program(stack).resources.values() if r.custom
    )


def test_every_type_the_stacks_create_has_an_entry() -> None:
    missing = sorted(t for t in _created_types() if t not in CATALOG_BY_TYPE and t not in NOT_AZURE)
    assert missing == []


def test_upcoming_layer_types_have_entries() -> None:
    assert [t for t in UPCOMING if t not in CATALOG_BY_TYPE] == []


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.type)
def test_every_checkov_check_for_the_type_is_listed(entry: TypeEntry) -> None:
    listed = {c.id for c in entry.controls}
    expected = {
        check_id
        for check_id, check in checkov_checks().items()
        if set(check["resources"]) & set(entry.checkov)  # type: ignore[call-overload]
    }
    assert sorted(expected - listed) == []


def test_every_psrule_rule_of_a_covered_service_is_listed() -> None:
    prefixes = {p for e in CATALOG for p in e.psrule}
    listed = {c.id for e in CATALOG for c in e.controls}
    unlisted = sorted(
        name
        for name in psrule_rules()
        if any(name.startswith(p) for p in prefixes) and name not in listed
    )
    assert unlisted == []
    # and the snapshot holds nothing no type claims
    assert sorted(n for n in psrule_rules() if not any(n.startswith(p) for p in prefixes)) == []


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.type)
def test_ids_are_real_catalog_items(entry: TypeEntry) -> None:
    for control in entry.controls:
        if control.source == "MCSB":
            assert control.id in MCSB
        else:
            assert title(control), f"{control.id} is not in the {control.source} snapshot"


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.type)
def test_implemented_items_name_rules_that_judge_the_type(entry: TypeEntry) -> None:
    judged = {entry.type, *entry.related}
    for control in entry.controls:
        for name in control.rules:
            rule = RULES_BY_NAME.get(name)
            assert rule is not None, f"{control.id}: no rule {name!r}"
            assert not isinstance(rule, OutputsRule)
            assert not rule.resource_types or judged & set(rule.resource_types), (
                f"{control.id}: {name} does not judge {entry.type} or its related types"
            )


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.type)
def test_not_applicable_items_say_why(entry: TypeEntry) -> None:
    for control in entry.controls:
        assert control.implemented or len(control.reason) >= 10, control.id
        assert not (control.implemented and control.reason), control.id


def test_every_pack_rule_implements_some_catalog_item() -> None:
    used = {r for e in CATALOG for c in e.controls for r in c.rules}
    unused = sorted(r.name for r in RULES if r.kind != "offline" and r.name not in used)
    assert unused == []


def test_entry_lines_parse_with_continuations() -> None:
    parsed = _parse(
        """
        CKV_AZURE_1 = a, b
        Azure.X.Y ! a reason that
            goes on
        NS-1 = c
        """
    )
    assert parsed == (
        Control("CKV_AZURE_1", "Checkov", ("a", "b")),
        Control("Azure.X.Y", "PSRule", (), "a reason that goes on"),
        Control("NS-1", "MCSB", ("c",)),
    )
    with pytest.raises(ValueError, match="neither"):
        _parse("CKV_AZURE_1 implemented")
    with pytest.raises(ValueError, match="not a Checkov"):
        _parse("XYZ = a")


def test_compliance_table_shows_the_catalog() -> None:
    from policies.compliance import render

    text = render()
    assert "## Catalog coverage by resource type" in text
    for entry in CATALOG:
        assert f"### `{entry.type.removeprefix('azure-native:')}`" in text
