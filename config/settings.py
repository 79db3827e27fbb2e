"""The environment matrix: typed, validated settings for every stack, in one place."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from config.images import ImageDigests

Environment = Literal["dev", "qa", "staging", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("dev", "qa", "staging", "prod")

# Config namespace: the `name` in Pulumi.yaml. Stack files set `platform:<key>`.
CONFIG_NAMESPACE = "platform"

# Azure regions this platform may deploy to, with the short code used in resource names.
AZURE_REGIONS: dict[str, str] = {
    "westus2": "wus2",
    "westus3": "wus3",
    "westus": "wus",
    "eastus": "eus",
    "eastus2": "eus2",
    "centralus": "cus",
    "northcentralus": "ncus",
    "southcentralus": "scus",
    "westcentralus": "wcus",
    "canadacentral": "cac",
    "canadaeast": "cae",
    "westeurope": "weu",
    "northeurope": "neu",
    "uksouth": "uks",
    "ukwest": "ukw",
    "francecentral": "frc",
    "germanywestcentral": "gwc",
    "swedencentral": "sdc",
    "switzerlandnorth": "szn",
    "norwayeast": "nwe",
    "italynorth": "itn",
    "polandcentral": "plc",
}


class SettingsError(ValueError):
    """Raised when a stack's configuration is invalid; the message is meant for the user."""


def _check_region(value: str) -> str:
    if value not in AZURE_REGIONS:
        raise ValueError(f"unknown Azure region; allowed: {', '.join(sorted(AZURE_REGIONS))}")
    return value


def _check_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"not a valid IPv4 network in CIDR notation ({exc}); expected e.g. 10.0.0.0/16"
        ) from exc
    return str(network)


def _check_public_cidr(value: str) -> str:
    cidr = _check_cidr(value)
    prefix = ipaddress.IPv4Network(cidr).prefixlen
    if prefix < 8:
        raise ValueError("allowed IP range is wider than /8; list the caller ranges explicitly")
    if prefix == 31:
        # Storage and Cosmos firewalls take /30 or wider, or a single address.
        raise ValueError("a /31 is not accepted by Azure service firewalls; use two /32s or a /30")
    return cidr


AzureRegion = Annotated[str, AfterValidator(_check_region)]
Cidr = Annotated[str, AfterValidator(_check_cidr)]
AllowedIpRange = Annotated[str, AfterValidator(_check_public_cidr)]


def _check_email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", value):
        raise ValueError("not an e-mail address; expected e.g. platform-team@example.com")
    return value


Email = Annotated[str, AfterValidator(_check_email)]
DomainName = Annotated[
    str,
    Field(
        min_length=4,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    ),
]
Guid = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")]


class _Model(BaseModel):
    """Frozen, strict-keyed, camelCase in stack files and snake_case in code."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
    )


class SubnetName(StrEnum):
    """The six subnets of seed 003's network architecture."""

    GATEWAY = "gateway"
    APP = "app"
    FUNCTIONS = "functions"
    INTEGRATION = "integration"
    DATA = "data"
    MANAGEMENT = "management"


# Smallest prefix each subnet may have, from what Azure requires of what lands there.
# Container Apps workload-profiles environments and Flex Consumption need at least /27:
# https://learn.microsoft.com/azure/container-apps/custom-virtual-networks
MAX_SUBNET_PREFIX: dict[SubnetName, int] = {
    SubnetName.GATEWAY: 27,
    SubnetName.APP: 27,
    SubnetName.FUNCTIONS: 27,
    SubnetName.INTEGRATION: 28,
    SubnetName.DATA: 28,
    SubnetName.MANAGEMENT: 29,
}


