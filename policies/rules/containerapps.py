"""Container Apps: internal ingress unless allow-listed, no plain HTTP, identity-based pulls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core import (
    UNKNOWN,
    Finding,
    ResourceRule,
    RuleContext,
    expect,
    expect_identity,
    lookup,
    unknown,
    violation,
)

CONTAINER_APP = "azure-native:app:ContainerApp"
ALLOWED_EXTERNAL_OPTION = "allowedExternalApps"


def internal_ingress(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Apps are reached through API Management, never straight from the Internet.

    An app may be allow-listed by the rule option `allowedExternalApps` (Azure names or
    logical names). Unset `external` is Azure's default, false.
    """
    allowed = {str(a) for a in ctx.option(ALLOWED_EXTERNAL_OPTION, [])}
    name = lookup(props, "containerAppName")
    if ctx.name in allowed or (isinstance(name, str) and name in allowed):
        return []
    return expect(
        props,
        "configuration.ingress.external",
        [False],
        f"only API Management is public; allow-list the app in {ALLOWED_EXTERNAL_OPTION} "
        "if it must be external",
        default=False,
    )


def no_insecure_ingress(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Ingress redirects HTTP to HTTPS; Azure's default is false."""
    return expect(
        props,
        "configuration.ingress.allowInsecure",
        [False],
        "plain HTTP exposes requests and tokens",
        default=False,
    )


def identity_registry_pulls(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """A managed identity, and every registry pulled with it (no admin user or password)."""
    findings = expect_identity(props, "images are pulled and services reached as the app itself")
    registries = lookup(props, "configuration.registries")
    if registries is UNKNOWN:
        return [*findings, unknown("configuration.registries")]
    if not isinstance(registries, list):
        return findings
    for index, registry in enumerate(registries):
        path = f"configuration.registries[{index}]"
        if registry is UNKNOWN:
            findings.append(unknown(path))
            continue
        identity = lookup(registry, "identity")
        server = lookup(registry, "server")
        label = f"{path} ({server})" if isinstance(server, str) else path
        if identity is UNKNOWN:
            findings.append(unknown(f"{path}.identity"))
        elif not isinstance(identity, str) or not identity:
            findings.append(
                violation(f"{label} has no identity; pull with a managed identity, not a password")
            )
        secret_ref = lookup(registry, "passwordSecretRef")
        if isinstance(secret_ref, str) and secret_ref:
            findings.append(
                violation(f"{label} uses passwordSecretRef; registry passwords are off")
            )
    return findings


RULES = (
    ResourceRule(
        name="containerapp-internal-ingress",
        description="Container apps have internal ingress unless allow-listed "
        f"(option {ALLOWED_EXTERNAL_OPTION}).",
        resource_types=(CONTAINER_APP,),
        control="MCSB NS-2",
        check=internal_ingress,
        options_schema={
            ALLOWED_EXTERNAL_OPTION: {
                "type": "array",
                "items": {"type": "string"},
                "description": "Container apps (Azure or logical names) allowed external ingress.",
            }
        },
    ),
    ResourceRule(
        name="containerapp-no-insecure-ingress",
        description="Container app ingress does not allow plain HTTP.",
        resource_types=(CONTAINER_APP,),
        control="MCSB DP-3",
        check=no_insecure_ingress,
    ),
    ResourceRule(
        name="containerapp-identity-registry-pull",
        description="Container apps have a managed identity and pull every registry with one.",
        resource_types=(CONTAINER_APP,),
        control="MCSB IM-3",
        check=identity_registry_pulls,
    ),
)
