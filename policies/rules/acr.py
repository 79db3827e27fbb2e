"""Container registries: no admin user (its shared password bypasses Entra ID)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core import Finding, ResourceRule, RuleContext, expect

REGISTRY = "azure-native:containerregistry:Registry"


def admin_user_disabled(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Pulls and pushes use identities; Azure's default is false."""
    return expect(
        props,
        "adminUserEnabled",
        [False],
        "the admin user is one shared password with push rights",
        default=False,
    )


RULES = (
    ResourceRule(
        name="acr-admin-user-disabled",
        description="Container registries disable the admin user.",
        resource_types=(REGISTRY,),
        control="CKV_AZURE_137",
        check=admin_user_disabled,
    ),
)
