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
    # An admin sets or resets anyone's password; a user changes their own (current required).
    "users.password.set": Rule({R.ADMIN: ALL}),
    "me.password.change": Rule(everyone=OWN),
    # The gateway asks who a caller is before any identity exists: no caller headers; the
    # route answers only AUTHENTICATE_ALLOWED_CIDRS (the gateway's subnet) instead.
    "credentials.authenticate": Rule(public=True),
    # Each user reads its own notifications.
    "notifications.list": Rule(everyone=OWN),
    # Recorded by the workers only: the route also pins the caller id to WORKERS_CALLER_ID
    # (the workers present admin); the internal route is not in the gateway's OpenAPI.
    "notifications.record": Rule({R.ADMIN: ALL}),
    # Erasure (GDPR Art. 17) is an admin's decision; its record is read by admins.
    "users.erase": Rule({R.ADMIN: ALL}),
    "users.erasure.read": Rule({R.ADMIN: ALL}),
    # The workers finish an erasure once the other services have it, and run the retention
    # purge: admin plus WORKERS_CALLER_ID, as for notifications.record.
    "erasures.apply": Rule({R.ADMIN: ALL}),
    "retention.purge": Rule({R.ADMIN: ALL}),
}
