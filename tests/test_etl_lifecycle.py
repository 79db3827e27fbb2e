"""ETL lifecycle and redundancy: no early-deletion charges, staging redundant like prod."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from config.settings import (
    ARCHIVE_MINIMUM_DAYS,
    COOL_MINIMUM_DAYS,
    ENVIRONMENTS,
    EtlSettings,
    SettingsError,
    get_environment_settings,
    load_stack_settings,
)
from infra.etl import sku_name
from offline.engine import load_stack_config
from tests.conftest import stack_run


def _etl(**values: Any) -> EtlSettings:
    return EtlSettings(**{"delete_after_days": 400, **values})


def _refused(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        _etl(**values)
    return str(caught.value)


def test_minimums_are_azures() -> None:
    assert (COOL_MINIMUM_DAYS, ARCHIVE_MINIMUM_DAYS) == (30, 180)


@pytest.mark.parametrize("cool", [0, 7, 45])
def test_archive_exactly_thirty_days_after_cool_is_allowed(cool: int) -> None:
    etl = _etl(cool_after_days=cool, archive_after_days=cool + 30, delete_after_days=cool + 210)
    assert etl.archive_after_days == cool + 30


@pytest.mark.parametrize("cool", [0, 7, 45])
def test_archive_twenty_nine_days_after_cool_is_refused_naming_both_minimums(cool: int) -> None:
    message = _refused(cool_after_days=cool, archive_after_days=cool + 29, delete_after_days=999)
    assert "archived 29 days after reaching cool" in message
    assert "30-day" in message and "180-day" in message
    assert "early-deletion" in message


def test_delete_exactly_180_days_after_archive_is_allowed() -> None:
    assert _etl(cool_after_days=7, archive_after_days=37, delete_after_days=217)


def test_delete_179_days_after_archive_is_refused_naming_both_minimums() -> None:
    message = _refused(cool_after_days=7, archive_after_days=37, delete_after_days=216)
    assert "deleted 179 days after reaching archive" in message
    assert "30-day" in message and "180-day" in message


def test_both_problems_are_reported_at_once() -> None:
    # Seed 001's wish as first written: cool at 7, archive at 30, delete at 90.
    message = _refused(cool_after_days=7, archive_after_days=30, delete_after_days=90)
    assert "archived 23 days after reaching cool" in message
    assert "deleted 60 days after reaching archive" in message


def test_without_archive_delete_exactly_thirty_days_after_cool_is_allowed() -> None:
    assert _etl(cool_after_days=7, archive_after_days=None, delete_after_days=37)


def test_without_archive_delete_twenty_nine_days_after_cool_is_refused() -> None:
    message = _refused(cool_after_days=7, archive_after_days=None, delete_after_days=36)
    assert "deleted 29 days after reaching cool" in message
    assert "deleteAfterDays 36" in message


@pytest.mark.parametrize(
    ("cool", "archive", "delete"),
    [(40, 40, 400), (50, 40, 400), (7, 400, 400), (7, 500, 400)],
)
def test_tiers_must_come_in_order(cool: int, archive: int, delete: int) -> None:
    message = _refused(cool_after_days=cool, archive_after_days=archive, delete_after_days=delete)
    assert "coolAfterDays" in message and "< archiveAfterDays" in message
    assert "must hold" in message


@pytest.mark.parametrize("delete", [7, 6])
def test_without_archive_cool_must_come_before_delete(delete: int) -> None:
    message = _refused(cool_after_days=7, archive_after_days=None, delete_after_days=delete)
    assert "coolAfterDays (7) < deleteAfterDays" in message


def test_field_bounds() -> None:
    assert _etl(cool_after_days=0, archive_after_days=30, delete_after_days=36500)
    for bad in (
        {"cool_after_days": -1},
        {"archive_after_days": 0},
        {"delete_after_days": 36501},
        {"delete_after_days": 0},
    ):
        with pytest.raises(ValidationError):
            _etl(**bad)


@pytest.mark.parametrize("redundancy", ["ZRS", "GZRS", "RAGZRS"])
def test_zone_redundant_accounts_cannot_archive(redundancy: str) -> None:
    message = _refused(storage_redundancy=redundancy)
    assert f"storageRedundancy = {redundancy}" in message
    assert "allowed: GRS, LRS, RAGRS" in message
    assert _etl(storage_redundancy=redundancy, archive_after_days=None)


@pytest.mark.parametrize("redundancy", ["LRS", "GRS", "RAGRS"])
def test_archive_capable_redundancies_are_accepted(redundancy: str) -> None:
    assert sku_name(_etl(storage_redundancy=redundancy)) == f"Standard_{redundancy}"


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_shipped_lifecycles_pay_no_early_deletion(stack: str) -> None:
    etl = get_environment_settings(stack).etl
    if etl.archive_after_days is None:
        assert etl.delete_after_days - etl.cool_after_days >= COOL_MINIMUM_DAYS
    else:
        assert etl.archive_after_days - etl.cool_after_days >= COOL_MINIMUM_DAYS
        assert etl.delete_after_days - etl.archive_after_days >= ARCHIVE_MINIMUM_DAYS


def test_staging_mirrors_prods_lifecycle_and_redundancy() -> None:
    staging, prod = (get_environment_settings(e).etl for e in ("staging", "prod"))
    assert staging.cool_after_days == prod.cool_after_days
    assert staging.archive_after_days == prod.archive_after_days
    assert staging.storage_redundancy == prod.storage_redundancy == "GRS"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_staging_and_prod_storage_is_geo_redundant(stack: str) -> None:
    account = next(
        r
        for r in stack_run(stack).by_type("azure-native:storage:StorageAccount")
        if r.name == "etl-st"
    )
    assert account.inputs["sku"] == {"name": "Standard_GRS"}


def _load(stack: str, etl: dict[str, Any]) -> Any:
    config, _ = load_stack_config(stack)
    config["platform:overrides"] = json.dumps({"etl": etl})
    return load_stack_settings(stack, config)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_lrs_is_refused_where_the_environment_mirrors_prod(stack: str) -> None:
    with pytest.raises(SettingsError) as caught:
        _load(stack, {"storageRedundancy": "LRS"})
    message = str(caught.value)
    assert f"Pulumi.{stack}.yaml" in message
    assert f"etl.storageRedundancy = LRS in {stack}" in message
    assert "mirrors prod" in message


def test_staging_may_choose_zrs_when_it_stops_archiving() -> None:
    settings = _load("staging", {"storageRedundancy": "ZRS", "archiveAfterDays": None})
    assert settings.env.etl.storage_redundancy == "ZRS"


@pytest.mark.parametrize("stack", ["dev", "qa"])
def test_lrs_stays_allowed_where_nothing_mirrors_prod(stack: str) -> None:
    assert _load(stack, {"storageRedundancy": "LRS"}).env.etl.storage_redundancy == "LRS"


def test_an_early_deletion_lifecycle_in_a_stack_file_is_refused_there() -> None:
    with pytest.raises(SettingsError) as caught:
        _load("dev", {"archiveAfterDays": 30, "deleteAfterDays": 90})
    message = str(caught.value)
    assert "Pulumi.dev.yaml: platform:overrides.etl:" in message
    assert "30-day" in message and "180-day" in message
