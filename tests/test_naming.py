"""Naming rules: CAF abbreviations, Azure's length and charset limits, stable unique suffixes."""

from __future__ import annotations

import pytest

from infra.core.naming import RULES, SUFFIX_LENGTH, Namer, NamingError, check_name

NAMER = Namer(workload="plat", environment="prod", region_code="wus2")


def test_regional_names_follow_caf_order() -> None:
    assert NAMER.name("resource_group") == "rg-plat-prod-wus2"
    assert NAMER.name("managed_identity", role="orders") == "id-plat-orders-prod-wus2"
    assert NAMER.name("virtual_network") == "vnet-plat-prod-wus2"


@pytest.mark.parametrize("kind", sorted(k for k, r in RULES.items() if r.globally_unique))
def test_globally_unique_kinds_need_a_suffix(kind: str) -> None:
    with pytest.raises(NamingError, match="globally unique"):
        NAMER.name(kind)


@pytest.mark.parametrize("environment", ["dev", "qa", "staging", "prod"])
@pytest.mark.parametrize("kind", sorted(k for k, r in RULES.items() if r.globally_unique))
def test_every_unique_name_fits_for_every_environment(kind: str, environment: str) -> None:
    # A four-letter region code and a three-letter role; the one vault per stack has no role.
    namer = Namer(workload="plat", environment=environment, region_code="eus2")
    role = None if kind == "key_vault" else "etl"
    name = namer._compose(kind, RULES[kind], role, suffix="a1b2c3")
    assert len(name) <= RULES[kind].max_length, name
    assert name.endswith("a1b2c3")


def test_staging_uses_its_short_code() -> None:
    namer = Namer(workload="plat", environment="staging", region_code="wus2")
    assert namer.name("resource_group") == "rg-plat-stg-wus2"


def test_storage_names_are_lowercase_alphanumerics_within_24() -> None:
    name = NAMER._compose(
        "storage_account", RULES["storage_account"], "etl", suffix="x" * SUFFIX_LENGTH
    )
    assert name == "stplatetlprodwus2xxxxxx"
    assert name.isalnum() and name.islower() and 3 <= len(name) <= 24


def test_too_long_unique_name_fails_at_start_up_not_in_apply() -> None:
    namer = Namer(workload="platform", environment="staging", region_code="gwc")
    with pytest.raises(NamingError, match="allowed: 3-24"):
        namer.unique_name("key_vault", "abcdef", role="secrets")


@pytest.mark.parametrize(
    ("kind", "candidate", "reason"),
    [
        ("storage_account", "st-plat", "charset"),
        ("storage_account", "st", "allowed: 3-24"),
        ("key_vault", "kv--plat", "consecutive hyphens"),
        ("key_vault", "1kv-plat", "charset"),
        ("container_app", "CA-orders", "charset"),
        ("service_bus", "sb", "allowed: 6-50"),
    ],
)
def test_invalid_names_are_refused_with_the_reason(kind: str, candidate: str, reason: str) -> None:
    with pytest.raises(NamingError, match=reason):
        check_name(kind, candidate)


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(NamingError, match=r"known: .*storage_account"):
        NAMER.name("spaceship")
