"""Seed 003's four environments: change an environment's setting here, in one place."""

from __future__ import annotations

from config.audit import MIFID_EXTENDED_RECORD_KEEPING_DAYS, AuditSettings
from config.base import ENVIRONMENTS, SettingsError
from config.compute import ContainerAppsSettings, FunctionsSettings, ServiceCompute
from config.data import DatabaseSettings, EtlSettings
from config.environment import EnvironmentSettings
from config.frontend import FrontendSettings, StaticWebAppSku
from config.gateway import GatewaySettings, ProductLimits
from config.images import SERVICE_NAMES
from config.network import NetworkSettings, SubnetName
from config.protection import AlertThresholds, MonitoringSettings, SecuritySettings
from config.recovery import RecoverySettings
from config.skus import (
    AcrSku,
    ApimSku,
    FeatureFlags,
    FrontDoorSku,
    FunctionsPlan,
    ServiceBusSku,
    SkuSettings,
)


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


def _container_apps(
    *, min_replicas: int, max_replicas: int, zone_redundant: bool = False
) -> ContainerAppsSettings:
    """Every service the same size; environments differ in replica range and zones."""
    compute = ServiceCompute(
        cpu=0.5, memory_gi=1.0, min_replicas=min_replicas, max_replicas=max_replicas
    )
    return ContainerAppsSettings(
        zone_redundant=zone_redundant,
        services={service: compute for service in SERVICE_NAMES},
    )


def _audit(
    days: int, *, personal_data_days: int, locked: bool = False, redundancy: str = "LRS"
) -> AuditSettings:
    """Every service keeps personal data the same days, except where prod keeps records."""
    return AuditSettings.model_validate(
        {
            "retention_days": days,
            "policy_locked": locked,
            "storage_redundancy": redundancy,
            "personal_data_retention_days": dict.fromkeys(SERVICE_NAMES, personal_data_days),
        }
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
        # Scale to zero between uses: the HTTP rule starts a replica on the first request.
        container_apps=_container_apps(min_replicas=0, max_replicas=3),
        # No Front Door here: the Free plan serves the SPA from its own edge.
        frontend=FrontendSettings(static_web_app_sku=StaticWebAppSku.FREE),
        # A few days, unlocked: test records expire soon. The account can be torn down only
        # once every version is deleted and soft-deleted ones purged (docs/runbook.md).
        audit=_audit(3, personal_data_days=7),
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
        container_apps=_container_apps(min_replicas=0, max_replicas=3),
        # No Front Door here: the Free plan serves the SPA from its own edge.
        frontend=FrontendSettings(static_web_app_sku=StaticWebAppSku.FREE),
        audit=_audit(7, personal_data_days=14),
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
        # Always warm, as prod is, so roll-outs and probes are rehearsed on running replicas.
        container_apps=_container_apps(min_replicas=1, max_replicas=5),
        # Standard: Front Door's X-Azure-FDID lock (forwardingGateway) needs it.
        frontend=FrontendSettings(static_web_app_sku=StaticWebAppSku.STANDARD),
        # A month, unlocked: rehearses prod's store (geo-redundant) without keeping test
        # records for years.
        audit=_audit(30, personal_data_days=30, redundancy="GRS"),
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
        # Standard: Front Door's X-Azure-FDID lock (forwardingGateway) needs it.
        frontend=FrontendSettings(static_web_app_sku=StaticWebAppSku.STANDARD),
        # Order bursts at market open: room for more instances than the default 40.
        functions=FunctionsSettings(maximum_instance_count=100),
        # Three replicas, one per availability zone, survive the loss of a zone.
        container_apps=_container_apps(min_replicas=3, max_replicas=10, zone_redundant=True),
        # Real clients: higher limits, and a deactivated user is refused within 30 seconds.
        gateway=GatewaySettings(
            reference_data=ProductLimits(rate_limit_calls=600, quota_calls=1_000_000),
            trading=ProductLimits(rate_limit_calls=300, quota_calls=200_000),
            verdict_cache_seconds=30,
        ),
        # Seed 000: RTO < 4 h, RPO < 1 h. Geo-restore alone takes ~12 h (config/recovery.py),
        # so every stateful component keeps a live copy in the paired region.
        recovery=RecoverySettings(
            sql_failover_group=True,
            acr_geo_replication=True,
            service_bus_geo_replication=True,
        ),
        # MiFID II: seven years (the five-year minimum, extended as authorities may ask),
        # locked; orders and payments keep whose records they are as long as the records.
        audit=AuditSettings(
            retention_days=MIFID_EXTENDED_RECORD_KEEPING_DAYS,
            policy_locked=True,
            storage_redundancy="GRS",
            personal_data_retention_days={
                "users": 365,
                "products": 90,
                "orders": MIFID_EXTENDED_RECORD_KEEPING_DAYS,
                "payments": MIFID_EXTENDED_RECORD_KEEPING_DAYS,
            },
        ),
    )


_DEFAULTS = {"dev": _dev, "qa": _qa, "staging": _staging, "prod": _prod}