class NetworkSettings(_Model):
    """VNet address space, the six subnets, and the prod-only network protections."""

    vnet_cidr: Cidr
    subnets: dict[SubnetName, Cidr]
    firewall_subnet_cidr: Cidr | None = Field(
        default=None,
        description="AzureFirewallSubnet (/26 or larger); required when the firewall is on.",
    )
    enable_ddos_protection: bool
    enable_firewall: bool
    enable_nat_gateway: bool = True
    # Hosts this deployment lets out through the prod firewall on top of the egress table
    # (infra/networking/egress.py: platform dependencies and the third-party APIs, each with
    # its source). Empty unless a stack's workers call something the table does not list.
    egress_allowed_fqdns: tuple[DomainName, ...] = ()

    @model_validator(mode="after")
    def _subnets_fit(self) -> Self:
        vnet = ipaddress.IPv4Network(self.vnet_cidr)
        missing = [s.value for s in SubnetName if s not in self.subnets]
        if missing:
            raise ValueError(
                f"network.subnets is missing {', '.join(missing)}; "
                f"all of {', '.join(s.value for s in SubnetName)} are required"
            )
        placed: list[tuple[str, ipaddress.IPv4Network]] = []
        named = {s.value: c for s, c in self.subnets.items()}
        if self.firewall_subnet_cidr is not None:
            named["firewallSubnetCidr"] = self.firewall_subnet_cidr
        for name, cidr in named.items():
            net = ipaddress.IPv4Network(cidr)
            if not net.subnet_of(vnet):
                raise ValueError(
                    f"network.subnets.{name} = {cidr} lies outside network.vnetCidr "
                    f"{self.vnet_cidr}; every subnet must be inside the VNet"
                )
            for other_name, other in placed:
                if net.overlaps(other):
                    raise ValueError(
                        f"network.subnets.{name} = {cidr} overlaps {other_name} = {other}; "
                        "subnets must not overlap"
                    )
            placed.append((name, net))
        for subnet, cidr in self.subnets.items():
            limit = MAX_SUBNET_PREFIX[subnet]
            if ipaddress.IPv4Network(cidr).prefixlen > limit:
                raise ValueError(
                    f"network.subnets.{subnet.value} = {cidr} is too small; "
                    f"it needs /{limit} or larger"
                )
        if self.enable_firewall:
            if self.firewall_subnet_cidr is None:
                raise ValueError(
                    "network.enableFirewall is true but network.firewallSubnetCidr is not set; "
                    "Azure Firewall needs its own AzureFirewallSubnet of /26 or larger"
                )
            if ipaddress.IPv4Network(self.firewall_subnet_cidr).prefixlen > 26:
                raise ValueError(
                    f"network.firewallSubnetCidr = {self.firewall_subnet_cidr} is too small; "
                    "AzureFirewallSubnet needs /26 or larger"
                )
        return self


class SecuritySettings(_Model):
    """Key Vault protection and private endpoints."""

    enable_private_endpoints: bool
    enable_purge_protection: bool
    # Fixed when the vault is created; Azure allows 7-90 days.
    soft_delete_retention_days: Annotated[int, Field(ge=7, le=90)]
    waf_mode: Literal["Detection", "Prevention"]
    # Requests one client IP may make per minute before Front Door's WAF blocks it.
    waf_rate_limit_per_minute: Annotated[int, Field(ge=10, le=100_000)] = 1000
    # Front Door's WAF runs Microsoft's managed rule sets (default rule set and bot manager)
    # besides the custom rules. Only Front Door Premium has them; Standard takes custom rules
    # only. https://learn.microsoft.com/azure/frontdoor/front-door-cdn-comparison
    waf_managed_rules: bool = False
    # Pulumi `protect` plus a CanNotDelete lock on data resources (SQL, storage, Key Vault).
    protect_data: bool = False


class AlertThresholds(_Model):
    """When the platform's alerts fire; stricter where users are real."""

    gateway_5xx_percent: Annotated[float, Field(gt=0, le=100)] = 5.0
    gateway_latency_ms: Annotated[int, Field(gt=0)] = 2000
    dead_letter_messages: Annotated[int, Field(ge=1)] = 1
    active_messages_backlog: Annotated[int, Field(ge=1)] = 1000
    function_failures: Annotated[int, Field(ge=1)] = 5
    container_restarts: Annotated[int, Field(ge=1)] = 3
    sql_cpu_percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    sql_storage_percent: Annotated[float, Field(gt=0, le=100)] = 85.0
    # Azure Monitor severities: 0 critical ... 4 verbose.
    severity: Annotated[int, Field(ge=0, le=4)] = 2


