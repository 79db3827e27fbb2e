"""Azure list prices the offline cost estimate uses: one meter a line, each with its source.

Pay-as-you-go list prices in US dollars for the stacks' region (West US 2), compiled on
PRICES_AS_OF. Azure's pricing pages render their figures in the browser, so a figure
could not always be re-read from the stored page; `basis` says where each one comes from:

- "quoted":     the figure is stated on the source page (or on a public page quoting it)
- "assumption": the author's reading of the pricing page, not re-checked on PRICES_AS_OF;
                verify it with the Azure pricing calculator before relying on it

A month is 730 hours, as the Azure pricing calculator counts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PRICES_AS_OF = "2026-12-01"
PRICE_REGION = "westus2"
CURRENCY = "USD"
HOURS_PER_MONTH = 730
DAYS_PER_MONTH = 30.42

Basis = Literal["quoted", "assumption"]

_FIREWALL = "https://azure.microsoft.com/pricing/details/azure-firewall/"
_FIREWALL_MANAGER = "https://azure.microsoft.com/pricing/details/firewall-manager/"
_DDOS = "https://azure.microsoft.com/pricing/details/ddos-protection/"
_IP = "https://azure.microsoft.com/pricing/details/ip-addresses/"
_NAT = "https://azure.microsoft.com/pricing/details/azure-nat-gateway/"
_PRIVATE_LINK = "https://azure.microsoft.com/pricing/details/private-link/"
_DNS = "https://azure.microsoft.com/pricing/details/dns/"
_MONITOR = "https://azure.microsoft.com/pricing/details/monitor/"
_KEY_VAULT = "https://azure.microsoft.com/pricing/details/key-vault/"
_SQL = "https://azure.microsoft.com/pricing/details/azure-sql-database/single/"
_DEFENDER = "https://azure.microsoft.com/pricing/details/defender-for-cloud/"
_SERVICE_BUS = "https://azure.microsoft.com/pricing/details/service-bus/"
_BLOB = "https://azure.microsoft.com/pricing/details/storage/blobs/"
_REDIS = "https://azure.microsoft.com/pricing/details/managed-redis/"
_COSMOS = "https://azure.microsoft.com/pricing/details/cosmos-db/serverless/"
_ADF = "https://azure.microsoft.com/pricing/details/data-factory/data-pipeline/"
_APIM = "https://azure.microsoft.com/pricing/details/api-management/"
_FRONT_DOOR = "https://azure.microsoft.com/pricing/details/frontdoor/"
_ACR = "https://azure.microsoft.com/pricing/details/container-registry/"
_CONTAINER_APPS = "https://azure.microsoft.com/pricing/details/container-apps/"
_FUNCTIONS = "https://azure.microsoft.com/pricing/details/functions/"
_STATIC_WEB_APPS = "https://azure.microsoft.com/pricing/details/app-service/static/"


@dataclass(frozen=True)
class Price:
    """One meter: what a unit costs, per what, and where the figure comes from."""

    usd: float
    unit: str
    source: str
    basis: Basis
    note: str = ""


PRICES: dict[str, Price] = {
    # Networking
    "ddos.network_protection": Price(
        2944.0,
        "plan-month (covers 100 public IPs)",
        _DDOS,
        "quoted",
        "also quoted by https://techcommunity.microsoft.com/blog/azurenetworksecurityblog/"
        "a-practical-guide-to-azure-ddos-protection-cost-optimization/4495199",
    ),
    "firewall.standard": Price(1.25, "deployment-hour", _FIREWALL, "quoted"),
    "firewall.premium": Price(1.75, "deployment-hour", _FIREWALL, "assumption"),
    "firewall.basic": Price(0.395, "deployment-hour", _FIREWALL, "assumption"),
    "firewall.data": Price(0.016, "GB processed", _FIREWALL, "assumption"),
    "firewall_policy": Price(
        0.0,
        "policy-month",
        _FIREWALL_MANAGER,
        "assumption",
        "a policy associated with a single firewall carries no policy charge",
    ),
    "public_ip.standard": Price(0.005, "IP-hour", _IP, "assumption"),
    "nat_gateway": Price(0.045, "gateway-hour", _NAT, "assumption"),
    "nat_gateway.data": Price(0.045, "GB processed", _NAT, "assumption"),
    "private_endpoint": Price(0.01, "endpoint-hour", _PRIVATE_LINK, "assumption"),
    "private_endpoint.data": Price(0.01, "GB in + out", _PRIVATE_LINK, "assumption"),
    "private_dns.zone": Price(0.50, "zone-month (first 25)", _DNS, "assumption"),
    "private_dns.queries": Price(0.40, "million queries", _DNS, "assumption"),
    # Observability
    "log_analytics.ingest": Price(2.30, "GB ingested (Analytics logs)", _MONITOR, "assumption"),
    "log_analytics.retention": Price(
        0.10, "GB-month kept beyond the free 31 days", _MONITOR, "assumption"
    ),
    "monitor.metric_alert": Price(0.10, "monitored time series-month", _MONITOR, "assumption"),
    # Log search alert rules are billed per rule by evaluation frequency.
    "monitor.log_alert.PT5M": Price(
        1.50, "rule-month at 5-minute frequency", _MONITOR, "assumption"
    ),
    "monitor.log_alert.PT10M": Price(
        1.00, "rule-month at 10-minute frequency", _MONITOR, "assumption"
    ),
    "monitor.log_alert.PT15M": Price(
        0.50, "rule-month at 15-minute frequency", _MONITOR, "assumption"
    ),
    # Security
    "key_vault.operations": Price(0.03, "10,000 operations", _KEY_VAULT, "assumption"),
    # Azure SQL Database, DTU model (single database)
    "sql.Basic": Price(4.90, "database-month", _SQL, "assumption"),
    "sql.S0": Price(14.72, "database-month", _SQL, "assumption"),
    "sql.S1": Price(29.43, "database-month", _SQL, "assumption"),
    "sql.S2": Price(73.61, "database-month", _SQL, "assumption"),
    "sql.S3": Price(147.19, "database-month", _SQL, "assumption"),
    "sql.S4": Price(294.38, "database-month", _SQL, "assumption"),
    "sql.P1": Price(465.00, "database-month", _SQL, "assumption"),
    "sql.P2": Price(930.00, "database-month", _SQL, "assumption"),
    "sql.GP_Gen5_2": Price(
        0.5044 * HOURS_PER_MONTH, "database-month", _SQL, "assumption", "2 vCores"
    ),
    "sql.BC_Gen5_2": Price(
        1.3613 * HOURS_PER_MONTH, "database-month", _SQL, "assumption", "2 vCores"
    ),
    "sql.ltr.Local": Price(0.025, "GB-month of long-term backups (LRS)", _SQL, "assumption"),
    "sql.ltr.Zone": Price(0.0313, "GB-month of long-term backups (ZRS)", _SQL, "assumption"),
    "sql.ltr.Geo": Price(0.05, "GB-month of long-term backups (RA-GRS)", _SQL, "assumption"),
    "sql.defender": Price(15.0, "server-month", _DEFENDER, "assumption"),
    # Service Bus
    "servicebus.standard": Price(
        0.0135,
        "namespace-hour (13M operations included)",
        _SERVICE_BUS,
        "quoted",
        "about $10 a month: https://www.markheath.net/post/azure-service-bus-messaging-9",
    ),
    "servicebus.standard.ops": Price(
        0.80, "million operations beyond 13M", _SERVICE_BUS, "assumption"
    ),
    "servicebus.premium": Price(0.9275, "messaging unit-hour", _SERVICE_BUS, "assumption"),
    # Blob storage, general-purpose v2 (per GB-month by access tier and redundancy)
    "blob.hot.LRS": Price(0.0184, "GB-month", _BLOB, "assumption"),
    "blob.cool.LRS": Price(0.0100, "GB-month", _BLOB, "assumption"),
    "blob.archive.LRS": Price(0.00099, "GB-month", _BLOB, "assumption"),
    "blob.hot.ZRS": Price(0.0230, "GB-month", _BLOB, "assumption"),
    "blob.cool.ZRS": Price(0.0125, "GB-month", _BLOB, "assumption"),
    "blob.archive.ZRS": Price(0.00099, "GB-month", _BLOB, "assumption", "archive has no ZRS"),
    "blob.hot.GRS": Price(0.0368, "GB-month", _BLOB, "assumption"),
    "blob.cool.GRS": Price(0.0200, "GB-month", _BLOB, "assumption"),
    "blob.archive.GRS": Price(0.00299, "GB-month", _BLOB, "assumption"),
    "blob.writes": Price(0.065, "10,000 write operations", _BLOB, "assumption"),
    "blob.reads": Price(0.005, "10,000 read operations", _BLOB, "assumption"),
    # Azure Managed Redis, per instance-hour without high availability (HA doubles it)
    "redis.Balanced_B0": Price(0.040, "instance-hour (no HA)", _REDIS, "assumption"),
    "redis.Balanced_B1": Price(0.080, "instance-hour (no HA)", _REDIS, "assumption"),
    "redis.Balanced_B3": Price(0.160, "instance-hour (no HA)", _REDIS, "assumption"),
    "redis.Balanced_B5": Price(0.320, "instance-hour (no HA)", _REDIS, "assumption"),
    "redis.MemoryOptimized_M10": Price(0.200, "instance-hour (no HA)", _REDIS, "assumption"),
    # Cosmos DB serverless
    "cosmos.serverless.ru": Price(0.25, "million request units", _COSMOS, "assumption"),
    "cosmos.storage": Price(0.25, "GB-month", _COSMOS, "assumption"),
    # Data Factory
    "data_factory.orchestration": Price(1.00, "1,000 activity runs (Azure IR)", _ADF, "assumption"),
    # Layers still to come (compute, gateway, frontend): priced here so they cost as they land.
    "apim.Consumption": Price(0.0, "instance-month (calls billed apart)", _APIM, "assumption"),
    "apim.Developer": Price(48.04, "unit-month", _APIM, "assumption"),
    "apim.Basic": Price(147.17, "unit-month", _APIM, "assumption"),
    "apim.Standard": Price(686.72, "unit-month", _APIM, "assumption"),
    "apim.Premium": Price(2795.17, "unit-month", _APIM, "assumption"),
    "apim.BasicV2": Price(150.00, "unit-month", _APIM, "assumption"),
    "apim.StandardV2": Price(700.00, "unit-month", _APIM, "assumption"),
    "apim.PremiumV2": Price(2800.00, "unit-month", _APIM, "assumption"),
    "front_door.Standard_AzureFrontDoor": Price(
        35.0, "profile-month (base fee)", _FRONT_DOOR, "assumption"
    ),
    "front_door.Premium_AzureFrontDoor": Price(
        330.0, "profile-month (base fee)", _FRONT_DOOR, "assumption"
    ),
    "acr.Basic": Price(0.1666, "registry-day", _ACR, "assumption"),
    "acr.Standard": Price(0.6666, "registry-day", _ACR, "assumption"),
    "acr.Premium": Price(1.6666, "registry-day", _ACR, "assumption"),
    "container_apps.vcpu": Price(0.000024, "vCPU-second (active)", _CONTAINER_APPS, "assumption"),
    "container_apps.memory": Price(0.000003, "GiB-second (active)", _CONTAINER_APPS, "assumption"),
    "container_apps.dedicated_management": Price(
        0.10, "environment-hour (dedicated plan)", _CONTAINER_APPS, "assumption"
    ),
    "functions.flex.memory": Price(0.000026, "GB-second (on demand)", _FUNCTIONS, "assumption"),
    "functions.flex.executions": Price(0.40, "million executions", _FUNCTIONS, "assumption"),
    "static_web_app.Standard": Price(9.0, "app-month", _STATIC_WEB_APPS, "assumption"),
    "static_web_app.Free": Price(0.0, "app-month", _STATIC_WEB_APPS, "assumption"),
    # Public Azure DNS (the custom domain's zone, when the frontend layer creates it).
    "dns.zone": Price(0.50, "hosted zone-month (first 25)", _DNS, "assumption"),
    "dns.queries": Price(0.40, "million queries (first billion)", _DNS, "assumption"),
}


def price(meter: str) -> Price:
    """The price of a meter, or a clear error naming the missing meter and the file to add it to."""
    try:
        return PRICES[meter]
    except KeyError:
        raise KeyError(
            f"no price for meter {meter!r}; add it to PRICES in offline/prices.py with its source"
        ) from None
