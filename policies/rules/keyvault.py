"""Key Vault: RBAC, recoverability fixed per environment, private access where required."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core import (
    MISSING,
    UNKNOWN,
    Finding,
    ResourceRule,
    RuleContext,
    as_number,
    expect,
    expect_present,
    lookup,
    unknown,
    violation,
)

VAULT = "azure-native:keyvault:Vault"
SECRET = "azure-native:keyvault:Secret"  # noqa: S105 - a type token
KEY = "azure-native:keyvault:Key"


def rbac_authorization(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Azure RBAC instead of access policies: one permission model, auditable, least privilege."""
    return expect(
        props,
        "properties.enableRbacAuthorization",
        [True],
        "access policies grant vault-wide rights outside Azure RBAC",
    )


def soft_delete_retention(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Soft delete on, with the environment's retention: it is fixed when the vault is created."""
    days = ctx.profile.soft_delete_days
    findings = expect(
        props,
        "properties.enableSoftDelete",
        [True],
        "deleted secrets must stay recoverable",
        default=True,
    )
    value = lookup(props, "properties.softDeleteRetentionInDays")
    if value is UNKNOWN:
        findings.append(unknown("properties.softDeleteRetentionInDays"))
    elif as_number(value) != days:
        shown = "is not set" if as_number(value) is None else f"= {as_number(value)}"
        findings.append(
            violation(
                f"properties.softDeleteRetentionInDays {shown}; {ctx.environment} keeps deleted "
                f"vault objects {days} days, and the value cannot change after creation"
            )
        )
    return findings


def purge_protection(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Purge protection where the environment requires it (prod): it can never be turned off."""
    if not ctx.profile.purge_protection:
        return []
    return expect(
        props,
        "properties.enablePurgeProtection",
        [True],
        f"{ctx.environment} secrets must survive a malicious or mistaken purge",
    )


def private_access(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """No public endpoint where the environment reaches the vault through a private endpoint."""
    if not ctx.profile.private_endpoints:
        return []
    return expect(
        props,
        "properties.publicNetworkAccess",
        ["Disabled"],
        f"{ctx.environment} reaches the vault through its private endpoint only",
    )


def expiry(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Secrets and keys carry an expiry date, so a forgotten credential stops working."""
    value = lookup(props, "properties.attributes.expires")
    if value is UNKNOWN:
        return [unknown("properties.attributes.expires")]
    if as_number(value) is None:
        shown = "is not set" if value is MISSING else f"= {value!r}"
        return [
            violation(
                f"properties.attributes.expires {shown}; set an expiry (seconds since 1970) "
                "and rotate before it"
            )
        ]
    return []


def secret_content_type(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    return expect_present(
        props,
        "properties.contentType",
        "say what the secret is (e.g. text/plain, application/x-pkcs12) so it is handled right",
    )


def key_rotation(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Keys rotate automatically: a rotation policy with a Rotate lifetime action."""
    actions = lookup(props, "properties.rotationPolicy.lifetimeActions")
    if actions is UNKNOWN:
        return [unknown("properties.rotationPolicy.lifetimeActions")]
    kinds = [lookup(a, "action.type") for a in actions] if isinstance(actions, list) else []
    if any(isinstance(k, str) and k.lower() == "rotate" for k in kinds):
        return []
    if UNKNOWN in kinds:
        return [unknown("properties.rotationPolicy.lifetimeActions[].action.type")]
    return [
        violation(
            "properties.rotationPolicy has no lifetime action of type Rotate; keys must "
            "rotate on a schedule (https://learn.microsoft.com/azure/key-vault/keys/how-to-configure-key-rotation)"
        )
    ]


RULES = (
    ResourceRule(
        name="keyvault-rbac-authorization",
        description="Key vaults use Azure RBAC, not access policies.",
        resource_types=(VAULT,),
        control="MCSB PA-7",
        check=rbac_authorization,
    ),
    ResourceRule(
        name="keyvault-soft-delete-retention",
        description="Key vaults keep soft delete on with the environment's retention "
        "(dev 7, qa 14, staging 30, prod 90 days).",
        resource_types=(VAULT,),
        control="CKV_AZURE_42",
        check=soft_delete_retention,
    ),
    ResourceRule(
        name="keyvault-purge-protection",
        description="Key vaults enable purge protection where the environment requires it (prod).",
        resource_types=(VAULT,),
        control="CKV_AZURE_110",
        check=purge_protection,
    ),
    ResourceRule(
        name="keyvault-no-public-network",
        description="Key vaults disable public network access where private endpoints are "
        "required (staging, prod).",
        resource_types=(VAULT,),
        control="CKV_AZURE_189",
        check=private_access,
    ),
    ResourceRule(
        name="keyvault-secret-key-expiry",
        description="Key Vault secrets and keys have an expiry date.",
        resource_types=(SECRET, KEY),
        control="CKV_AZURE_41 / CKV_AZURE_40 / MCSB IM-8",
        check=expiry,
    ),
    ResourceRule(
        name="keyvault-secret-content-type",
        description="Key Vault secrets state their content type.",
        resource_types=(SECRET,),
        control="CKV_AZURE_114",
        check=secret_content_type,
    ),
    ResourceRule(
        name="keyvault-key-rotation",
        description="Key Vault keys have a rotation policy that rotates them.",
        resource_types=(KEY,),
        control="Azure.KeyVault.AutoRotationPolicy / MCSB DP-6",
        check=key_rotation,
    ),
)
