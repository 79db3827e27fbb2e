"""Audit store settings: Azure's retention bounds, MiFID II record keeping in prod, defaults."""

from __future__ import annotations

import json
from typing import Any

import pytest

from config.settings import (
    ENVIRONMENTS,
    MAX_RETENTION_DAYS,
    MIFID_RECORD_KEEPING_DAYS,
    SettingsError,
    get_environment_settings,
    load_stack_settings,
)

BASE = {"platform:location": "westus2", "platform:owner": "team", "platform:costCenter": "CC-1"}


def _load(stack: str, audit: dict[str, Any]) -> None:
    config = {**BASE, "platform:overrides": json.dumps({"audit": audit})}
    load_stack_settings(stack, config)


def _refused(stack: str, audit: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as caught:
        _load(stack, audit)
    return str(caught.value)


def test_defaults_keep_years_locked_in_prod_and_days_unlocked_elsewhere() -> None:
    days = {e: get_environment_settings(e).audit.retention_days for e in ENVIRONMENTS}
    assert days == {"dev": 3, "qa": 7, "staging": 30, "prod": 2555}
    prod = get_environment_settings("prod").audit
    assert prod.policy_locked is True
    assert prod.policy_state == "Locked"
    assert prod.personal_data_retention_days["orders"] == 2555
    assert prod.personal_data_retention_days["payments"] == 2555
    for environment in ("dev", "qa", "staging"):
        audit = get_environment_settings(environment).audit
        assert audit.policy_locked is False
        assert audit.policy_state == "Unlocked"
    for environment in ENVIRONMENTS:
        audit = get_environment_settings(environment).audit
        assert set(audit.personal_data_retention_days) == {
            "users",
            "orders",
            "products",
            "payments",
        }
        assert audit.allow_protected_append_writes is False
        assert audit.create_unlocked is False


@pytest.mark.parametrize("days", [0, MAX_RETENTION_DAYS + 1])
def test_retention_outside_azures_bounds_is_refused(days: int) -> None:
    message = _refused("dev", {"retentionDays": days})
    assert "platform:overrides.audit.retentionDays" in message
    assert str(days) in message


def test_azures_bounds_themselves_are_accepted() -> None:
    _load("dev", {"retentionDays": 1})
    _load("dev", {"retentionDays": MAX_RETENTION_DAYS})


def test_prod_must_lock_the_policy() -> None:
    message = _refused("prod", {"policyLocked": False})
    assert "audit.policyLocked = false in prod" in message
    assert "allowed: true" in message


def test_prod_keeps_records_at_least_five_years() -> None:
    message = _refused("prod", {"retentionDays": MIFID_RECORD_KEEPING_DAYS - 1})
    assert f"audit.retentionDays = {MIFID_RECORD_KEEPING_DAYS - 1} in prod" in message
    assert "2017/565 Art. 72(1)" in message and "MiFIR Art. 25(1)" in message
    assert f"allowed: {MIFID_RECORD_KEEPING_DAYS}-" in message
    # Five years exactly is enough (with the record-keeping services' days to match).
    _load(
        "prod",
        {
            "retentionDays": MIFID_RECORD_KEEPING_DAYS,
            "personalDataRetentionDays": {
                "users": 30,
                "products": 30,
                "orders": MIFID_RECORD_KEEPING_DAYS,
                "payments": MIFID_RECORD_KEEPING_DAYS,
            },
        },
    )


@pytest.mark.parametrize("service", ["orders", "payments"])
def test_prod_record_keeping_services_keep_personal_data_as_long_as_the_records(
    service: str,
) -> None:
    days = get_environment_settings("prod").audit.personal_data_retention_days
    message = _refused("prod", {"personalDataRetentionDays": {**days, service: 2554}})
    assert f"audit.personalDataRetentionDays.{service} = 2554 in prod" in message
    assert "allowed: 2555-" in message


def test_a_record_keeping_period_beyond_the_services_bound_asks_for_their_longest() -> None:
    days = {"users": 30, "products": 30, "orders": 3650, "payments": 3650}
    _load("prod", {"retentionDays": 5000, "personalDataRetentionDays": days})
    message = _refused(
        "prod",
        {"retentionDays": 5000, "personalDataRetentionDays": {**days, "orders": 3649}},
    )
    assert "allowed: 3650-3650" in message
    message = _refused("dev", {"personalDataRetentionDays": {**days, "users": 3651}})
    assert "personalDataRetentionDays.users" in message


def test_users_and_products_may_purge_sooner_in_prod() -> None:
    days = get_environment_settings("prod").audit.personal_data_retention_days
    _load("prod", {"personalDataRetentionDays": {**days, "users": 30, "products": 1}})


def test_outside_prod_nothing_is_kept_for_the_regulator() -> None:
    _load(
        "staging",
        {"personalDataRetentionDays": {"users": 1, "orders": 1, "products": 1, "payments": 1}},
    )


def test_a_table_without_a_service_is_refused() -> None:
    # Stack overrides merge into the defaults, so a table short of a service comes only
    # from config/defaults.py itself: checked on the model.
    from config.audit import AuditSettings

    with pytest.raises(ValueError, match="no entry for payments"):
        AuditSettings(
            retention_days=3,
            policy_locked=False,
            personal_data_retention_days={"users": 7, "orders": 7, "products": 7},
        )


def test_unknown_service_and_bad_days_are_refused() -> None:
    message = _refused("dev", {"personalDataRetentionDays": {"billing": 7}})
    assert "personalDataRetentionDays.billing" in message
    message = _refused("dev", {"personalDataRetentionDays": {"users": 0}})
    assert "personalDataRetentionDays.users" in message


def test_create_unlocked_only_means_something_for_a_locked_policy() -> None:
    message = _refused("dev", {"createUnlocked": True})
    assert "audit.createUnlocked = true with audit.policyLocked = false" in message
    # In prod it is how the first deploy creates the account (Azure creates policies
    # only Disabled or Unlocked); the state says Unlocked until it is removed.
    config = {**BASE, "platform:overrides": json.dumps({"audit": {"createUnlocked": True}})}
    assert load_stack_settings("prod", config).env.audit.policy_state == "Unlocked"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_a_prod_mirror_keeps_audit_records_beyond_one_datacenter(stack: str) -> None:
    message = _refused(stack, {"storageRedundancy": "LRS"})
    assert f"audit.storageRedundancy = LRS in {stack}" in message


def test_dev_may_keep_its_records_in_one_datacenter() -> None:
    _load("dev", {"storageRedundancy": "LRS"})
