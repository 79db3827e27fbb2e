"""Disaster recovery: what survives the primary region's loss, and how fast it comes back.

Seed 000's objectives are RTO < 4 h and RPO < 1 h. `assess` gives, per component, the
mechanism the settings deploy and its recovery time and data-loss figures, each with its
source; `python -m config.recovery prod` prints the table docs/runbook.md embeds.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator

from config.base import AZURE_REGIONS, AzureRegion, _Model

if TYPE_CHECKING:
    from config.environment import EnvironmentSettings

# Azure's region pairs, where both members are regions this platform names (config/base.py).
# https://learn.microsoft.com/azure/reliability/cross-region-replication-azure
PAIRED_REGIONS: dict[str, str] = {
    "westus2": "westcentralus",
    "westcentralus": "westus2",
    "westus3": "eastus",
    "westus": "eastus",
    "eastus": "westus",
    "eastus2": "centralus",
    "centralus": "eastus2",
    "northcentralus": "southcentralus",
    "southcentralus": "northcentralus",
    "canadacentral": "canadaeast",
    "canadaeast": "canadacentral",
    "westeurope": "northeurope",
    "northeurope": "westeurope",
    "uksouth": "ukwest",
    "ukwest": "uksouth",
}
# Service Bus geo-replication's maximum replication lag: 0 (synchronous) or 5 min to 1 day.
# https://learn.microsoft.com/azure/service-bus-messaging/service-bus-geo-replication
SERVICE_BUS_LAG_RANGE = (300, 86_400)


class RecoverySettings(_Model):
    """Cross-region copies of the stateful components, and the objectives they must meet."""

    rto_minutes: Annotated[int, Field(ge=1)] = 240
    rpo_minutes: Annotated[int, Field(ge=1)] = 60
    # Where the copies live; None: the primary region's Azure pair.
    secondary_region: AzureRegion | None = None
    # Azure SQL failover group to a server in the secondary region (geo-replica, one
    # listener name that follows the primary).
    sql_failover_group: bool = False
    # Minutes of outage before Azure fails over on its own (data loss possible); Azure's
    # minimum is 60. https://learn.microsoft.com/azure/azure-sql/database/failover-group-sql-db
    sql_failover_grace_minutes: Annotated[int, Field(ge=60, le=24 * 60)] = 60
    # A registry replica in the secondary region (Premium).
    acr_geo_replication: bool = False
    # Service Bus geo-replication: messages and metadata in a second region (Premium).
    service_bus_geo_replication: bool = False
    service_bus_max_lag_seconds: Annotated[int, Field(ge=0, le=SERVICE_BUS_LAG_RANGE[1])] = 300

    @field_validator("service_bus_max_lag_seconds")
    @classmethod
    def _lag_allowed(cls, value: int) -> int:
        if 0 < value < SERVICE_BUS_LAG_RANGE[0]:
            raise ValueError(
                "Service Bus geo-replication accepts 0 (synchronous) or 300-86400 seconds"
            )
        return value

    @property
    def any_enabled(self) -> bool:
        return (
            self.sql_failover_group or self.acr_geo_replication or self.service_bus_geo_replication
        )


def secondary_region(recovery: RecoverySettings, primary: str) -> str | None:
    """The region the copies go to: the explicit setting, else the primary's pair."""
    return recovery.secondary_region or PAIRED_REGIONS.get(primary)


def region_rejections(recovery: RecoverySettings, primary: str) -> list[str]:
    """A secondary region must exist and differ from the primary when any copy is on."""
    if not recovery.any_enabled:
        return []
    secondary = secondary_region(recovery, primary)
    if secondary is None:
        return [
            f"recovery: no secondary region for platform:location = {primary} (it has no Azure "
            "pair this platform names); allowed: set recovery.secondaryRegion to one of "
            + ", ".join(sorted(r for r in AZURE_REGIONS if r != primary))
        ]
    if secondary == primary:
        return [
            f"recovery.secondaryRegion = {secondary} is the primary region: a copy in the same "
            "region is lost with it; allowed: any other region"
        ]
    return []