class MonitoringSettings(_Model):
    """Log Analytics retention and ingestion cap, alert thresholds and the monthly budget."""

    # PerGB2018 workspaces keep data 30-730 days.
    log_retention_days: Annotated[int, Field(ge=30, le=730)]
    # None means no cap (Azure's -1).
    daily_quota_gb: Annotated[float, Field(gt=0, le=1000)] | None
    monthly_budget_usd: Annotated[int, Field(gt=0)]
    budget_alert_thresholds_percent: tuple[Annotated[int, Field(gt=0, le=1000)], ...] = (
        50,
        80,
        100,
    )
    alerts: AlertThresholds = AlertThresholds()


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


class FunctionsSettings(_Model):
    """Scale of the workers' Flex Consumption app (functionAppConfig.scaleAndConcurrency).

    Flex takes 40-1000 as the per-function-group instance ceiling and 512, 2048 or 4096 MB
    per instance; HTTP concurrency is per instance (the workers' Service Bus concurrency is
    in host.json). https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#set-instance-memory
    """

    maximum_instance_count: Annotated[int, Field(ge=40, le=1000)] = 40
    instance_memory_mb: Literal[512, 2048, 4096] = 2048
    http_per_instance_concurrency: Annotated[int, Field(ge=1, le=1000)] = 16
    python_version: Literal["3.10", "3.11", "3.12"] = "3.11"


class EnvironmentSettings(_Model):
    """Everything that differs between dev, qa, staging and prod."""

    environment: Environment
    network: NetworkSettings
    security: SecuritySettings
    monitoring: MonitoringSettings
    features: FeatureFlags
    skus: SkuSettings
    database: DatabaseSettings
    etl: EtlSettings
    functions: FunctionsSettings = FunctionsSettings()

    @model_validator(mode="after")
    def _azure_accepts(self) -> Self:
        """Reject combinations that Azure itself would reject part way through `pulumi up`."""
        problems = list(_azure_rejections(self))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _mirrors_prod(self) -> Self:
        """Staging rehearses prod: its storage keeps the redundancy a prod outage would test,
        and its Front Door the WAF a prod attack would meet."""
        if (
            self.environment in MIRRORS_PROD
            and self.features.enable_cdn
            and not self.security.waf_managed_rules
        ):
            raise ValueError(
                f"security.wafManagedRules = false in {self.environment}: {self.environment} "
                "mirrors prod, whose Front Door WAF blocks with Microsoft's managed rule sets; "
                "allowed: true (with skus.frontDoor = Premium_AzureFrontDoor)"
            )
        if self.environment in MIRRORS_PROD and self.etl.storage_redundancy == "LRS":
            raise ValueError(
                f"etl.storageRedundancy = LRS in {self.environment}: {self.environment} mirrors "
                "prod, and LRS keeps every copy in one datacenter, lost with that zone; allowed: "
                "ZRS, GRS, RAGRS, GZRS, RAGZRS (GRS or RAGRS while files are archived)"
            )
        return self


def _functions_rejections(s: EnvironmentSettings) -> list[str]:
    out: list[str] = []
    skus, features = s.skus, s.features
    if skus.functions_plan is FunctionsPlan.CONSUMPTION and features.enable_functions:
        out.append(
            "skus.functionsPlan = Consumption: the classic Consumption plan cannot join a VNet "
            "and Linux Consumption retires in 2028; allowed: FlexConsumption, ElasticPremium"
        )
    if skus.functions_plan is FunctionsPlan.ELASTIC_PREMIUM and features.enable_functions:
        out.append(
            "skus.functionsPlan = ElasticPremium: infra/functions deploys the workers on Flex "
            "Consumption only (functionAppConfig, OneDeploy); allowed: FlexConsumption"
        )
    if features.enable_functions and not features.enable_service_bus:
        out.append(
            "features.enableFunctions = true with features.enableServiceBus = false: every "
            "worker is triggered by a Service Bus queue or topic; allowed: enableServiceBus = true"
        )
    return out


