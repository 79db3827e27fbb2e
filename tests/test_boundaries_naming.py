"""Azure's name rules at their edges: each kind's exact minimum and maximum, charsets, hyphens.

The limits below are Microsoft Learn's, written out again on purpose: a test that read them
from `RULES` could not notice a changed limit or a missing row.
https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
"""

from __future__ import annotations

import dataclasses

import pytest

from infra.core.naming import (
    ENVIRONMENT_CODES,
    RULES,
    SUFFIX_LENGTH,
    Charset,
    Namer,
    NamingError,
    check_name,
)
from offline.engine import run_program

# kind: (minimum length, maximum length, globally unique)
AZURE_LIMITS: dict[str, tuple[int, int, bool]] = {
    "resource_group": (1, 90, False),
    "virtual_network": (2, 64, False),
    "subnet": (1, 80, False),
    "network_security_group": (1, 80, False),
    "nat_gateway": (1, 80, False),
    "public_ip": (1, 80, False),
    "private_endpoint": (2, 64, False),
    "ddos_plan": (1, 80, False),
    "firewall": (1, 80, False),
    "firewall_policy": (1, 80, False),
    "route_table": (1, 80, False),
    "key_vault": (3, 24, True),
    "managed_identity": (3, 128, False),
    "log_analytics": (4, 63, False),
    "app_insights": (1, 255, False),
    "action_group": (1, 260, False),
    "alert": (1, 260, False),
    "workbook": (1, 260, False),
    "budget": (1, 63, False),
    "sql_server": (1, 63, True),
    "sql_database": (1, 128, False),
    "service_bus": (6, 50, True),
    "storage_account": (3, 24, True),
    "data_factory": (3, 63, True),
    "redis": (1, 60, True),
    "cosmos_account": (3, 44, True),
    "function_app": (2, 60, True),
    "app_service_plan": (1, 60, False),
    "container_registry": (5, 50, True),
    "container_apps_environment": (2, 60, False),
    "container_app": (2, 32, False),
    "api_management": (1, 50, True),
    "front_door": (1, 260, False),
    "front_door_endpoint": (1, 46, True),
    "waf_policy": (1, 128, False),
    "static_web_app": (1, 40, False),
}
NO_DOUBLE_HYPHEN = {"key_vault", "container_app", "sql_server"}


def _valid(kind: str, length: int) -> str:
    """A name of `length` characters that every charset accepts from two characters on."""
    return "a" * length


def test_every_kind_has_its_documented_limits() -> None:
    assert set(RULES) == set(AZURE_LIMITS)
    for kind, (low, high, unique) in AZURE_LIMITS.items():
        rule = RULES[kind]
        assert (rule.min_length, rule.max_length, rule.globally_unique) == (low, high, unique)


@pytest.mark.parametrize("kind", sorted(AZURE_LIMITS))
def test_exact_maximum_passes_and_one_more_fails(kind: str) -> None:
    low, high, _ = AZURE_LIMITS[kind]
    assert check_name(kind, _valid(kind, high)) == _valid(kind, high)
    with pytest.raises(NamingError, match=rf"is {high + 1} characters; allowed: {low}-{high}$"):
        check_name(kind, _valid(kind, high + 1))


@pytest.mark.parametrize("kind", sorted(AZURE_LIMITS))
def test_exact_minimum_passes_the_length_check_and_one_less_fails(kind: str) -> None:
    low, high, _ = AZURE_LIMITS[kind]
    if low == 1 and RULES[kind].charset is not Charset.LOWER_ALNUM:
        # One letter has the right length but is no valid hyphenated name (that starts with
        # a letter and ends with a letter or digit): only the charset may refuse it.
        with pytest.raises(NamingError, match="charset rule"):
            check_name(kind, _valid(kind, low))
    else:
        assert check_name(kind, _valid(kind, low)) == _valid(kind, low)
    with pytest.raises(NamingError, match=rf"allowed: {low}-{high}$"):
        check_name(kind, _valid(kind, low - 1))


