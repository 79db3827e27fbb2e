"""The few project constants the pack needs, copied so it runs without `config/` or `infra/`.

The pack runs in its own process and virtualenv with cwd `policies/`, where the project's
packages (and pydantic, pulumi-azure-native) are not installed. tests/test_policies_constants.py
asserts that every copy here equals its source, so they cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Environment = Literal["dev", "qa", "staging", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("dev", "qa", "staging", "prod")

# config.settings.AZURE_REGIONS (keys): where this platform may deploy.
ALLOWED_REGIONS: tuple[str, ...] = (
    "westus2",
    "westus3",
    "westus",
    "eastus",
    "eastus2",
    "centralus",
    "northcentralus",
    "southcentralus",
    "westcentralus",
    "canadacentral",
    "canadaeast",
    "westeurope",
    "northeurope",
    "uksouth",
    "ukwest",
    "francecentral",
    "germanywestcentral",
    "swedencentral",
    "switzerlandnorth",
    "norwayeast",
    "italynorth",
    "polandcentral",
)

# infra.core.tags.REQUIRED_TAGS
REQUIRED_TAGS: tuple[str, ...] = ("environment", "project", "owner", "cost-center", "managed-by")

# infra.core.naming.RULES as (abbreviation, min length, max length, charset).
NAMING_RULES: dict[str, tuple[str, int, int, str]] = {
    "resource_group": ("rg", 1, 90, "hyphenated"),
    "virtual_network": ("vnet", 2, 64, "hyphenated"),
    "subnet": ("snet", 1, 80, "hyphenated"),
    "network_security_group": ("nsg", 1, 80, "hyphenated"),
    "nat_gateway": ("ng", 1, 80, "hyphenated"),
    "public_ip": ("pip", 1, 80, "hyphenated"),
    "private_endpoint": ("pep", 2, 64, "hyphenated"),
    "ddos_plan": ("ddos", 1, 80, "hyphenated"),
    "firewall": ("afw", 1, 80, "hyphenated"),
    "firewall_policy": ("afwp", 1, 80, "hyphenated"),
    "route_table": ("rt", 1, 80, "hyphenated"),
    "key_vault": ("kv", 3, 24, "hyphenated"),
    "managed_identity": ("id", 3, 128, "hyphenated"),
    "log_analytics": ("log", 4, 63, "hyphenated"),
    "app_insights": ("appi", 1, 255, "hyphenated"),
    "action_group": ("ag", 1, 260, "hyphenated"),
    "alert": ("alert", 1, 260, "hyphenated"),
    "workbook": ("wb", 1, 260, "hyphenated"),
    "budget": ("budget", 1, 63, "hyphenated"),
    "sql_server": ("sql", 1, 63, "lower-hyphenated"),
    "sql_database": ("sqldb", 1, 128, "hyphenated"),
    "service_bus": ("sbns", 6, 50, "hyphenated"),
    "storage_account": ("st", 3, 24, "lower-alnum"),
    "data_factory": ("adf", 3, 63, "hyphenated"),
    "redis": ("amr", 1, 60, "hyphenated"),
    "cosmos_account": ("cosmos", 3, 44, "lower-hyphenated"),
    "function_app": ("func", 2, 60, "hyphenated"),
    "app_service_plan": ("asp", 1, 60, "hyphenated"),
    "container_registry": ("cr", 5, 50, "lower-alnum"),
    "container_apps_environment": ("cae", 2, 60, "lower-hyphenated"),
    "container_app": ("ca", 2, 32, "lower-hyphenated"),
    "api_management": ("apim", 1, 50, "hyphenated"),
    "front_door": ("afd", 1, 260, "hyphenated"),
    "front_door_endpoint": ("fde", 1, 46, "hyphenated"),
    "waf_policy": ("waf", 1, 128, "lower-alnum"),
    "static_web_app": ("stapp", 1, 40, "hyphenated"),
}

# infra.audit.store: the tag that marks the audit account, and the records' container.
AUDIT_PURPOSE_TAG: tuple[str, str] = ("purpose", "audit-trail")
AUDIT_CONTAINER = "audit-records"
# config.audit.MIFID_RECORD_KEEPING_DAYS: MiFID II's five years of record keeping.
MIFID_RECORD_KEEPING_DAYS = 1825


@dataclass(frozen=True)
class EnvironmentProfile:
    """What config.settings decides per environment that the rules check against."""

    private_endpoints: bool
    purge_protection: bool
    soft_delete_days: int
    log_retention_days: int
    waf_prevention: bool


# config.settings.get_environment_settings(env): security.enablePrivateEndpoints,
# security.enablePurgeProtection, security.softDeleteRetentionDays,
# monitoring.logRetentionDays and security.wafMode == "Prevention".
PROFILES: dict[Environment, EnvironmentProfile] = {
    "dev": EnvironmentProfile(
        private_endpoints=False,
        purge_protection=False,
        soft_delete_days=7,
        log_retention_days=30,
        waf_prevention=False,
    ),
    "qa": EnvironmentProfile(
        private_endpoints=False,
        purge_protection=False,
        soft_delete_days=14,
        log_retention_days=30,
        waf_prevention=False,
    ),
    "staging": EnvironmentProfile(
        private_endpoints=True,
        purge_protection=False,
        soft_delete_days=30,
        log_retention_days=60,
        waf_prevention=True,
    ),
    "prod": EnvironmentProfile(
        private_endpoints=True,
        purge_protection=True,
        soft_delete_days=90,
        log_retention_days=365,
        waf_prevention=True,
    ),
}
