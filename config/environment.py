"""One environment's settings and the combinations Azure would refuse part way through."""

from __future__ import annotations

from typing import Self

from pydantic import model_validator

from config.audit import AuditSettings, audit_rejections
from config.base import Environment, _Model
from config.compute import ContainerAppsSettings, FunctionsSettings
from config.data import MIRRORS_PROD, DatabaseSettings, EtlSettings
from config.frontend import FrontendSettings, StaticWebAppSku
from config.gateway import MAX_UNITS, GatewaySettings
from config.network import NetworkSettings
from config.protection import MonitoringSettings, SecuritySettings
from config.recovery import RecoverySettings
from config.skus import (
    APIM_INJECTED_SKUS,
    APIM_INTEGRATED_SKUS,
    SQL_ZONE_REDUNDANT_SKUS,
    AcrSku,
    ApimSku,
    FeatureFlags,
    FrontDoorSku,
    FunctionsPlan,
    ServiceBusSku,
    SkuSettings,
)


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
    container_apps: ContainerAppsSettings = ContainerAppsSettings()
    gateway: GatewaySettings = GatewaySettings()
    recovery: RecoverySettings = RecoverySettings()
    frontend: FrontendSettings
    audit: AuditSettings

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
        if self.environment in MIRRORS_PROD and self.audit.storage_redundancy == "LRS":
            raise ValueError(
                f"audit.storageRedundancy = LRS in {self.environment}: {self.environment} "
                "mirrors prod, and the audit records would be lost with one datacenter; "
                "allowed: ZRS, GRS, RAGRS, GZRS, RAGZRS"
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
    if features.enable_functions and not features.enable_container_apps:
        out.append(
            "features.enableFunctions = true with features.enableContainerApps = false: the "
            "workers load into products-api and call orders-, payments- and users-api, which "
            "run as Container Apps; allowed: enableContainerApps = true"
        )
    if features.enable_functions and not features.enable_service_bus:
        out.append(
            "features.enableFunctions = true with features.enableServiceBus = false: every "
            "worker is triggered by a Service Bus queue or topic; allowed: enableServiceBus = true"
        )
    return out


def _container_apps_rejections(s: EnvironmentSettings) -> list[str]:
    """Every service reads SQL in Azure, and orders and payments publish to Service Bus
    (services/settings-manifest.json: required_in_azure), so they refuse to start without."""
    features = s.features
    if not features.enable_container_apps:
        return []
    return [
        f"features.enableContainerApps = true with features.{flag} = false: the services "
        f"refuse to start in Azure without {what}; allowed: features.{flag} = true, or "
        "features.enableContainerApps = false"
        for flag, on, what in (
            ("enableSqlDatabase", features.enable_sql_database, "their SQL database"),
            ("enableServiceBus", features.enable_service_bus, "Service Bus (orders, payments)"),
        )
        if not on
    ]


def _gateway_rejections(s: EnvironmentSettings) -> list[str]:
    """API Management tiers and sizes Azure refuses, or that cannot serve this platform."""
    out: list[str] = []
    if not s.features.enable_api_management:
        return out
    sku, units = s.skus.api_management, s.gateway.capacity
    reachable = APIM_INJECTED_SKUS | APIM_INTEGRATED_SKUS
    if sku not in reachable:
        # Consumption has no VNet and no rate-limit-by-key; classic Basic/Standard and Basic v2
        # cannot reach a VNet. https://learn.microsoft.com/azure/api-management/virtual-network-concepts
        out.append(
            f"skus.apiManagement = {sku.value}: this tier cannot reach the internal Container "
            "Apps (no VNet injection or outbound integration) or lacks rate-limit-by-key; "
            "allowed: " + ", ".join(sorted(v.value for v in reachable))
        )
    elif units > MAX_UNITS[sku.value]:
        out.append(
            f"gateway.capacity = {units} with skus.apiManagement = {sku.value}: the tier "
            f"allows at most {MAX_UNITS[sku.value]} unit(s); allowed: 1-{MAX_UNITS[sku.value]}"
        )
    if s.environment == "prod" and sku is ApimSku.DEVELOPER:
        # https://learn.microsoft.com/azure/api-management/api-management-features
        out.append(
            "skus.apiManagement = Developer in prod: Developer has no SLA and a single unit; "
            "allowed: Premium, StandardV2, PremiumV2"
        )
    return out


def _recovery_rejections(s: EnvironmentSettings) -> list[str]:
    """Cross-region copies need the tier that offers them."""
    out: list[str] = []
    r, skus, features = s.recovery, s.skus, s.features
    if r.acr_geo_replication and skus.container_registry is not AcrSku.PREMIUM:
        # https://learn.microsoft.com/azure/container-registry/container-registry-geo-replication
        out.append(
            f"recovery.acrGeoReplication = true with skus.containerRegistry = "
            f"{skus.container_registry.value}: geo-replication needs Premium; allowed: Premium, "
            "or acrGeoReplication = false"
        )
    if r.acr_geo_replication and not features.enable_container_apps:
        out.append(
            "recovery.acrGeoReplication = true with features.enableContainerApps = false: there "
            "is no registry to replicate; allowed: false"
        )
    if r.service_bus_geo_replication and skus.service_bus is not ServiceBusSku.PREMIUM:
        # https://learn.microsoft.com/azure/service-bus-messaging/service-bus-geo-replication
        out.append(
            f"recovery.serviceBusGeoReplication = true with skus.serviceBus = "
            f"{skus.service_bus.value}: geo-replication needs Premium; allowed: Premium, or "
            "serviceBusGeoReplication = false"
        )
    if r.sql_failover_group and not features.enable_sql_database:
        out.append(
            "recovery.sqlFailoverGroup = true with features.enableSqlDatabase = false: there is "
            "no database to replicate; allowed: false"
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
    out += _container_apps_rejections(s)
    out += _gateway_rejections(s)
    out += _recovery_rejections(s)
    out += audit_rejections(s.audit, s.environment)
    if features.enable_cdn and s.frontend.static_web_app_sku is not StaticWebAppSku.STANDARD:
        # https://learn.microsoft.com/azure/static-web-apps/front-door-manual
        out.append(
            f"frontend.staticWebAppSku = {s.frontend.static_web_app_sku.value} with "
            "features.enableCdn = true: only the Standard plan honours forwardingGateway, the "
            "X-Azure-FDID lock that keeps the app reachable through this Front Door alone; "
            f"allowed: {StaticWebAppSku.STANDARD.value}, or features.enableCdn = false"
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
