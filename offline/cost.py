"""Monthly cost estimate of a stack, offline: recorded resources x usage assumptions x list prices.

python -m offline.cost prod                 # per resource, per layer, total against the budget
python -m offline.cost prod --format json

Prices are in offline/prices.py (region, date and a source per meter). What each
environment is assumed to use in a month (log volume, stored data, traffic) is USAGE
below. Every custom resource type is either priced, free (with the reason), or billed
through its parent; a type in none of those is reported as unpriced, never silently zero.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from config.settings import Environment, StackSettings
from offline.engine import ProgramRun, RecordedResource
from offline.prices import (
    CURRENCY,
    DAYS_PER_MONTH,
    HOURS_PER_MONTH,
    PRICE_REGION,
    PRICES,
    PRICES_AS_OF,
    price,
)


@dataclass(frozen=True)
class Usage:
    """What one environment is assumed to use in a month, beyond what its resources fix."""

    log_ingest_gb_per_day: float  # all diagnostics + App Insights, before the daily cap
    etl_blob_gb: dict[str, float]  # ETL account: GB kept per access tier (hot/cool/archive)
    other_blob_gb: float  # any other storage account (hot)
    blob_writes_10k: float  # per storage account
    # The audit account (infra/audit): records kept (hot, WORM) and written, one block blob
    # of about 2 KB per record; writes once, read only when an operator searches.
    audit_blob_gb: float
    audit_writes_10k: float
    blob_reads_10k: float
    key_vault_ops_10k: float
    nat_gb: float
    firewall_gb: float
    private_endpoint_gb: float  # per endpoint, in + out
    dns_queries_million_per_zone: float
    servicebus_ops_million: float
    sql_ltr_gb: float  # long-term backups kept, when a LTR policy exists
    cosmos_ru_million: float
    cosmos_storage_gb: float
    data_factory_runs_k: float
    functions_gb_seconds: float
    functions_executions_million: float


# Dev and qa alike: a few people testing.
_FEW_TESTERS = Usage(
    log_ingest_gb_per_day=0.5,
    etl_blob_gb={"hot": 5, "cool": 0, "archive": 0},
    other_blob_gb=1,
    blob_writes_10k=10,
    audit_blob_gb=1,
    audit_writes_10k=5,
    blob_reads_10k=20,
    key_vault_ops_10k=10,
    nat_gb=5,
    firewall_gb=0,
    private_endpoint_gb=1,
    dns_queries_million_per_zone=0.1,
    servicebus_ops_million=2,
    sql_ltr_gb=0,
    cosmos_ru_million=10,
    cosmos_storage_gb=1,
    data_factory_runs_k=3,
    functions_gb_seconds=100_000,
    functions_executions_million=1,
)

# Dev and qa: a few people testing; staging: load tests a few days a month; prod: seed 000's
# volumes (tens of thousands of orders a day), seven-year ETL archive growing.
USAGE: dict[Environment, Usage] = {
    "dev": _FEW_TESTERS,
    "qa": _FEW_TESTERS,
    "staging": Usage(
        log_ingest_gb_per_day=2,
        etl_blob_gb={"hot": 20, "cool": 40, "archive": 100},
        other_blob_gb=5,
        blob_writes_10k=50,
        audit_blob_gb=2,
        audit_writes_10k=30,
        blob_reads_10k=100,
        key_vault_ops_10k=50,
        nat_gb=20,
        firewall_gb=20,
        private_endpoint_gb=20,
        dns_queries_million_per_zone=1,
        servicebus_ops_million=20,
        sql_ltr_gb=0,
        cosmos_ru_million=50,
        cosmos_storage_gb=5,
        data_factory_runs_k=10,
        functions_gb_seconds=500_000,
        functions_executions_million=5,
    ),
    "prod": Usage(
        log_ingest_gb_per_day=10,
        etl_blob_gb={"hot": 100, "cool": 300, "archive": 3000},
        other_blob_gb=20,
        blob_writes_10k=500,
        # ~100,000 records a day (orders, settlements, reads of others' data) of ~2 KB:
        # 3M writes and 6 GB a month, kept seven years (the first years' figure here).
        audit_blob_gb=75,
        audit_writes_10k=300,
        blob_reads_10k=1000,
        key_vault_ops_10k=300,
        nat_gb=100,
        firewall_gb=200,
        private_endpoint_gb=100,
        dns_queries_million_per_zone=5,
        servicebus_ops_million=200,
        sql_ltr_gb=260,  # 52 weekly copies of a ~5 GB database
        cosmos_ru_million=500,
        cosmos_storage_gb=20,
        data_factory_runs_k=30,
        functions_gb_seconds=4_000_000,
        functions_executions_million=50,
    ),
}


@dataclass(frozen=True)
class LineItem:
    """One meter of one resource for a month."""

    urn: str
    name: str
    type: str
    layer: str
    meter: str
    quantity: float
    unit: str
    unit_usd: float
    monthly_usd: float
    basis: str
    note: str = ""


@dataclass
class CostReport:
    """A stack's estimate: what each resource costs a month, the total, and the budget."""

    stack: str
    environment: Environment
    budget_usd: float
    items: list[LineItem] = field(default_factory=list)
    free: dict[str, str] = field(default_factory=dict)  # type -> why it costs nothing
    unpriced: dict[str, list[str]] = field(default_factory=dict)  # type -> urns

    @property
    def total_usd(self) -> float:
        return round(sum(i.monthly_usd for i in self.items), 2)

    @property
    def over_budget(self) -> bool:
        return self.total_usd > self.budget_usd

    def by_resource(self) -> list[tuple[str, str, str, float]]:
        """(layer, name, type, monthly USD) per priced resource, most expensive first."""
        totals: dict[tuple[str, str, str], float] = {}
        for item in self.items:
            key = (item.layer, item.name, item.type)
            totals[key] = totals.get(key, 0.0) + item.monthly_usd
        rows = [(layer, name, type_, round(usd, 2)) for (layer, name, type_), usd in totals.items()]
        return sorted(rows, key=lambda r: (-r[3], r[1]))

    def by_layer(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for item in self.items:
            totals[item.layer] = totals.get(item.layer, 0.0) + item.monthly_usd
        return {k: round(v, 2) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}

    def dominant(self, count: int = 3) -> list[tuple[str, str, str, float]]:
        return self.by_resource()[:count]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "environment": self.environment,
            "currency": CURRENCY,
            "region": PRICE_REGION,
            "prices_as_of": PRICES_AS_OF,
            "total_usd": self.total_usd,
            "budget_usd": self.budget_usd,
            "over_budget": self.over_budget,
            "by_layer": self.by_layer(),
            "by_resource": [
                {"layer": layer, "name": name, "type": type_, "monthly_usd": usd}
                for layer, name, type_, usd in self.by_resource()
            ],
            "items": [asdict(i) for i in self.items],
            "unpriced": self.unpriced,
            "usage": asdict(USAGE[self.environment]),
        }