Basis = Literal["quoted", "assumption"]


@dataclass(frozen=True)
class ComponentRecovery:
    """How one component comes back after the primary region is lost."""

    component: str
    mechanism: str
    # None: not recoverable from a region loss with these settings (wait for the region).
    rto_minutes: int | None
    rpo_minutes: float | None
    basis: Basis
    source: str


# Minutes to redeploy the stateless tier (Container Apps, Functions, gateway) into the
# secondary region: the first-deploy critical path (offline/critical_path.py, under 20 min for
# prod) plus image pulls and DNS, rounded up. An assumption, not a Microsoft figure.
STATELESS_REDEPLOY_MINUTES = 60

_SQL_BCDR = (
    "https://learn.microsoft.com/azure/azure-sql/database/"
    "business-continuity-high-availability-disaster-recover-hadr-overview"
)
_STORAGE_DR = "https://learn.microsoft.com/azure/storage/common/storage-disaster-recovery-guidance"


def _sql(env: EnvironmentSettings) -> ComponentRecovery:
    r = env.recovery
    if r.sql_failover_group:
        return ComponentRecovery(
            "Azure SQL",
            "failover group to the secondary server; automatic after "
            f"{r.sql_failover_grace_minutes} min, or forced by the operator at once",
            r.sql_failover_grace_minutes,
            5 / 60,  # geo-replication RPO: 5 s
            "quoted",
            _SQL_BCDR,
        )
    if env.database.backup_storage_redundancy == "Geo":
        return ComponentRecovery(
            "Azure SQL",
            "geo-restore of the latest geo-replicated backup to a new server",
            12 * 60,
            60,
            "quoted",
            _SQL_BCDR,
        )
    return ComponentRecovery(
        "Azure SQL",
        f"none across regions (backups are {env.database.backup_storage_redundancy}-redundant)",
        None,
        None,
        "quoted",
        _SQL_BCDR,
    )


def _service_bus(env: EnvironmentSettings) -> ComponentRecovery:
    r = env.recovery
    source = "https://learn.microsoft.com/azure/service-bus-messaging/service-bus-geo-replication"
    if r.service_bus_geo_replication:
        return ComponentRecovery(
            "Service Bus",
            "geo-replication (messages and metadata); the operator promotes the secondary",
            30,
            r.service_bus_max_lag_seconds / 60,
            "assumption",
            source,
        )
    return ComponentRecovery(
        "Service Bus",
        "none: messages in the lost region wait for it (geo-DR pairing would copy metadata only)",
        None,
        None,
        "quoted",
        "https://learn.microsoft.com/azure/service-bus-messaging/service-bus-geo-dr",
    )


def _etl_storage(env: EnvironmentSettings) -> ComponentRecovery:
    redundancy = env.etl.storage_redundancy
    if redundancy in ("GRS", "RAGRS", "GZRS", "RAGZRS"):
        return ComponentRecovery(
            "ETL storage",
            f"{redundancy}: customer-managed account failover to the secondary region",
            60,
            15,
            "quoted",
            _STORAGE_DR,
        )
    return ComponentRecovery(
        "ETL storage",
        f"none across regions ({redundancy})",
        None,
        None,
        "quoted",
        "https://learn.microsoft.com/azure/storage/common/storage-redundancy",
    )


def _registry(env: EnvironmentSettings) -> ComponentRecovery:
    if env.recovery.acr_geo_replication:
        return ComponentRecovery(
            "Container images",
            "ACR geo-replica in the secondary region; the same login server and digests",
            0,
            15,
            "assumption",
            "https://learn.microsoft.com/azure/container-registry/container-registry-geo-replication",
        )
    return ComponentRecovery(
        "Container images",
        "rebuild from git into a new registry (new digests: promotion starts again)",
        60,
        0,
        "assumption",
        "https://learn.microsoft.com/azure/container-registry/container-registry-geo-replication",
    )