def _azure_rejections(s: EnvironmentSettings) -> list[str]:
    out: list[str] = []
    skus, features, security = s.skus, s.features, s.security
    if security.waf_managed_rules and skus.front_door is not FrontDoorSku.PREMIUM:
        # https://learn.microsoft.com/azure/web-application-firewall/afds/waf-front-door-drs
        out.append(
            f"security.wafManagedRules = true with skus.frontDoor = {skus.front_door.value}: "
            "managed WAF rule sets (Microsoft_DefaultRuleSet, Microsoft_BotManagerRuleSet) "
            "need Front Door Premium, and Standard takes custom rules only; allowed: "
            f"skus.frontDoor = {FrontDoorSku.PREMIUM.value}, or security.wafManagedRules = false"
        )
    if skus.service_bus is ServiceBusSku.BASIC and features.enable_service_bus:
        out.append(
            "skus.serviceBus = Basic: Basic has no topics, duplicate detection or sessions; "
            "allowed: Standard, Premium"
        )
    if security.enable_private_endpoints and skus.service_bus is not ServiceBusSku.PREMIUM:
        out.append(
            f"skus.serviceBus = {skus.service_bus.value} with security.enablePrivateEndpoints: "
            "Service Bus private endpoints need Premium; allowed: Premium"
        )
    if security.enable_private_endpoints and skus.container_registry is not AcrSku.PREMIUM:
        out.append(
            f"skus.containerRegistry = {skus.container_registry.value} with "
            "security.enablePrivateEndpoints: ACR private endpoints need Premium; allowed: Premium"
        )
    out += _functions_rejections(s)
    if features.enable_api_management and features.enable_container_apps:
        reachable = APIM_INJECTED_SKUS | APIM_INTEGRATED_SKUS
        if skus.api_management not in reachable:
            out.append(
                f"skus.apiManagement = {skus.api_management.value}: this tier cannot reach "
                "internal Container Apps in the VNet; allowed: "
                + ", ".join(sorted(v.value for v in reachable))
            )
    if s.database.backup_retention_days > 7 and skus.sql_database == "Basic":
        out.append(
            f"database.backupRetentionDays = {s.database.backup_retention_days} with "
            "skus.sqlDatabase = Basic: Basic keeps at most 7 days of point-in-time restore; "
            "allowed: 1-7, or a Standard/Premium SKU"
        )
    if s.database.zone_redundant and skus.sql_database not in SQL_ZONE_REDUNDANT_SKUS:
        out.append(
            f"database.zoneRedundant = true with skus.sqlDatabase = {skus.sql_database}: "
            "zone redundancy needs one of " + ", ".join(sorted(SQL_ZONE_REDUNDANT_SKUS))
        )
    if s.environment == "prod" and not security.enable_purge_protection:
        out.append(
            "security.enablePurgeProtection = false in prod: production secrets must survive "
            "deletion; allowed: true"
        )
    if s.environment == "prod" and not security.protect_data:
        out.append(
            "security.protectData = false in prod: production data must be protected from "
            "`pulumi destroy` and portal deletes; allowed: true"
        )
    return out


def _subnets(second_octet: int) -> dict[SubnetName, str]:
    return {name: f"10.{second_octet}.{index}.0/24" for index, name in enumerate(SubnetName)}


def _network(second_octet: int, *, prod: bool) -> NetworkSettings:
    return NetworkSettings(
        vnet_cidr=f"10.{second_octet}.0.0/16",
        subnets=_subnets(second_octet),
        firewall_subnet_cidr=f"10.{second_octet}.6.0/26" if prod else None,
        enable_ddos_protection=prod,
        enable_firewall=prod,
    )


def get_environment_settings(environment: str) -> EnvironmentSettings:
    """Seed 003's defaults for one environment."""
    if environment not in ENVIRONMENTS:
        raise SettingsError(
            f"unknown environment {environment!r}; allowed: {', '.join(ENVIRONMENTS)}"
        )
    return _DEFAULTS[environment]()


def _dev() -> EnvironmentSettings:
    return EnvironmentSettings(
        environment="dev",
        network=_network(0, prod=False),
        security=SecuritySettings(
            enable_private_endpoints=False,
            enable_purge_protection=False,
            soft_delete_retention_days=7,
            waf_mode="Detection",
        ),
        monitoring=MonitoringSettings(
            log_retention_days=30, daily_quota_gb=1, monthly_budget_usd=500
        ),
        features=FeatureFlags(
            enable_api_management=True,
            enable_cdn=False,
            enable_data_factory=True,
            enable_redis=True,
            enable_cosmos_db=True,
        ),
        skus=SkuSettings(
            # Developer (classic, injected) is the seed's choice; no SLA, cheapest VNet tier.
            api_management=ApimSku.DEVELOPER,
            # Seed says Consumption: it cannot join a VNet, so Flex Consumption (FC1).
            functions_plan=FunctionsPlan.FLEX_CONSUMPTION,
            sql_database="Basic",
            # Seed says Basic: Basic has no topics, so Standard.
            service_bus=ServiceBusSku.STANDARD,
            container_registry=AcrSku.BASIC,
            front_door=FrontDoorSku.STANDARD,
            redis="Balanced_B0",
        ),
        database=DatabaseSettings(backup_retention_days=7),
        # Files go at 90 days, before archive's 180-day minimum could pass: never archived.
        etl=EtlSettings(archive_after_days=None, delete_after_days=90, soft_delete_days=7),
    )


