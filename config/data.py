"""The data layers' settings: Azure SQL backups and the ETL files' blob lifecycle."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from config.base import Environment, _Model


class DatabaseSettings(_Model):
    """Backup retention and resilience of the Azure SQL database."""

    # Point-in-time restore: Basic allows 1-7 days, other tiers 1-35.
    backup_retention_days: Annotated[int, Field(ge=1, le=35)]
    long_term_retention_weeks: Annotated[int, Field(ge=0, le=520)] = 0
    zone_redundant: bool = False
    backup_storage_redundancy: Literal["Local", "Zone", "Geo"] = "Local"
    # Microsoft Defender for SQL (threat alerts and vulnerability assessment).
    enable_defender: bool = False
    # How clients reach the database, set explicitly on the server (infra/database) and
    # matched by the data subnet's NSG (infra/networking/nsg.py). Redirect, Microsoft's
    # recommendation (also over private endpoints), sends traffic straight to the node
    # hosting the database: lower latency, higher throughput, more ports. Proxy keeps every
    # packet on the gateway's 1433 for drivers without redirect support.
    # https://learn.microsoft.com/azure/azure-sql/database/connectivity-architecture#connection-policy
    connection_policy: Literal["Proxy", "Redirect"] = "Redirect"


# Days a blob must stay in a tier before it may leave it (deleted, or moved to a cooler tier)
# without an early-deletion charge for the rest of the period.
# https://learn.microsoft.com/azure/storage/blobs/access-tiers-overview#summary-of-access-tier-options
COOL_MINIMUM_DAYS = 30
ARCHIVE_MINIMUM_DAYS = 180

StorageRedundancy = Literal["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"]
# The archive tier exists only on these: https://learn.microsoft.com/azure/storage/blobs/access-tiers-overview
ARCHIVE_REDUNDANCIES = frozenset({"LRS", "GRS", "RAGRS"})
# Environments that mirror prod: their storage must survive what prod's survives.
MIRRORS_PROD: frozenset[Environment] = frozenset({"staging", "prod"})


class EtlSettings(_Model):
    """Blob lifecycle and redundancy of ETL files (seed 001: hot, then cool, then archive).

    Every tier change respects the previous tier's minimum: a blob spends at least 30 days in
    cool and 180 in archive, so the lifecycle never pays an early-deletion charge.
    """

    cool_after_days: Annotated[int, Field(ge=0)] = 7
    # None: files are never archived (where they are deleted before 180 days could pass).
    archive_after_days: Annotated[int, Field(ge=1)] | None = 7 + COOL_MINIMUM_DAYS
    delete_after_days: Annotated[int, Field(ge=1, le=36500)]
    # Deleted blobs and containers stay restorable this long.
    soft_delete_days: Annotated[int, Field(ge=1, le=365)] = 7
    # Standard_<redundancy> of the ETL account.
    storage_redundancy: StorageRedundancy = "LRS"

    @model_validator(mode="after")
    def _tiers_in_order(self) -> Self:
        cool, archive, delete = (
            self.cool_after_days,
            self.archive_after_days,
            self.delete_after_days,
        )
        if archive is None:
            if not cool < delete:
                raise ValueError(
                    f"etl: coolAfterDays ({cool}) < deleteAfterDays ({delete}) must hold; "
                    "a blob cannot be cooled after it is deleted"
                )
        elif not cool < archive < delete:
            raise ValueError(
                f"etl: coolAfterDays ({cool}) < archiveAfterDays ({archive}) < deleteAfterDays "
                f"({delete}) must hold; a blob cannot be archived before it is cooled or "
                "deleted first"
            )
        problems = []
        leaves_cool = delete if archive is None else archive
        if leaves_cool - cool < COOL_MINIMUM_DAYS:
            what, key = (
                ("deleted", "deleteAfterDays")
                if archive is None
                else ("archived", "archiveAfterDays")
            )
            problems.append(
                f"blobs would be {what} {leaves_cool - cool} days after reaching cool "
                f"(coolAfterDays {cool}, {key} {leaves_cool})"
            )
        if archive is not None and delete - archive < ARCHIVE_MINIMUM_DAYS:
            problems.append(
                f"blobs would be deleted {delete - archive} days after reaching archive "
                f"(archiveAfterDays {archive}, deleteAfterDays {delete})"
            )
        if problems:
            raise ValueError(
                "etl: " + "; ".join(problems) + f"; the cool tier has a {COOL_MINIMUM_DAYS}-day "
                f"and the archive tier a {ARCHIVE_MINIMUM_DAYS}-day minimum, and leaving either "
                "earlier pays an early-deletion charge for the remaining days; allowed: "
                f"archiveAfterDays >= coolAfterDays + {COOL_MINIMUM_DAYS} (or deleteAfterDays "
                f"when nothing is archived) and deleteAfterDays >= archiveAfterDays + "
                f"{ARCHIVE_MINIMUM_DAYS}, or archiveAfterDays: null"
            )
        if archive is not None and self.storage_redundancy not in ARCHIVE_REDUNDANCIES:
            raise ValueError(
                f"etl: storageRedundancy = {self.storage_redundancy} with archiveAfterDays "
                f"{archive}: the archive tier does not exist on zone-redundant accounts; "
                f"allowed: {', '.join(sorted(ARCHIVE_REDUNDANCIES))}, or archiveAfterDays: null"
            )
        return self