@dataclass(frozen=True)
class _Context:
    run: ProgramRun
    usage: Usage


# (meter, quantity, note) for one resource.
Charge = tuple[str, float, str]
Pricer = Callable[[RecordedResource, _Context], list[Charge]]


def _sku_name(resource: RecordedResource) -> str:
    sku = resource.inputs.get("sku") or {}
    return str(sku.get("name", "")) if isinstance(sku, dict) else str(sku)


def _firewall(r: RecordedResource, ctx: _Context) -> list[Charge]:
    tier = str((r.inputs.get("sku") or {}).get("tier", "Standard")).lower()
    return [
        (f"firewall.{tier}", HOURS_PER_MONTH, ""),
        ("firewall.data", ctx.usage.firewall_gb, "assumed traffic"),
    ]


def _workspace(r: RecordedResource, ctx: _Context) -> list[Charge]:
    quota = float((r.inputs.get("workspaceCapping") or {}).get("dailyQuotaGb", -1))
    daily = ctx.usage.log_ingest_gb_per_day
    capped = min(daily, quota) if quota > 0 else daily
    retention = float(r.inputs.get("retentionInDays", 30))
    note = f"{capped:g} GB/day" + (" (daily cap)" if capped < daily else "")
    return [
        ("log_analytics.ingest", capped * DAYS_PER_MONTH, note),
        (
            "log_analytics.retention",
            capped * max(0.0, retention - 31),
            f"steady state of {retention:g} days kept",
        ),
    ]


def _log_alert(r: RecordedResource, ctx: _Context) -> list[Charge]:
    frequency = str(r.inputs.get("evaluationFrequency"))
    if f"monitor.log_alert.{frequency}" not in PRICES:
        raise _UnpricedError(f"log alert evaluated every {frequency}")
    return [(f"monitor.log_alert.{frequency}", 1, "one rule")]