def _qa() -> EnvironmentSettings:
    return EnvironmentSettings(
        environment="qa",
        network=_network(3, prod=False),
        security=SecuritySettings(
            enable_private_endpoints=False,
            enable_purge_protection=False,
            soft_delete_retention_days=14,
            waf_mode="Detection",
        ),
        monitoring=MonitoringSettings(
            log_retention_days=30, daily_quota_gb=2, monthly_budget_usd=500
        ),
        features=FeatureFlags(
            enable_api_management=False,
            enable_cdn=False,
            enable_data_factory=False,
            enable_redis=False,
            enable_cosmos_db=False,
        ),
        skus=SkuSettings(
            api_management=ApimSku.DEVELOPER,
            functions_plan=FunctionsPlan.FLEX_CONSUMPTION,
            sql_database="Basic",
            service_bus=ServiceBusSku.STANDARD,
            container_registry=AcrSku.BASIC,
            front_door=FrontDoorSku.STANDARD,
            redis="Balanced_B0",
        ),
        database=DatabaseSettings(backup_retention_days=7),
        etl=EtlSettings(archive_after_days=None, delete_after_days=90, soft_delete_days=7),
    )


def _staging() -> EnvironmentSettings:
    return EnvironmentSettings(
        environment="staging",
        network=_network(1, prod=False),
        security=SecuritySettings(
            enable_private_endpoints=True,
            enable_purge_protection=False,
            soft_delete_retention_days=30,
            waf_mode="Prevention",
            waf_managed_rules=True,
        ),
        monitoring=MonitoringSettings(
            log_retention_days=60, daily_quota_gb=5, monthly_budget_usd=2000
        ),
        features=FeatureFlags(
            enable_api_management=True,
            enable_cdn=True,
            enable_data_factory=False,
            enable_redis=False,
            enable_cosmos_db=False,
        ),
        skus=SkuSettings(
            api_management=ApimSku.DEVELOPER,
            functions_plan=FunctionsPlan.FLEX_CONSUMPTION,
            # Seed says Basic; S1 keeps 14 days of restore, which Basic cannot.
            sql_database="S1",
            # Private endpoints are on: Service Bus and ACR need Premium for them.
            service_bus=ServiceBusSku.PREMIUM,
            container_registry=AcrSku.PREMIUM,
            # Premium like prod: the managed WAF rule sets staging rehearses need it. Its base
            # fee ($330 a month against Standard's $35, offline/prices.py) fits the budget.
            front_door=FrontDoorSku.PREMIUM,
            redis="Balanced_B0",
        ),
        database=DatabaseSettings(backup_retention_days=14, enable_defender=True),
        # The same lifecycle as prod, kept only as long as archive's minimum requires
        # (37 + 180 days); geo-redundant like prod (the archive tier rules out ZRS).
        etl=EtlSettings(delete_after_days=217, soft_delete_days=14, storage_redundancy="GRS"),
    )