def _fixed() -> list[ComponentRecovery]:
    return [
        ComponentRecovery(
            "Key Vault",
            "Microsoft-managed replication to the paired region; read-only until it fails back",
            20,
            0,
            "assumption",
            "https://learn.microsoft.com/azure/key-vault/general/disaster-recovery-guidance",
        ),
        ComponentRecovery(
            "Pulumi state",
            "bootstrap account RA-GZRS: readable in the secondary at once, writable after "
            "account failover",
            60,
            15,
            "quoted",
            _STORAGE_DR,
        ),
        ComponentRecovery(
            "Stateless tier",
            "redeploy with a second stack file (environment prod, the secondary location)",
            STATELESS_REDEPLOY_MINUTES,
            0,
            "assumption",
            "offline/critical_path.py (prod's first deploy)",
        ),
    ]


def assess(env: EnvironmentSettings) -> list[ComponentRecovery]:
    """Every component's recovery from a region loss under these settings."""
    return [_sql(env), _service_bus(env), _etl_storage(env), _registry(env), *_fixed()]


def overall(components: Sequence[ComponentRecovery]) -> tuple[int | None, float | None]:
    """(RTO, RPO) of the platform: data failovers run in parallel, then the stateless tier."""
    if any(c.rto_minutes is None or c.rpo_minutes is None for c in components):
        return None, None
    data = [c for c in components if c.component != "Stateless tier"]
    rto = max(c.rto_minutes or 0 for c in data) + STATELESS_REDEPLOY_MINUTES
    rpo = max(c.rpo_minutes or 0 for c in components)
    return rto, rpo


def shortfalls(env: EnvironmentSettings) -> list[str]:
    """Why these settings miss the objectives (empty: they meet them)."""
    r = env.recovery
    out: list[str] = []
    components = assess(env)
    for c in components:
        if c.rto_minutes is None or c.rpo_minutes is None:
            out.append(f"{c.component}: {c.mechanism}")
        elif c.rto_minutes >= r.rto_minutes or c.rpo_minutes >= r.rpo_minutes:
            out.append(
                f"{c.component}: RTO {c.rto_minutes} min / RPO {c.rpo_minutes:g} min, objectives "
                f"below {r.rto_minutes} / {r.rpo_minutes} min"
            )
    rto, _ = overall(components)
    if rto is not None and rto >= r.rto_minutes:
        out.append(f"platform: RTO {rto} min, objective below {r.rto_minutes} min")
    return out


def render_markdown(env: EnvironmentSettings) -> str:
    """The per-component table, as docs/runbook.md embeds it for prod."""

    def fmt(value: float | None) -> str:
        if value is None:
            return "not recoverable"
        return f"{value * 60:g} s" if 0 < value < 1 else f"{value:g} min"

    rows = [
        "| component | mechanism | RTO | RPO | basis | source |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    components = assess(env)
    for c in components:
        rows.append(
            f"| {c.component} | {c.mechanism} | {fmt(c.rto_minutes)} | {fmt(c.rpo_minutes)} "
            f"| {c.basis} | {c.source} |"
        )
    rto, rpo = overall(components)
    rows.append(
        f"| **platform** | data failovers in parallel, then the stateless tier | {fmt(rto)} "
        f"| {fmt(rpo)} | objectives: RTO < {env.recovery.rto_minutes} min, RPO < "
        f"{env.recovery.rpo_minutes} min | seed 000 |"
    )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    from config.defaults import get_environment_settings

    args = list(sys.argv[1:] if argv is None else argv)
    env = get_environment_settings(args[0] if args else "prod")
    print(render_markdown(env))
    problems = shortfalls(env)
    for problem in problems:
        print(f"misses the objectives: {problem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
