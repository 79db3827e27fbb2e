"""Who may do what to orders: the one table the routes and their ownership scoping read."""

from __future__ import annotations

from platform_common.authz import PermissionTable, Rule, Scope
from platform_common.identity import Role

ALL, OWN = Scope.ALL, Scope.OWN
R = Role

# Traders act on their own orders; the desk (risk managers, admins) acts on any order;
# viewers read every order and change none; accept/fill are the worker's and venue's.
PERMISSIONS: PermissionTable = {
    "orders.create": Rule({R.TRADER: OWN}),
    "orders.list": Rule({R.TRADER: OWN, R.VIEWER: ALL, R.RISK_MANAGER: ALL, R.ADMIN: ALL}),
    "orders.read": Rule({R.TRADER: OWN, R.VIEWER: ALL, R.RISK_MANAGER: ALL, R.ADMIN: ALL}),
    "orders.fills.list": Rule({R.TRADER: OWN, R.VIEWER: ALL, R.RISK_MANAGER: ALL, R.ADMIN: ALL}),
    "orders.amend": Rule({R.TRADER: OWN, R.ADMIN: ALL}),
    "orders.cancel": Rule({R.TRADER: OWN, R.RISK_MANAGER: ALL, R.ADMIN: ALL}),
    "orders.accept": Rule({R.ADMIN: ALL}),
    "orders.reject": Rule({R.RISK_MANAGER: ALL, R.ADMIN: ALL}),
    "orders.fill": Rule({R.ADMIN: ALL}),
    # The workers' internal routes (admin plus WORKERS_CALLER_ID, pinned by the route):
    # an erasure from users-api's UserErased event, and the daily retention purge.
    "erasures.apply": Rule({R.ADMIN: ALL}),
    "retention.purge": Rule({R.ADMIN: ALL}),
}