def _prod() -> EnvironmentSettings:
    return EnvironmentSettings(
        environment="prod",
        network=_network(2, prod=True),
        security=SecuritySettings(
            enable_private_endpoints=True,
            enable_purge_protection=True,
            soft_delete_retention_days=90,
            waf_mode="Prevention",
            waf_managed_rules=True,
            protect_data=True,
        ),
        monitoring=MonitoringSettings(
            log_retention_days=365,
            daily_quota_gb=None,
            monthly_budget_usd=10000,
            alerts=AlertThresholds(
                gateway_5xx_percent=1.0,
                gateway_latency_ms=1000,
                active_messages_backlog=500,
                function_failures=1,
                container_restarts=1,
                severity=1,
            ),
        ),
        features=FeatureFlags(
            enable_api_management=True,
            enable_cdn=True,
            enable_data_factory=False,
            enable_redis=True,
            enable_cosmos_db=False,
        ),
        skus=SkuSettings(
            # Seed says Standard (classic): it cannot reach internal Container Apps.
            # Standard v2 can, through outbound VNet integration, and deploys in minutes.
            api_management=ApimSku.STANDARD_V2,
            functions_plan=FunctionsPlan.FLEX_CONSUMPTION,
            sql_database="S2",
            service_bus=ServiceBusSku.PREMIUM,
            container_registry=AcrSku.PREMIUM,
            # Managed WAF rule sets and bot protection need Premium.
            front_door=FrontDoorSku.PREMIUM,
            redis="Balanced_B1",
        ),
        database=DatabaseSettings(
            backup_retention_days=35,
            long_term_retention_weeks=52,
            # Restores survive the loss of the region.
            backup_storage_redundancy="Geo",
            enable_defender=True,
        ),
        # Seven years: MiFID II record keeping for order and reference data.
        etl=EtlSettings(delete_after_days=2555, soft_delete_days=30, storage_redundancy="GRS"),
        # Order bursts at market open: room for more instances than the default 40.
        functions=FunctionsSettings(maximum_instance_count=100),
    )


_DEFAULTS = {"dev": _dev, "qa": _qa, "staging": _staging, "prod": _prod}


class DeploymentSettings(_Model):
    """Per-deployment values that only the stack file knows."""

    location: AzureRegion
    owner: Annotated[str, Field(min_length=1, max_length=64)]
    cost_center: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    workload: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,7}$")] = "plat"
    alert_emails: tuple[Email, ...] = ()
    allowed_ip_ranges: tuple[AllowedIpRange, ...] = ()
    custom_domain: DomainName | None = None
    # Microsoft Entra admin of the SQL server (a group, ideally). Unset: the identity that
    # runs `pulumi up` becomes admin, so the pipeline can create the contained users.
    sql_admin_login: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    sql_admin_object_id: Guid | None = None
    # OpenFIGI API key for the workers' third-party sync (a Pulumi secret:
    # `pulumi config set --secret openfigiApiKey ...`). Stored in Key Vault, readable by the
    # workers alone (infra/security/secrets.py); unset, OpenFIGI's keyless rate limit applies.
    openfigi_api_key: Annotated[SecretStr, Field(min_length=1)] | None = None
    # Digest per service, pushed by CI to dev's registry and promoted with `az acr import`
    # (config/images.py); a service without one runs the bootstrap image until it has one.
    images: ImageDigests = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sql_admin_complete(self) -> Self:
        if (self.sql_admin_login is None) != (self.sql_admin_object_id is None):
            raise ValueError(
                "platform:sqlAdminLogin and platform:sqlAdminObjectId go together: set both "
                "(an Entra group's display name and object id) or neither"
            )
        return self

    @property
    def region_code(self) -> str:
        return AZURE_REGIONS[self.location]


class StackSettings(BaseModel):
    """What one stack deploys: its environment's matrix row plus its deployment values."""

    model_config = ConfigDict(frozen=True)

    stack: str
    deployment: DeploymentSettings
    env: EnvironmentSettings

    @property
    def environment(self) -> Environment:
        return self.env.environment


# Keys a stack file may set under the `platform:` namespace.
STACK_KEYS = (
    "environment",
    "overrides",
    *(field.alias or name for name, field in DeploymentSettings.model_fields.items()),
)