def _metric_alert(r: RecordedResource, ctx: _Context) -> list[Charge]:
    criteria = (r.inputs.get("criteria") or {}).get("allOf") or [None]
    return [("monitor.metric_alert", len(criteria), "one time series per criterion")]


def _sql_database(r: RecordedResource, ctx: _Context) -> list[Charge]:
    return [(f"sql.{_sku_name(r)}", 1, "")]


def _sql_failover_group(r: RecordedResource, ctx: _Context) -> list[Charge]:
    """Each database in the group has a geo-secondary on the partner, billed like the primary.

    https://learn.microsoft.com/azure/azure-sql/database/failover-group-sql-db
    """
    ids = set(r.inputs.get("databases") or [])
    databases = [
        d
        for d in ctx.run.resources.values()
        if d.type == "azure-native:sql:Database" and d.id in ids
    ]
    if len(databases) != len(ids):
        raise _UnpricedError("a failover group database the run did not record")
    return [(f"sql.{_sku_name(d)}", 1, f"geo-secondary of {d.name}") for d in databases]


def _sql_ltr(r: RecordedResource, ctx: _Context) -> list[Charge]:
    database = ctx.run.resources.get(r.parent or "")
    redundancy = (
        str(database.inputs.get("requestedBackupStorageRedundancy", "Geo")) if database else "Geo"
    )
    return [(f"sql.ltr.{redundancy}", ctx.usage.sql_ltr_gb, "assumed backups kept")]


def _sql_defender(r: RecordedResource, ctx: _Context) -> list[Charge]:
    return [("sql.defender", 1, "")] if r.inputs.get("state") == "Enabled" else []


def _service_bus(r: RecordedResource, ctx: _Context) -> list[Charge]:
    sku = r.inputs.get("sku") or {}
    name = str(sku.get("name"))
    if name == "Premium":
        units = float(sku.get("capacity", 1))
        # Geo-replication bills every replica's messaging units, the secondary's included.
        # https://learn.microsoft.com/azure/service-bus-messaging/service-bus-geo-replication
        replicas = len((r.inputs.get("geoDataReplication") or {}).get("locations") or []) or 1
        return [
            (
                "servicebus.premium",
                units * replicas * HOURS_PER_MONTH,
                f"{units:g} messaging unit(s)"
                + (f" x {replicas} replicas" if replicas > 1 else ""),
            )
        ]
    if name == "Standard":
        extra = max(0.0, ctx.usage.servicebus_ops_million - 13)
        return [
            ("servicebus.standard", HOURS_PER_MONTH, ""),
            ("servicebus.standard.ops", extra, "assumed operations beyond 13M"),
        ]
    raise _UnpricedError(f"Service Bus sku {name!r}")


_REDUNDANCY = {"LRS": "LRS", "ZRS": "ZRS", "GRS": "GRS", "RAGRS": "GRS", "GZRS": "GRS"}


def _storage(r: RecordedResource, ctx: _Context) -> list[Charge]:
    match = re.fullmatch(r"(Standard|Premium)_([A-Z]+)", _sku_name(r))
    redundancy = _REDUNDANCY.get(match.group(2), "GRS") if match else "LRS"
    usage = ctx.usage
    if r.name.startswith("audit-"):
        # Audit records stay hot (the account has no lifecycle rule: infra/audit/store.py),
        # are written once and read only by an operator's search.
        return [
            (f"blob.hot.{redundancy}", usage.audit_blob_gb, "assumed records kept"),
            ("blob.writes", usage.audit_writes_10k, "assumed: one write per record"),
        ]
    tiers = usage.etl_blob_gb if r.name.startswith("etl-") else {"hot": usage.other_blob_gb}
    charges: list[Charge] = [
        (f"blob.{tier}.{redundancy}", gb, "assumed data kept") for tier, gb in tiers.items() if gb
    ]
    charges += [
        ("blob.writes", usage.blob_writes_10k, "assumed"),
        ("blob.reads", usage.blob_reads_10k, "assumed"),
    ]
    return charges


