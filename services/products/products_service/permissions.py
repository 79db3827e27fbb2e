"""Who may read and write instrument reference data."""

from __future__ import annotations

from platform_common.authz import PermissionTable, Rule, Scope
from platform_common.identity import Role

# Reference data has no owner: reads are public (the gateway caches them), writes admin.
PERMISSIONS: PermissionTable = {
    "instruments.search": Rule(public=True),
    "instruments.read": Rule(public=True),
    "instruments.create": Rule({Role.ADMIN: Scope.ALL}),
    "instruments.update": Rule({Role.ADMIN: Scope.ALL}),
    # The third-party sync (workers, presenting admin) over internal ingress only.
    "instruments.enrichment.read": Rule({Role.ADMIN: Scope.ALL}),
    "instruments.enrichment.write": Rule({Role.ADMIN: Scope.ALL}),
    # Batch loads of FIRDS reference data: the workers present admin, and the route also
    # pins the caller id to WORKERS_CALLER_ID; the internal route is not in the OpenAPI.
    "instruments.load": Rule({Role.ADMIN: Scope.ALL}),
    # ETL run records: reported by the workers (admin, caller id pinned like loads) over
    # internal ingress; read by operators (admins) through the gateway.
    "etl_runs.record": Rule({Role.ADMIN: Scope.ALL}),
    "etl_runs.list": Rule({Role.ADMIN: Scope.ALL}),
    "etl_runs.read": Rule({Role.ADMIN: Scope.ALL}),
    # The workers' internal routes (admin, caller id pinned like loads): an erasure from
    # users-api's UserErased event, and the daily retention purge.
    "erasures.apply": Rule({Role.ADMIN: Scope.ALL}),
    "retention.purge": Rule({Role.ADMIN: Scope.ALL}),
}