def load_stack_settings(stack: str, config: Mapping[str, Any]) -> StackSettings:
    """Build and validate a stack's settings from its config (`platform:<key>` -> value).

    Every problem is reported at once, naming the stack file, the key, the value and what
    is allowed; nothing is deployed when this raises.
    """
    stack_file = f"Pulumi.{stack}.yaml"
    prefix = f"{CONFIG_NAMESPACE}:"
    values = {k[len(prefix) :]: _decode(v) for k, v in config.items() if k.startswith(prefix)}

    unknown = sorted(set(values) - set(STACK_KEYS))
    if unknown:
        raise SettingsError(
            f"{stack_file}: unknown key(s) {', '.join(prefix + k for k in unknown)}; "
            f"allowed: {', '.join(prefix + k for k in sorted(STACK_KEYS))}"
        )

    environment = values.pop("environment", stack)
    if environment not in ENVIRONMENTS:
        raise SettingsError(
            f"{stack_file}: unknown stack {stack!r} (environment {environment!r}); allowed "
            f"stacks: {', '.join(ENVIRONMENTS)}, or set {prefix}environment to one of them"
        )

    overrides = values.pop("overrides", None) or {}
    if not isinstance(overrides, dict):
        raise SettingsError(
            f"{stack_file}: {prefix}overrides = {overrides!r} must be a map of settings"
        )
    if "environment" in overrides:
        raise SettingsError(
            f"{stack_file}: {prefix}overrides.environment cannot be overridden; "
            f"set {prefix}environment instead"
        )

    errors: list[str] = []
    deployment: DeploymentSettings | None = None
    try:
        deployment = DeploymentSettings.model_validate(values)
    except ValidationError as exc:
        errors += _describe(exc, stack_file, prefix, values)

    env: EnvironmentSettings | None = None
    defaults = get_environment_settings(environment).model_dump(by_alias=True, mode="json")
    merged = _deep_merge(defaults, overrides)
    try:
        env = EnvironmentSettings.model_validate(merged)
    except ValidationError as exc:
        errors += _describe(exc, stack_file, f"{prefix}overrides.", merged)

    if deployment is not None and env is not None:
        errors += [f"{stack_file}: {problem}" for problem in _stack_rejections(deployment, env)]
    if errors or deployment is None or env is None:
        raise SettingsError(
            f"invalid configuration for stack {stack!r}:\n  - " + "\n  - ".join(errors)
        )
    return StackSettings(stack=stack, deployment=deployment, env=env)


def _stack_rejections(deployment: DeploymentSettings, env: EnvironmentSettings) -> list[str]:
    """Combinations of the stack file's values and the environment's that Azure would
    accept but leave open."""
    out: list[str] = []
    public = not env.security.enable_private_endpoints
    admits = deployment.allowed_ip_ranges or env.network.enable_nat_gateway
    if env.features.enable_service_bus and public and not admits:
        # Deny with no IP rule is enforced as Allow:
        # https://learn.microsoft.com/azure/service-bus-messaging/service-bus-ip-filtering
        out.append(
            "platform:allowedIpRanges is empty and network.enableNatGateway is false while "
            "Service Bus keeps public access: its firewall would have no IP rule, which Azure "
            "enforces as allow-all; allowed: at least one platform:allowedIpRanges entry, "
            "network.enableNatGateway = true (the egress address), or "
            "security.enablePrivateEndpoints = true"
        )
    return out


def _decode(value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON strings."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(
    exc: ValidationError, stack_file: str, key_prefix: str, given: Mapping[str, Any]
) -> list[str]:
    lines = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "value_error" and not _is_leaf(given, error["loc"]):
            # Cross-field rules name their keys and values in the message itself.
            lines.append(f"{stack_file}: {key_prefix}{message}")
            continue
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(error["loc"][:-1])
            message = f"unknown key; allowed: {', '.join(allowed)}"
        value = json.dumps(error.get("input"), default=str)
        lines.append(f"{stack_file}: {key_prefix}{path} = {value}: {message}")
    return lines


def _allowed_keys(parent: tuple[int | str, ...]) -> list[str]:
    """The camelCase keys a settings object at `parent` accepts."""
    model: Any = EnvironmentSettings
    for part in parent:
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        annotation = fields[str(part)].annotation if str(part) in fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(f.alias or n for n, f in model.model_fields.items())


def _is_leaf(given: Mapping[str, Any], loc: tuple[int | str, ...]) -> bool:
    node: Any = given
    for part in loc:
        in_map = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list | tuple) and isinstance(part, int) and part < len(node)
        if not (in_map or in_list):
            return False
        node = node[part]
    return not isinstance(node, Mapping)


def read_stack_settings(stack: str) -> StackSettings:
    """Settings of the running stack, from the config the Pulumi engine handed the program.

    `pulumi up` passes stack config in PULUMI_CONFIG; the mock engine sets it in-process.
    Reading the whole map (not key by key) is what lets unknown keys be reported.
    """
    from pulumi.runtime import config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return load_stack_settings(stack, values)