def _redis(r: RecordedResource, ctx: _Context) -> list[Charge]:
    ha = r.inputs.get("highAvailability", "Enabled") != "Disabled"
    hours = HOURS_PER_MONTH * (2 if ha else 1)
    return [(f"redis.{_sku_name(r)}", hours, "high availability: two nodes" if ha else "")]


def _cosmos(r: RecordedResource, ctx: _Context) -> list[Charge]:
    capabilities = [c.get("name") for c in r.inputs.get("capabilities") or []]
    if "EnableServerless" not in capabilities:
        raise _UnpricedError("Cosmos DB provisioned throughput")
    return [
        ("cosmos.serverless.ru", ctx.usage.cosmos_ru_million, "assumed"),
        ("cosmos.storage", ctx.usage.cosmos_storage_gb, "assumed"),
    ]


def _apim(r: RecordedResource, ctx: _Context) -> list[Charge]:
    sku = r.inputs.get("sku") or {}
    units = float(sku.get("capacity", 1))
    return [(f"apim.{sku.get('name')}", units, f"{units:g} unit(s)")]


def _container_app(r: RecordedResource, ctx: _Context) -> list[Charge]:
    template = r.inputs.get("template") or {}
    replicas = max(1.0, float((template.get("scale") or {}).get("minReplicas", 0)))
    cpu = memory = 0.0
    for container in template.get("containers") or []:
        resources = container.get("resources") or {}
        cpu += float(resources.get("cpu", 0.5))
        memory += float(str(resources.get("memory", "1Gi")).removesuffix("Gi"))
    seconds = HOURS_PER_MONTH * 3600 * replicas
    note = f"{replicas:g} replica(s) assumed active all month"
    return [
        ("container_apps.vcpu", cpu * seconds, note),
        ("container_apps.memory", memory * seconds, note),
    ]


def _managed_environment(r: RecordedResource, ctx: _Context) -> list[Charge]:
    profiles = r.inputs.get("workloadProfiles") or []
    dedicated = [p for p in profiles if p.get("workloadProfileType") != "Consumption"]
    if not dedicated:
        return []
    raise _UnpricedError("Container Apps dedicated workload profiles")


def _app_service_plan(r: RecordedResource, ctx: _Context) -> list[Charge]:
    if _sku_name(r) != "FC1":
        raise _UnpricedError(f"App Service plan sku {_sku_name(r)!r}")
    return [
        ("functions.flex.memory", ctx.usage.functions_gb_seconds, "assumed"),
        ("functions.flex.executions", ctx.usage.functions_executions_million, "assumed"),
    ]


def _hourly(meter: str) -> Pricer:
    return lambda r, ctx: [(meter, HOURS_PER_MONTH, "")]


def _monthly(meter: str) -> Pricer:
    return lambda r, ctx: [(meter, 1, "")]