@pytest.mark.parametrize(
    ("charset_kind", "good", "bad"),
    [
        ("resource_group", ["Rg-Plat-1", "ab"], ["-ab", "ab-", "1ab", "a_b", "a.b"]),
        ("storage_account", ["abc", "st01", "9st"], ["st-01", "St01", "st_01"]),
        ("sql_server", ["ab", "sql-plat-1"], ["Sql-plat", "-ab", "ab-", "1ab"]),
    ],
)
def test_charsets_accept_and_refuse(charset_kind: str, good: list[str], bad: list[str]) -> None:
    for name in good:
        assert check_name(charset_kind, name) == name
    for name in bad:
        with pytest.raises(NamingError, match="charset rule"):
            check_name(charset_kind, name)


@pytest.mark.parametrize("kind", sorted(AZURE_LIMITS))
def test_consecutive_hyphens_are_refused_only_where_azure_refuses_them(kind: str) -> None:
    name = "ab--cd" if RULES[kind].charset is not Charset.LOWER_ALNUM else None
    if name is None or not AZURE_LIMITS[kind][0] <= len(name) <= AZURE_LIMITS[kind][1]:
        return
    if kind in NO_DOUBLE_HYPHEN:
        with pytest.raises(NamingError, match="consecutive hyphens"):
            check_name(kind, name)
    else:
        assert check_name(kind, name) == name


def test_composed_names_follow_each_charset() -> None:
    namer = Namer(workload="Plat", environment="staging", region_code="WUS2")
    assert namer.name("resource_group", role="Ops") == "rg-Plat-Ops-stg-WUS2"
    assert namer.name("container_app", role="Orders") == "ca-plat-orders-stg-wus2"
    assert namer._compose("storage_account", RULES["storage_account"], "e-t.l", "A1b2c3") == (
        "stplatetlstgwus2a1b2c3"
    )


def test_unknown_environments_keep_their_name_and_known_ones_their_code() -> None:
    assert ENVIRONMENT_CODES == {"dev": "dev", "qa": "qa", "staging": "stg", "prod": "prod"}
    namer = Namer(workload="plat", environment="sandbox", region_code="wus2")
    assert namer.name("resource_group") == "rg-plat-sandbox-wus2"


def test_an_empty_role_adds_no_word() -> None:
    namer = Namer(workload="plat", environment="dev", region_code="wus2")
    assert namer.name("resource_group", role="") == "rg-plat-dev-wus2"


def test_start_up_check_uses_a_suffix_of_the_real_length() -> None:
    # Key vault: "kv" + "-" + workload + "-" + env + "-" + region + "-" + 6-character suffix.
    assert SUFFIX_LENGTH == 6
    fits = Namer(workload="plat", environment="prod", region_code="wus2")  # 24 exactly
    assert len(fits._compose("key_vault", RULES["key_vault"], None, "x" * SUFFIX_LENGTH)) == 24
    # An Output needs a Pulumi runtime: one outside it would keep later runs waiting.
    run = run_program("dev", config={}, program=lambda: fits.unique_name("key_vault", "abcdef"))
    assert run.error is None, run.error
    too_long = Namer(workload="platx", environment="prod", region_code="wus2")  # 25
    with pytest.raises(NamingError, match="is 25 characters; allowed: 3-24"):
        too_long.unique_name("key_vault", "abcdef")


def test_resource_group_names_are_not_unique_names() -> None:
    namer = Namer(workload="plat", environment="dev", region_code="wus2")
    with pytest.raises(NamingError, match="storage_account names must be globally unique"):
        namer.name("storage_account")
    assert namer.name("subnet", role="app") == "snet-plat-app-dev-wus2"


def test_rules_and_namers_cannot_be_changed_by_the_layers_that_use_them() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RULES["key_vault"].max_length = 99  # type: ignore[misc]
    namer = Namer(workload="plat", environment="dev", region_code="wus2")
    with pytest.raises(dataclasses.FrozenInstanceError):
        namer.environment = "prod"  # type: ignore[misc]
