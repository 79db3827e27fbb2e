"""Who may do what to settlements; reads are scoped to the owner like orders' reads."""

from __future__ import annotations

from platform_common.authz import PermissionTable, Rule, Scope
from platform_common.identity import Role

ALL, OWN = Scope.ALL, Scope.OWN
R = Role

# A settlement belongs to the trader whose order it settles. The back office (risk
# managers, admins) instructs and completes settlements; traders read their own.
PERMISSIONS: PermissionTable = {
    "settlements.create": Rule({R.RISK_MANAGER: ALL, R.ADMIN: ALL}),
    "settlements.list": Rule({R.TRADER: OWN, R.VIEWER: ALL, R.RISK_MANAGER: ALL, R.ADMIN: ALL}),
    "settlements.read": Rule({R.TRADER: OWN, R.VIEWER: ALL, R.RISK_MANAGER: ALL, R.ADMIN: ALL}),
    "settlements.settle": Rule({R.RISK_MANAGER: ALL, R.ADMIN: ALL}),
    "settlements.fail": Rule({R.RISK_MANAGER: ALL, R.ADMIN: ALL}),
    # The workers' internal routes (admin plus WORKERS_CALLER_ID, pinned by the route):
    # an erasure from users-api's UserErased event, and the daily retention purge.
    "erasures.apply": Rule({R.ADMIN: ALL}),
    "retention.purge": Rule({R.ADMIN: ALL}),
}
