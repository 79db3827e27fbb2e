"""Feature-flagged stores: Azure Managed Redis, Cosmos DB and Data Factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core import Finding, ResourceRule, RuleContext, expect, expect_identity

REDIS_CLUSTER = "azure-native:redisenterprise:RedisEnterprise"
REDIS_DATABASE = "azure-native:redisenterprise:Database"
COSMOS = "azure-native:cosmosdb:DatabaseAccount"
DATA_FACTORY = "azure-native:datafactory:Factory"


def redis_encrypted(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """TLS between clients and Redis; Encrypted is Azure's default."""
    return expect(
        props, "clientProtocol", ["Encrypted"], "plaintext exposes cached data", default="Encrypted"
    )


def redis_access_keys_disabled(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Entra ID only, stated explicitly: the default changed between API versions."""
    return expect(
        props,
        "accessKeysAuthentication",
        ["Disabled"],
        "access keys are shared secrets outside Entra ID",
    )


def redis_private_access(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    if not ctx.profile.private_endpoints:
        return []
    return expect(
        props,
        "publicNetworkAccess",
        ["Disabled"],
        f"{ctx.environment} reaches Redis through its private endpoint only",
    )


def cosmos_local_auth_disabled(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    return expect(props, "disableLocalAuth", [True], "account keys bypass Entra ID")


def cosmos_minimum_tls(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """TLS 1.2, stated explicitly: older accounts default to TLS 1.0."""
    return expect(props, "minimalTlsVersion", ["Tls12"], "TLS 1.0 and 1.1 are retired")


def cosmos_metadata_writes(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Databases and containers change through ARM (RBAC, audited), not with account keys."""
    return expect(
        props,
        "disableKeyBasedMetadataWriteAccess",
        [True],
        "key-based clients could otherwise drop databases and containers",
        default=False,
    )


def cosmos_private_access(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    if not ctx.profile.private_endpoints:
        return []
    return expect(
        props,
        "publicNetworkAccess",
        ["Disabled"],
        f"{ctx.environment} reaches Cosmos DB through its private endpoint only",
    )


def data_factory_identity(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    return expect_identity(props, "linked services authenticate as the factory, not with keys")


def data_factory_private_access(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    if not ctx.profile.private_endpoints:
        return []
    return expect(
        props,
        "publicNetworkAccess",
        ["Disabled"],
        f"{ctx.environment} reaches Data Factory through private endpoints only",
    )


RULES = (
    ResourceRule(
        name="redis-encrypted-client-protocol",
        description="Azure Managed Redis databases accept TLS connections only.",
        resource_types=(REDIS_DATABASE,),
        control="MCSB DP-3",
        check=redis_encrypted,
    ),
    ResourceRule(
        name="redis-access-keys-disabled",
        description="Azure Managed Redis databases disable access-key authentication.",
        resource_types=(REDIS_DATABASE,),
        control="MCSB IM-1",
        check=redis_access_keys_disabled,
    ),
    ResourceRule(
        name="redis-no-public-network",
        description="Azure Managed Redis disables public network access where private endpoints "
        "are required (staging, prod).",
        resource_types=(REDIS_CLUSTER,),
        control="MCSB NS-2",
        check=redis_private_access,
    ),
    ResourceRule(
        name="cosmos-local-auth-disabled",
        description="Cosmos DB accounts disable local (key) authentication.",
        resource_types=(COSMOS,),
        control="CKV_AZURE_140",
        check=cosmos_local_auth_disabled,
    ),
    ResourceRule(
        name="cosmos-no-public-network",
        description="Cosmos DB accounts disable public network access where private endpoints "
        "are required (staging, prod).",
        resource_types=(COSMOS,),
        control="CKV_AZURE_101",
        check=cosmos_private_access,
    ),
    ResourceRule(
        name="datafactory-managed-identity",
        description="Data factories have a managed identity.",
        resource_types=(DATA_FACTORY,),
        control="MCSB IM-3",
        check=data_factory_identity,
    ),
    ResourceRule(
        name="datafactory-no-public-network",
        description="Data factories disable public network access where private endpoints are "
        "required (staging, prod).",
        resource_types=(DATA_FACTORY,),
        control="CKV_AZURE_104",
        check=data_factory_private_access,
    ),
    ResourceRule(
        name="cosmos-min-tls",
        description="Cosmos DB accounts require TLS 1.2.",
        resource_types=(COSMOS,),
        control="Azure.Cosmos.MinTLS / MCSB DP-3",
        check=cosmos_minimum_tls,
    ),
    ResourceRule(
        name="cosmos-metadata-write-entra-only",
        description="Cosmos DB accounts disable key-based metadata writes.",
        resource_types=(COSMOS,),
        control="CKV_AZURE_132 / Azure.Cosmos.DisableMetadataWrite",
        check=cosmos_metadata_writes,
    ),
)