PRICERS: dict[str, Pricer] = {
    "azure-native:network:DdosProtectionPlan": _monthly("ddos.network_protection"),
    "azure-native:network:AzureFirewall": _firewall,
    "azure-native:network:FirewallPolicy": _monthly("firewall_policy"),
    "azure-native:network:PublicIPAddress": _hourly("public_ip.standard"),
    "azure-native:network:NatGateway": lambda r, ctx: [
        ("nat_gateway", HOURS_PER_MONTH, ""),
        ("nat_gateway.data", ctx.usage.nat_gb, "assumed traffic"),
    ],
    "azure-native:network:PrivateEndpoint": lambda r, ctx: [
        ("private_endpoint", HOURS_PER_MONTH, ""),
        ("private_endpoint.data", ctx.usage.private_endpoint_gb, "assumed traffic"),
    ],
    "azure-native:privatedns:PrivateZone": lambda r, ctx: [
        ("private_dns.zone", 1, ""),
        ("private_dns.queries", ctx.usage.dns_queries_million_per_zone, "assumed"),
    ],
    "azure-native:operationalinsights:Workspace": _workspace,
    "azure-native:monitor:MetricAlert": _metric_alert,
    "azure-native:monitor:ScheduledQueryRule": _log_alert,
    "azure-native:keyvault:Vault": lambda r, ctx: [
        ("key_vault.operations", ctx.usage.key_vault_ops_10k, "assumed")
    ],
    "azure-native:sql:Database": _sql_database,
    "azure-native:sql:FailoverGroup": _sql_failover_group,
    "azure-native:sql:LongTermRetentionPolicy": _sql_ltr,
    "azure-native:sql:ServerSecurityAlertPolicy": _sql_defender,
    "azure-native:servicebus:Namespace": _service_bus,
    "azure-native:storage:StorageAccount": _storage,
    "azure-native:redisenterprise:RedisEnterprise": _redis,
    "azure-native:cosmosdb:DatabaseAccount": _cosmos,
    "azure-native:datafactory:Factory": lambda r, ctx: [
        ("data_factory.orchestration", ctx.usage.data_factory_runs_k, "assumed runs")
    ],
    "azure-native:apimanagement:ApiManagementService": _apim,
    "azure-native:cdn:Profile": lambda r, ctx: [(f"front_door.{_sku_name(r)}", 1, "base fee")],
    "azure-native:containerregistry:Registry": lambda r, ctx: [
        (f"acr.{_sku_name(r)}", DAYS_PER_MONTH, "")
    ],
    # Each geo-replica is billed at the Premium registry's daily rate.
    # https://azure.microsoft.com/pricing/details/container-registry/
    "azure-native:containerregistry:Replication": lambda r, ctx: [
        ("acr.Premium", DAYS_PER_MONTH, f"geo-replica in {r.inputs.get('location')}")
    ],
    "azure-native:app:ContainerApp": _container_app,
    "azure-native:app:ManagedEnvironment": _managed_environment,
    "azure-native:web:AppServicePlan": _app_service_plan,
    "azure-native:web:StaticSite": lambda r, ctx: [(f"static_web_app.{_sku_name(r)}", 1, "")],
    "azure-native:dns:Zone": lambda r, ctx: [
        ("dns.zone", 1, ""),
        ("dns.queries", ctx.usage.dns_queries_million_per_zone, "assumed"),
    ],
}

# Types that cost nothing themselves, and why.
FREE: dict[str, str] = {
    "azure-native:resources:ResourceGroup": "no charge",
    "random:index/randomString:RandomString": "state only",
    "azure-native:network:VirtualNetwork": "no charge for the network itself",
    "azure-native:network:Subnet": "no charge",
    "azure-native:network:NetworkSecurityGroup": "no charge",
    "azure-native:network:RouteTable": "no charge",
    "azure-native:network:PrivateDnsZoneGroup": "part of the private endpoint",
    "azure-native:network:FirewallPolicyRuleCollectionGroup": "part of the firewall policy",
    "azure-native:privatedns:VirtualNetworkLink": "billed with the private DNS zone",
    "azure-native:privatedns:PrivateRecordSet": "billed with the private DNS zone",
    "azure-native:monitor:DiagnosticSetting": "ingestion billed at the Log Analytics workspace",
    "azure-native:monitor:ActionGroup": "e-mail notifications: first 1,000 a month free",
    "azure-native:applicationinsights:Component": "workspace-based: billed as workspace ingestion",
    "azure-native:applicationinsights:Workbook": "no charge",
    "azure-native:consumption:Budget": "no charge",
    "azure-native:frontdoor:Policy": "WAF policy billed with the Front Door profile",
    "azure-native:dns:RecordSet": "billed with its DNS zone",
    "azure-native:resources:Resource:Microsoft.Sql/servers/connectionPolicies": (
        "a setting of the SQL server"
    ),
}

# Modules whose other types are sub-resources billed through their parent service.
BILLED_THROUGH_PARENT = frozenset(
    {
        "authorization",  # role assignments and locks: no charge
        "managedidentity",  # identities: no charge
        "apimanagement",
        "app",
        "cdn",
        "cosmosdb",
        "datafactory",
        "keyvault",
        "redisenterprise",
        "servicebus",
        "sql",
        "storage",
        "web",
    }
)


class _UnpricedError(Exception):
    """A resource whose configuration the price table has no meter for."""


