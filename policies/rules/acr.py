"""Container registries: no admin user (a shared password outside Entra ID), no anonymous pull."""

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


def anonymous_pull_disabled(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """No unauthenticated pulls (Standard and Premium offer them); Azure's default is false."""
    return expect(
        props,
        "anonymousPullEnabled",
        [False],
        "anyone could download the platform's images",
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
    ResourceRule(
        name="acr-no-anonymous-pull",
        description="Container registries disable anonymous pull.",
        resource_types=(REGISTRY,),
        control="CKV_AZURE_138 / Azure.ACR.AnonymousAccess",
        check=anonymous_pull_disabled,
    ),
)
