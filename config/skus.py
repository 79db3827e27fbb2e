"""Feature flags and tier choices per layer (seed 003 tables, corrected where Azure refuses)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from config.base import _Model


class FeatureFlags(_Model):
    """Which optional layers and resources each environment deploys (seed 003 table)."""

    enable_container_apps: bool = True
    enable_functions: bool = True
    enable_service_bus: bool = True
    enable_sql_database: bool = True
    enable_api_management: bool
    enable_cdn: bool
    enable_data_factory: bool
    enable_redis: bool
    enable_cosmos_db: bool


class ApimSku(StrEnum):
    CONSUMPTION = "Consumption"
    DEVELOPER = "Developer"
    BASIC = "Basic"
    STANDARD = "Standard"
    PREMIUM = "Premium"
    BASIC_V2 = "BasicV2"
    STANDARD_V2 = "StandardV2"
    PREMIUM_V2 = "PremiumV2"


# Classic tiers that are injected into an undelegated subnet.
APIM_INJECTED_SKUS = frozenset({ApimSku.DEVELOPER, ApimSku.PREMIUM})
# v2 tiers with outbound VNet integration (subnet delegated to Microsoft.Web/serverFarms).
APIM_INTEGRATED_SKUS = frozenset({ApimSku.STANDARD_V2, ApimSku.PREMIUM_V2})


class FunctionsPlan(StrEnum):
    CONSUMPTION = "Consumption"
    FLEX_CONSUMPTION = "FlexConsumption"
    ELASTIC_PREMIUM = "ElasticPremium"


class ServiceBusSku(StrEnum):
    BASIC = "Basic"
    STANDARD = "Standard"
    PREMIUM = "Premium"


class AcrSku(StrEnum):
    BASIC = "Basic"
    STANDARD = "Standard"
    PREMIUM = "Premium"


class FrontDoorSku(StrEnum):
    STANDARD = "Standard_AzureFrontDoor"
    PREMIUM = "Premium_AzureFrontDoor"


SqlSku = Literal["Basic", "S0", "S1", "S2", "S3", "S4", "P1", "P2", "GP_Gen5_2", "BC_Gen5_2"]
SQL_ZONE_REDUNDANT_SKUS = frozenset({"P1", "P2", "GP_Gen5_2", "BC_Gen5_2"})
RedisSku = Literal[
    "Balanced_B0", "Balanced_B1", "Balanced_B3", "Balanced_B5", "MemoryOptimized_M10"
]


class SkuSettings(_Model):
    """Tier choices per layer. Where seed 003's cost table is impossible, see the defaults."""

    api_management: ApimSku
    functions_plan: FunctionsPlan
    sql_database: SqlSku
    service_bus: ServiceBusSku
    container_registry: AcrSku
    front_door: FrontDoorSku
    redis: RedisSku
    key_vault: Literal["standard", "premium"] = "standard"
