"""The platform's database: SKU, backups (short- and long-term) and resilience per environment."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import sql

from config.settings import DatabaseSettings, SqlSku

_DTU_TIERS = {"B": "Basic", "S": "Standard", "P": "Premium"}
_VCORE_TIERS = {"GP": "GeneralPurpose", "BC": "BusinessCritical"}


def sku_args(sku: SqlSku) -> sql.SkuArgs:
    """ARM's SKU shape for a settings SKU: DTU names as they are, vCore names split up."""
    if sku.startswith(("GP_", "BC_")):
        edition, family, cores = sku.split("_")
        return sql.SkuArgs(
            name=f"{edition}_{family}",
            tier=_VCORE_TIERS[edition],
            family=family,
            capacity=int(cores),
        )
    return sql.SkuArgs(name=sku, tier=_DTU_TIERS[sku[0]])


def create_database(
    name: str,
    *,
    server: sql.Server,
    azure_name: str,
    resource_group_name: pulumi.Input[str],
    location: str,
    sku: SqlSku,
    settings: DatabaseSettings,
    protect: bool,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> sql.Database:
    """The database and its backup policies: point-in-time restore days per environment,
    weekly long-term backups where set (prod)."""
    database = sql.Database(
        f"{name}-sqldb",
        database_name=azure_name,
        server_name=server.name,
        resource_group_name=resource_group_name,
        location=location,
        sku=sku_args(sku),
        zone_redundant=settings.zone_redundant,
        requested_backup_storage_redundancy=settings.backup_storage_redundancy,
        collation="SQL_Latin1_General_CP1_CI_AS",
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    sql.BackupShortTermRetentionPolicy(
        f"{name}-sqldb-pitr",
        policy_name="default",
        database_name=database.name,
        server_name=server.name,
        resource_group_name=resource_group_name,
        # Basic keeps at most 7 days; the settings validator enforces it.
        retention_days=settings.backup_retention_days,
        opts=pulumi.ResourceOptions(parent=database),
    )
    if settings.long_term_retention_weeks:
        # https://learn.microsoft.com/azure/azure-sql/database/long-term-retention-overview
        sql.LongTermRetentionPolicy(
            f"{name}-sqldb-ltr",
            policy_name="default",
            database_name=database.name,
            server_name=server.name,
            resource_group_name=resource_group_name,
            weekly_retention=f"P{settings.long_term_retention_weeks}W",
            monthly_retention="P12M",
            yearly_retention="P7Y",
            week_of_year=1,
            opts=pulumi.ResourceOptions(parent=database),
        )
    return database
