"""Who may read and manage accounts; an account is owned by the user it describes."""

from __future__ import annotations

from platform_common.authz import PermissionTable, Rule, Scope
from platform_common.identity import Role

ALL, OWN = Scope.ALL, Scope.OWN
R = Role

PERMISSIONS: PermissionTable = {
    # Any identified caller may see what the gateway forwarded about itself.
    "me.read": Rule(everyone=OWN),
    "users.create": Rule({R.ADMIN: ALL}),
    "users.list": Rule({R.RISK_MANAGER: ALL, R.ADMIN: ALL}),
    "users.read": Rule({R.RISK_MANAGER: ALL, R.ADMIN: ALL}, everyone=OWN),
    "users.roles.update": Rule({R.ADMIN: ALL}),
    # Each user reads its own notifications.
    "notifications.list": Rule(everyone=OWN),
    # Recorded by the workers only: the route also pins the caller id to WORKERS_CALLER_ID
    # (the workers present admin); the internal route is not in the gateway's OpenAPI.
    "notifications.record": Rule({R.ADMIN: ALL}),
}