def estimate(run: ProgramRun, settings: StackSettings) -> CostReport:
    """The stack's monthly estimate, per resource, from its recorded inputs."""
    environment = settings.environment
    ctx = _Context(run=run, usage=USAGE[environment])
    report = CostReport(
        stack=run.stack,
        environment=environment,
        budget_usd=float(settings.env.monitoring.monthly_budget_usd),
    )
    for resource in sorted(run.resources.values(), key=lambda r: r.urn):
        if not resource.custom:
            continue
        pricer = PRICERS.get(resource.kind)
        if pricer is None:
            if resource.kind in FREE:
                report.free[resource.kind] = FREE[resource.kind]
            elif _module(resource.type) in BILLED_THROUGH_PARENT:
                report.free[resource.type] = "billed through its parent resource"
            else:
                report.unpriced.setdefault(resource.kind, []).append(resource.urn)
            continue
        try:
            charges = pricer(resource, ctx)
        except _UnpricedError as exc:
            report.unpriced.setdefault(f"{resource.type} ({exc})", []).append(resource.urn)
            continue
        for meter, quantity, note in charges:
            try:
                unit = price(meter)
            except KeyError:
                report.unpriced.setdefault(f"{resource.type} (no meter {meter})", []).append(
                    resource.urn
                )
                continue
            report.items.append(
                LineItem(
                    urn=resource.urn,
                    name=resource.name,
                    type=resource.type,
                    layer=run.layer_of(resource),
                    meter=meter,
                    quantity=round(quantity, 4),
                    unit=unit.unit,
                    unit_usd=unit.usd,
                    monthly_usd=round(quantity * unit.usd, 2),
                    basis=unit.basis,
                    note="; ".join(n for n in (note, unit.note) if n),
                )
            )
    return report


def _module(type_token: str) -> str:
    parts = type_token.split(":")
    return parts[1] if len(parts) == 3 else ""


def render_text(report: CostReport) -> str:
    """A person's view: total against budget, per layer, per resource, the assumptions."""
    verdict = "OVER BUDGET" if report.over_budget else "within budget"
    lines = [
        f"Monthly cost estimate ({report.stack}): ${report.total_usd:,.2f} of a "
        f"${report.budget_usd:,.0f} budget, {verdict} "
        f"({CURRENCY}, {PRICE_REGION} list prices as of {PRICES_AS_OF}, offline/prices.py)",
    ]
    if report.over_budget:
        top = ", ".join(f"{name} ${usd:,.0f}" for _, name, _, usd in report.dominant())
        lines.append(f"  dominated by: {top}")
    lines += ["", "  By layer:"]
    lines += [f"    {layer:<16} ${usd:>10,.2f}" for layer, usd in report.by_layer().items()]
    lines += ["", "  By resource:"]
    for layer, name, type_, usd in report.by_resource():
        lines.append(f"    ${usd:>10,.2f}  {name}  ({type_.split(':')[-1]}, {layer})")
    if report.unpriced:
        lines += ["", "  NOT PRICED (add a meter to offline/prices.py and a pricer to cost.py):"]
        lines += [f"    {t}: {len(urns)}" for t, urns in sorted(report.unpriced.items())]
    assumed = sorted({i.meter for i in report.items if i.basis == "assumption"})
    lines += [
        "",
        f"  Usage assumed for {report.environment}: see USAGE in offline/cost.py; "
        f"{len(assumed)} of the meters used are marked 'assumption' in offline/prices.py.",
    ]
    return "\n".join(lines)


def render_markdown(report: CostReport) -> str:
    verdict = "**over budget**" if report.over_budget else "within budget"
    lines = [
        f"**${report.total_usd:,.2f}** a month of a ${report.budget_usd:,.0f} budget, {verdict} "
        f"({CURRENCY}, {PRICE_REGION} list prices as of {PRICES_AS_OF}).",
        "",
        "| resource | type | layer | USD/month |",
        "|---|---|---|---:|",
    ]
    lines += [
        f"| {name} | `{type_}` | {layer} | {usd:,.2f} |"
        for layer, name, type_, usd in report.by_resource()
    ]
    if report.unpriced:
        lines += ["", "Not priced: " + ", ".join(f"`{t}`" for t in sorted(report.unpriced))]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from config.settings import SettingsError, load_stack_settings
    from offline.engine import run_program

    parser = argparse.ArgumentParser(prog="python -m offline.cost", description=__doc__)
    parser.add_argument("stack", help="stack name: dev, qa, staging or prod")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    args = parser.parse_args(argv)
    run = run_program(args.stack)
    if run.error:
        print(f"ERROR: the program stopped: {run.error}", file=sys.stderr)
        return 1
    try:
        settings = load_stack_settings(args.stack, run.config)
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    report = estimate(run, settings)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    elif args.format == "markdown":
        print(render_markdown(report))
    else:
        print(render_text(report))
    return 1 if report.unpriced else 0


if __name__ == "__main__":
    sys.exit(main())
