"""Container Apps: internal ingress unless allow-listed, no plain HTTP, identity-based pulls."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from policies.core import (
    MISSING,
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
from policies.rules.outputs import SECRET_VALUE

CONTAINER_APP = "azure-native:app:ContainerApp"
# Env var names that carry a credential when they hold a literal value (not a secretRef).
SECRET_ENV = re.compile(
    r"(password|passwd|secret|api[_-]?key|access[_-]?key|account[_-]?key|"
    r"connection[_-]?string|sas[_-]?token|private[_-]?key)",
    re.IGNORECASE,
)
HARMLESS_ENV = re.compile(r"^applicationinsights_connection_string$", re.IGNORECASE)
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


def no_inline_secrets(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Secrets are Key Vault references read with the app's identity; env vars hold no keys."""
    findings: list[Finding] = []
    secrets = lookup(props, "configuration.secrets")
    if secrets is UNKNOWN:
        findings.append(unknown("configuration.secrets"))
    for index, secret in enumerate(secrets if isinstance(secrets, list) else []):
        name, vault = lookup(secret, "name"), lookup(secret, "keyVaultUrl")
        value = lookup(secret, "value")
        if vault is UNKNOWN:
            findings.append(unknown(f"configuration.secrets[{index}].keyVaultUrl"))
        elif not (isinstance(vault, str) and vault):
            shown = name if isinstance(name, str) else index
            what = "holds its value inline" if value is not MISSING else "has no keyVaultUrl"
            findings.append(
                violation(
                    f"secret {shown!r} {what}; reference Key Vault (keyVaultUrl + identity) "
                    "so the value never sits in the app's configuration"
                )
            )
    containers = lookup(props, "template.containers")
    if containers is UNKNOWN:
        return [*findings, unknown("template.containers")]
    for container in containers if isinstance(containers, list) else []:
        env = lookup(container, "env")
        for var in env if isinstance(env, list) else []:
            findings += _env_var(var)
    return findings


def _env_var(var: Any) -> list[Finding]:
    name, value = lookup(var, "name"), lookup(var, "value")
    if name is UNKNOWN or var is UNKNOWN:
        literal = isinstance(value, str) and bool(value)
        return [unknown("env var name")] if literal or value is UNKNOWN else []
    if not isinstance(name, str) or not SECRET_ENV.search(name) or HARMLESS_ENV.search(name):
        if isinstance(value, str) and SECRET_VALUE.search(value):
            return [violation(f"env var {name!r} holds a credential; use secretRef")]
        return []
    if value is UNKNOWN:
        return [unknown(f"env var {name}")]
    if isinstance(value, str) and value:
        return [violation(f"env var {name!r} holds a literal secret; use secretRef")]
    return []


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
    ResourceRule(
        name="containerapp-no-inline-secrets",
        description="Container app secrets are Key Vault references and env vars hold no "
        "literal keys or passwords.",
        resource_types=(CONTAINER_APP,),
        control="MCSB IM-8 / DP-6",
        check=no_inline_secrets,
    ),
)
