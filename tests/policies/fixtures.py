"""Rule fixtures: for each rule, a compliant, a violating, a property-missing and an unknown
case (and per environment where the verdict depends on it), as the engine would send them.

Each fixture is a whole little stack, so resource and stack rules are judged the same way,
through both evaluation paths (tests/test_policies_fixtures.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from policies.constants import Environment
from policies.core import ResourceRecord
from tests.policies.builders import UNKNOWN_BOOL, UNKNOWN_STRING, arm_id, record, urn

Kind = Literal["compliant", "violating", "missing", "unknown"]
Expect = Literal["pass", "violation", "unknown"]


@dataclass(frozen=True)
class Fixture:
    rule: str
    kind: Kind
    expect: Expect
    resources: Sequence[ResourceRecord]
    environment: Environment = "prod"
    note: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        suffix = f"-{self.note}" if self.note else ""
        return f"{self.rule}:{self.kind}:{self.environment}{suffix}"


def one(type_: str, props: Mapping[str, Any], name: str = "res") -> list[ResourceRecord]:
    return [record(type_, name, props)]


def cases(  # noqa: PLR0917 - the four cases, always in this order
    rule: str,
    type_: str,
    good: Mapping[str, Any],
    bad: Mapping[str, Any],
    missing: Mapping[str, Any],
    unknown: Mapping[str, Any],
    *,
    missing_expect: Expect = "violation",
    environment: Environment = "prod",
) -> list[Fixture]:
    """The four cases of a resource rule judged on one resource."""
    return [
        Fixture(rule, "compliant", "pass", one(type_, good), environment),
        Fixture(rule, "violating", "violation", one(type_, bad), environment),
        Fixture(rule, "missing", missing_expect, one(type_, missing), environment),
        Fixture(rule, "unknown", "unknown", one(type_, unknown), environment),
    ]


SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
RG = f"{SUB}/resourceGroups/rg-plat-prod-wus2"
ROLE = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
SECRETS_USER = ROLE + "4633458b-17de-408a-b874-0445c86b69e6"
OWNER = ROLE + "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
VAULT_ID = arm_id("Microsoft.KeyVault", "vaults", "kv-plat-prod-wus2-abc123")
SECRET_SCOPE = f"{VAULT_ID}/secrets/orders-db"

RA = "azure-native:authorization:RoleAssignment"
GRANT = {
    "roleDefinitionId": SECRETS_USER,
    "scope": SECRET_SCOPE,
    "principalId": "11111111-2222-3333-4444-555555555555",
    "principalType": "ServicePrincipal",
}


def _with(base: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if value is _DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


_DROP = object()

# ---- role assignments ----------------------------------------------------------------------

RBAC = [
    *cases(
        "rbac-no-privileged-workload-roles",
        RA,
        GRANT,
        _with(GRANT, roleDefinitionId=OWNER),
        _with(GRANT, roleDefinitionId=OWNER, principalType=_DROP),
        _with(GRANT, roleDefinitionId=UNKNOWN_STRING),
    ),
    Fixture(
        "rbac-no-privileged-workload-roles",
        "compliant",
        "pass",
        one(RA, _with(GRANT, roleDefinitionId=OWNER, principalType="Group")),
        note="owner-to-a-group-is-for-pim",
    ),
    *cases(
        "rbac-narrow-scope",
        RA,
        GRANT,
        _with(GRANT, scope=VAULT_ID),
        _with(GRANT, scope=_DROP),
        _with(GRANT, scope=UNKNOWN_STRING),
    ),
    Fixture(
        "rbac-narrow-scope",
        "violating",
        "violation",
        one(RA, _with(GRANT, scope=SUB)),
        note="subscription",
    ),
    Fixture(
        "rbac-narrow-scope",
        "violating",
        "violation",
        one(RA, _with(GRANT, scope=RG)),
        note="resource-group",
    ),
    Fixture(
        "rbac-narrow-scope",
        "violating",
        "violation",
        one(RA, _with(GRANT, scope=VAULT_ID)),
        environment="dev",
        note="every-environment",
    ),
    *cases(
        "rbac-groups-not-users",
        RA,
        GRANT,
        _with(GRANT, principalType="User"),
        _with(GRANT, principalType=_DROP),
        _with(GRANT, principalType=UNKNOWN_STRING),
    ),
]

# ---- diagnostic settings content -----------------------------------------------------------

DIAG = "azure-native:monitor:DiagnosticSetting"
KV = "azure-native:keyvault:Vault"
VAULT = {"vaultName": "kv-plat-prod-wus2-abc123"}


def _diag(**props: Any) -> list[ResourceRecord]:
    setting = {"resourceUri": VAULT_ID, "workspaceId": "/ws", **props}
    return [record(KV, "kv", VAULT), record(DIAG, "kv-diag", setting)]


DIAGNOSTICS = [
    Fixture(
        "diagnostic-settings-required",
        "compliant",
        "pass",
        _diag(logs=[{"categoryGroup": "audit", "enabled": True}]),
    ),
    Fixture(
        "diagnostic-settings-required",
        "violating",
        "violation",
        _diag(logs=[{"categoryGroup": "allLogs", "enabled": False}]),
    ),
    Fixture("diagnostic-settings-required", "missing", "violation", _diag()),
    Fixture(
        "diagnostic-settings-required",
        "unknown",
        "unknown",
        _diag(logs=[{"categoryGroup": "allLogs", "enabled": UNKNOWN_BOOL}]),
    ),
]

AI = "azure-native:applicationinsights:Component"
AI_PROPS = {"resourceName": "appi-a", "workspaceResourceId": "/ws", "disableLocalAuth": True}
DIAGNOSTICS += [
    *cases(
        "appinsights-workspace-based",
        AI,
        AI_PROPS,
        {**AI_PROPS, "workspaceResourceId": ""},
        {k: v for k, v in AI_PROPS.items() if k != "workspaceResourceId"},
        {**AI_PROPS, "workspaceResourceId": UNKNOWN_STRING},
    ),
    *cases(
        "appinsights-local-auth-disabled",
        AI,
        AI_PROPS,
        {**AI_PROPS, "disableLocalAuth": False},
        {k: v for k, v in AI_PROPS.items() if k != "disableLocalAuth"},
        {**AI_PROPS, "disableLocalAuth": UNKNOWN_BOOL},
    ),
]

# ---- secrets and keys ----------------------------------------------------------------------

SECRET = "azure-native:keyvault:Secret"
KEY = "azure-native:keyvault:Key"
SECRET_PROPS = {
    "vaultName": "kv-a",
    "secretName": "orders-db",
    "properties": {
        "value": "x",
        "contentType": "text/plain",
        "attributes": {"expires": 1893456000},
    },
}
KEY_PROPS = {
    "vaultName": "kv-a",
    "keyName": "cmk",
    "properties": {
        "kty": "RSA",
        "attributes": {"expires": 1893456000},
        "rotationPolicy": {
            "lifetimeActions": [
                {"action": {"type": "rotate"}, "trigger": {"timeBeforeExpiry": "P30D"}}
            ]
        },
    },
}


def _props(base: Mapping[str, Any], **inner: Any) -> dict[str, Any]:
    properties = dict(base["properties"])
    for key, value in inner.items():
        if value is _DROP:
            properties.pop(key, None)
        else:
            properties[key] = value
    return {**base, "properties": properties}


SECRETS = [
    *cases(
        "keyvault-secret-key-expiry",
        SECRET,
        SECRET_PROPS,
        _props(SECRET_PROPS, attributes={"expires": "never"}),
        _props(SECRET_PROPS, attributes={"enabled": True}),
        _props(SECRET_PROPS, attributes={"expires": UNKNOWN_STRING}),
    ),
    Fixture(
        "keyvault-secret-key-expiry",
        "missing",
        "violation",
        one(KEY, _props(KEY_PROPS, attributes={})),
        note="key",
    ),
    *cases(
        "keyvault-secret-content-type",
        SECRET,
        SECRET_PROPS,
        _props(SECRET_PROPS, contentType=""),
        _props(SECRET_PROPS, contentType=_DROP),
        _props(SECRET_PROPS, contentType=UNKNOWN_STRING),
    ),
    *cases(
        "keyvault-key-rotation",
        KEY,
        KEY_PROPS,
        _props(KEY_PROPS, rotationPolicy={"lifetimeActions": [{"action": {"type": "notify"}}]}),
        _props(KEY_PROPS, rotationPolicy=_DROP),
        _props(KEY_PROPS, rotationPolicy={"lifetimeActions": UNKNOWN_STRING}),
    ),
]

# ---- SQL -----------------------------------------------------------------------------------

SQL = "azure-native:sql:Server"
FW = "azure-native:sql:FirewallRule"
ENTRA = "azure-native:sql:ServerAzureADOnlyAuthentication"
SERVER = {"serverName": "sql-plat-prod-wus2-abc123", "administrators": {"login": "g"}}
SWITCH = {"serverName": "sql-plat-prod-wus2-abc123", "azureADOnlyAuthentication": True}
ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - a firewall range under test, not a bind address
FW_RULE = {"serverName": "sql-a", "startIpAddress": "20.0.0.10", "endIpAddress": "20.0.0.10"}

SQL_FIXTURES = [
    Fixture(
        "sql-entra-only-auth",
        "compliant",
        "pass",
        [record(SQL, "sql", SERVER), record(ENTRA, "sql-entra", SWITCH)],
        note="through-ServerAzureADOnlyAuthentication",
    ),
    Fixture(
        "sql-entra-only-auth",
        "violating",
        "violation",
        [
            record(SQL, "sql", SERVER),
            record(ENTRA, "sql-entra", {**SWITCH, "azureADOnlyAuthentication": False}),
        ],
    ),
    Fixture("sql-entra-only-auth", "missing", "violation", [record(SQL, "sql", SERVER)]),
    Fixture(
        "sql-entra-only-auth",
        "unknown",
        "unknown",
        [
            record(SQL, "sql", SERVER),
            record(ENTRA, "sql-entra", {**SWITCH, "azureADOnlyAuthentication": UNKNOWN_BOOL}),
        ],
    ),
    Fixture(
        "sql-entra-only-auth",
        "violating",
        "violation",
        [
            record(SQL, "sql", {**SERVER, "administratorLoginPassword": "p"}),
            record(ENTRA, "sql-entra", SWITCH),
        ],
        note="password-still-set",
    ),
    *cases(
        "sql-firewall-rules-narrow",
        FW,
        FW_RULE,
        {**FW_RULE, "startIpAddress": ANY_ADDRESS, "endIpAddress": ANY_ADDRESS},
        {"serverName": "sql-a", "startIpAddress": "20.0.0.10"},
        {**FW_RULE, "endIpAddress": UNKNOWN_STRING},
        environment="dev",
    ),
    Fixture(
        "sql-firewall-rules-narrow",
        "violating",
        "violation",
        one(FW, {**FW_RULE, "startIpAddress": ANY_ADDRESS, "endIpAddress": "255.255.255.255"}),
        environment="dev",
        note="allow-all",
    ),
    Fixture(
        "sql-firewall-rules-narrow",
        "violating",
        "violation",
        one(FW, {**FW_RULE, "startIpAddress": "20.0.0.0", "endIpAddress": "20.0.3.255"}),
        environment="dev",
        note="wide-range",
    ),
]

# ---- storage -------------------------------------------------------------------------------

CONTAINER = "azure-native:storage:BlobContainer"
BLOB = "azure-native:storage:BlobServiceProperties"
SA = "azure-native:storage:StorageAccount"
BLOB_PROPS = {
    "accountName": "stplat",
    "blobServicesName": "default",
    "deleteRetentionPolicy": {"enabled": True, "days": 7},
    "containerDeleteRetentionPolicy": {"enabled": True, "days": 7},
}
ACCOUNT = {
    "accountName": "stplat",
    "publicNetworkAccess": "Enabled",
    "networkRuleSet": {"defaultAction": "Deny"},
}

STORAGE = [
    *cases(
        "storage-container-private",
        CONTAINER,
        {"accountName": "stplat", "publicAccess": "None"},
        {"accountName": "stplat", "publicAccess": "Blob"},
        {"accountName": "stplat"},
        {"accountName": "stplat", "publicAccess": UNKNOWN_STRING},
        missing_expect="pass",
    ),
    *cases(
        "storage-soft-delete-days",
        BLOB,
        BLOB_PROPS,
        {**BLOB_PROPS, "deleteRetentionPolicy": {"enabled": True, "days": 1}},
        {k: v for k, v in BLOB_PROPS.items() if k != "containerDeleteRetentionPolicy"},
        {**BLOB_PROPS, "deleteRetentionPolicy": {"enabled": True, "days": UNKNOWN_STRING}},
    ),
    *cases(
        "public-access-default-deny",
        SA,
        ACCOUNT,
        {**ACCOUNT, "networkRuleSet": {"defaultAction": "Allow"}},
        {"accountName": "stplat", "publicNetworkAccess": "Enabled"},
        {**ACCOUNT, "networkRuleSet": {"defaultAction": UNKNOWN_STRING}},
        environment="dev",
    ),
    Fixture(
        "public-access-default-deny",
        "compliant",
        "pass",
        one(SA, {"accountName": "stplat", "publicNetworkAccess": "Disabled"}),
        note="public-access-off",
    ),
    Fixture(
        "public-access-default-deny",
        "violating",
        "violation",
        one(KV, {"vaultName": "kv-a", "properties": {"publicNetworkAccess": "Enabled"}}),
        environment="dev",
        note="key-vault",
    ),
]

# ---- the audit store ----------------------------------------------------------------------

AUDIT_ACCOUNT = {
    "accountName": "stplataudprodwus2abc123",
    "isHnsEnabled": False,
    "allowSharedKeyAccess": False,
    "tags": {"purpose": "audit-trail", "layer": "audit"},
    "immutableStorageWithVersioning": {
        "enabled": True,
        "immutabilityPolicy": {
            "immutabilityPeriodSinceCreationInDays": 2555,
            "state": "Locked",
            "allowProtectedAppendWrites": False,
        },
    },
}
AUDIT_BLOB = {"accountName": "stplataudprodwus2abc123", "isVersioningEnabled": True}
AUDIT_RECORDS = {
    "accountName": "stplataudprodwus2abc123",
    "containerName": "audit-records",
    "immutableStorageWithVersioning": {"enabled": True},
}


def _audit(
    account: Mapping[str, Any] = AUDIT_ACCOUNT,
    blob: Mapping[str, Any] | None = AUDIT_BLOB,
    container: Mapping[str, Any] | None = AUDIT_RECORDS,
) -> list[ResourceRecord]:
    out = [record(SA, "audit-st", account)]
    if blob is not None:
        out.append(record(BLOB, "audit-st-blob", blob))
    if container is not None:
        out.append(record(CONTAINER, "audit-st-records", container))
    return out


def _policy(**changes: Any) -> dict[str, Any]:
    worm = AUDIT_ACCOUNT["immutableStorageWithVersioning"]
    assert isinstance(worm, dict)
    return {
        **AUDIT_ACCOUNT,
        "immutableStorageWithVersioning": {
            **worm,
            "immutabilityPolicy": _with(worm["immutabilityPolicy"], **changes),
        },
    }


_UNTAGGED = _with(AUDIT_ACCOUNT, tags={"layer": "audit"})
_OTHER_ACCOUNT = _with(
    _UNTAGGED, accountName="stplatetlprodwus2abc123", immutableStorageWithVersioning=_DROP
)
CONTAINER_POLICY = "azure-native:storage:BlobContainerImmutabilityPolicy"
_CONTAINER_POLICY = {
    "accountName": "stplataudprodwus2abc123",
    "containerName": "audit-records",
    "immutabilityPeriodSinceCreationInDays": 1,
}

AUDIT_FIXTURES = [
    Fixture("audit-store-immutable", "compliant", "pass", _audit()),
    Fixture("audit-store-immutable", "violating", "violation", _audit(_policy(state="Unlocked"))),
    Fixture(
        "audit-store-immutable",
        "missing",
        "violation",
        _audit(_with(AUDIT_ACCOUNT, immutableStorageWithVersioning=_DROP)),
    ),
    Fixture("audit-store-immutable", "unknown", "unknown", _audit(_policy(state=UNKNOWN_STRING))),
    Fixture(
        "audit-store-immutable",
        "violating",
        "violation",
        _audit(_policy(immutabilityPeriodSinceCreationInDays=1824)),
        note="under-five-years",
    ),
    Fixture(
        "audit-store-immutable",
        "compliant",
        "pass",
        _audit(_policy(immutabilityPeriodSinceCreationInDays=1825)),
        note="five-years-exactly",
    ),
    Fixture(
        "audit-store-immutable",
        "compliant",
        "pass",
        _audit(_policy(state="Unlocked", immutabilityPeriodSinceCreationInDays=3)),
        environment="dev",
        note="days-unlocked-outside-prod",
    ),
    Fixture(
        "audit-store-immutable",
        "violating",
        "violation",
        _audit(_policy(state="Disabled")),
        environment="dev",
        note="disabled-policy",
    ),
    Fixture(
        "audit-store-immutable",
        "missing",
        "violation",
        _audit(_policy(state=_DROP)),
        environment="staging",
        note="no-state",
    ),
    Fixture(
        "audit-store-immutable",
        "violating",
        "violation",
        _audit(blob={**AUDIT_BLOB, "isVersioningEnabled": False}),
        note="versioning-off",
    ),
    Fixture(
        "audit-store-immutable",
        "missing",
        "violation",
        _audit(blob=None),
        note="no-blob-service",
    ),
    Fixture(
        "audit-store-immutable",
        "violating",
        "violation",
        _audit(_with(AUDIT_ACCOUNT, allowSharedKeyAccess=True)),
        note="shared-keys",
    ),
    Fixture(
        "audit-store-immutable",
        "missing",
        "violation",
        _audit(_with(AUDIT_ACCOUNT, allowSharedKeyAccess=_DROP)),
        note="shared-keys-unset",
    ),
    Fixture(
        "audit-store-immutable",
        "violating",
        "violation",
        _audit(_with(AUDIT_ACCOUNT, isHnsEnabled=True)),
        note="hierarchical-namespace",
    ),
    Fixture(
        "audit-store-immutable",
        "violating",
        "violation",
        _audit(container={**AUDIT_RECORDS, "immutableStorageWithVersioning": {"enabled": False}}),
        note="container-not-worm",
    ),
    # Found by its container when the tag is gone: a lost tag hides nothing.
    Fixture(
        "audit-store-immutable",
        "violating",
        "violation",
        _audit(_with(_UNTAGGED, immutableStorageWithVersioning=_DROP)),
        note="untagged-found-by-container",
    ),
    # Any other account is not the audit store...
    Fixture(
        "audit-store-immutable",
        "compliant",
        "pass",
        [*_audit(), record(SA, "etl-st", _OTHER_ACCOUNT)],
        note="not-the-audit-account",
    ),
    # ...but a stack must have one.
    Fixture(
        "audit-store-immutable",
        "missing",
        "violation",
        [record(SA, "etl-st", _OTHER_ACCOUNT)],
        note="no-audit-account",
    ),
    Fixture(
        "audit-store-immutable", "missing", "violation", [], environment="dev", note="empty-stack"
    ),
    # A container-level policy overrides the account's: none on the audit account's containers.
    Fixture(
        "audit-store-immutable",
        "violating",
        "violation",
        [*_audit(), record(CONTAINER_POLICY, "audit-st-records-policy", _CONTAINER_POLICY)],
        note="container-level-policy",
    ),
    Fixture(
        "audit-store-immutable",
        "violating",
        "violation",
        [
            *_audit(),
            record(
                CONTAINER_POLICY,
                "audit-st-records-policy",
                {**_CONTAINER_POLICY, "immutabilityPeriodSinceCreationInDays": 3650},
            ),
        ],
        note="container-level-policy-longer",
    ),
    Fixture(
        "audit-store-immutable",
        "compliant",
        "pass",
        [
            *_audit(),
            record(SA, "etl-st", _OTHER_ACCOUNT),
            record(
                CONTAINER_POLICY,
                "etl-st-policy",
                {**_CONTAINER_POLICY, "accountName": "stplatetlprodwus2abc123"},
            ),
        ],
        note="container-level-policy-elsewhere",
    ),
    Fixture(
        "audit-store-immutable",
        "unknown",
        "unknown",
        [
            *_audit(),
            record(
                CONTAINER_POLICY,
                "audit-st-records-policy",
                {**_CONTAINER_POLICY, "accountName": UNKNOWN_STRING},
            ),
        ],
        note="container-level-policy-account-unknown",
    ),
    Fixture(
        "audit-store-immutable",
        "unknown",
        "unknown",
        _audit(_with(_UNTAGGED, tags=UNKNOWN_STRING), container=None),
        note="tags-unknown",
    ),
]

# ---- Service Bus and Cosmos DB public access -----------------------------------------------

SB = "azure-native:servicebus:Namespace"
SB_RULES = "azure-native:servicebus:NamespaceNetworkRuleSet"
NAMESPACE = {"namespaceName": "sbns-a", "publicNetworkAccess": "Enabled"}
RULE_SET = {
    "namespaceName": "sbns-a",
    "defaultAction": "Deny",
    "publicNetworkAccess": "Enabled",
    "ipRules": [{"ipMask": "20.0.0.10/32", "action": "Allow"}],
}
COSMOS = "azure-native:cosmosdb:DatabaseAccount"
COSMOS_PROPS = {
    "accountName": "cosmos-a",
    "publicNetworkAccess": "Enabled",
    "ipRules": [{"ipAddressOrRange": "20.0.0.10"}],
    "minimalTlsVersion": "Tls12",
    "disableKeyBasedMetadataWriteAccess": True,
}

PUBLIC = [
    Fixture(
        "servicebus-network-rule-set",
        "compliant",
        "pass",
        [record(SB, "sb", NAMESPACE), record(SB_RULES, "sb-rules", RULE_SET)],
        environment="dev",
    ),
    Fixture(
        "servicebus-network-rule-set",
        "violating",
        "violation",
        [
            record(SB, "sb", NAMESPACE),
            record(SB_RULES, "sb-rules", {**RULE_SET, "ipRules": [{"ipMask": "0.0.0.0/0"}]}),
        ],
        environment="dev",
    ),
    Fixture(
        "servicebus-network-rule-set", "missing", "violation", [record(SB, "sb", NAMESPACE)], "dev"
    ),
    Fixture(
        "servicebus-network-rule-set",
        "violating",
        "violation",
        [record(SB, "sb", NAMESPACE), record(SB_RULES, "sb-rules", {**RULE_SET, "ipRules": []})],
        environment="dev",
        note="deny-with-no-rule-is-allow",
    ),
    Fixture(
        "servicebus-network-rule-set",
        "compliant",
        "pass",
        [
            record(SB, "sb", NAMESPACE),
            record(
                SB_RULES,
                "sb-rules",
                {
                    **RULE_SET,
                    "ipRules": [],
                    "virtualNetworkRules": [{"subnet": {"id": "/subscriptions/s/x/subnets/a"}}],
                },
            ),
        ],
        environment="dev",
        note="subnet-rule-only",
    ),
    Fixture(
        "servicebus-network-rule-set",
        "unknown",
        "unknown",
        [
            record(SB, "sb", NAMESPACE),
            record(SB_RULES, "sb-rules", {**RULE_SET, "namespaceName": UNKNOWN_STRING}),
        ],
        environment="dev",
    ),
    Fixture(
        "servicebus-network-rule-set",
        "compliant",
        "pass",
        [record(SB, "sb", {**NAMESPACE, "publicNetworkAccess": "Disabled"})],
        note="private-namespace",
    ),
    *cases(
        "cosmos-public-access-firewall",
        COSMOS,
        COSMOS_PROPS,
        {**COSMOS_PROPS, "ipRules": [{"ipAddressOrRange": "0.0.0.0/0"}]},
        {k: v for k, v in COSMOS_PROPS.items() if k != "ipRules"},
        {**COSMOS_PROPS, "ipRules": [{"ipAddressOrRange": UNKNOWN_STRING}]},
        environment="dev",
    ),
    *cases(
        "cosmos-min-tls",
        COSMOS,
        COSMOS_PROPS,
        {**COSMOS_PROPS, "minimalTlsVersion": "Tls"},
        {k: v for k, v in COSMOS_PROPS.items() if k != "minimalTlsVersion"},
        {**COSMOS_PROPS, "minimalTlsVersion": UNKNOWN_STRING},
    ),
    *cases(
        "cosmos-metadata-write-entra-only",
        COSMOS,
        COSMOS_PROPS,
        {**COSMOS_PROPS, "disableKeyBasedMetadataWriteAccess": False},
        {k: v for k, v in COSMOS_PROPS.items() if k != "disableKeyBasedMetadataWriteAccess"},
        {**COSMOS_PROPS, "disableKeyBasedMetadataWriteAccess": UNKNOWN_BOOL},
    ),
]

# ---- web apps ------------------------------------------------------------------------------

APP = "azure-native:web:WebApp"
SLOT = "azure-native:web:WebAppSlot"
SWIFT = "azure-native:web:WebAppSwiftVirtualNetworkConnection"
FTP = "azure-native:web:WebAppFtpAllowed"
SCM = "azure-native:web:WebAppScmAllowed"
SETTINGS = "azure-native:web:WebAppApplicationSettings"
SITE = {
    "name": "func-plat-prod",
    "httpsOnly": True,
    "identity": {"type": "UserAssigned"},
    "virtualNetworkSubnetId": f"{RG}/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
    "siteConfig": {
        "ftpsState": "Disabled",
        "minTlsVersion": "1.2",
        "scmMinTlsVersion": "1.2",
        "appSettings": [
            {"name": "ServiceBus__fullyQualifiedNamespace", "value": "sb.servicebus.windows.net"},
            {
                "name": "DB_PASSWORD",
                "value": "@Microsoft.KeyVault(SecretUri=https://kv/secrets/db)",
            },
        ],
    },
}
NO_SUBNET = {k: v for k, v in SITE.items() if k != "virtualNetworkSubnetId"}


def _site(**config: Any) -> dict[str, Any]:
    return {**SITE, "siteConfig": {**SITE["siteConfig"], **config}}  # type: ignore[dict-item]


def _publishing(allow_ftp: Any = False, allow_scm: Any = False) -> list[ResourceRecord]:
    return [
        record(APP, "func", SITE),
        record(FTP, "func-ftp", {"name": "func-plat-prod", "allow": allow_ftp}),
        record(SCM, "func-scm", {"name": "func-plat-prod", "allow": allow_scm}),
    ]


WEB = [
    *cases(
        "web-min-tls",
        SLOT,
        {**SITE, "slot": "staging"},
        {**_site(scmMinTlsVersion="1.0"), "slot": "staging"},
        {**_site(scmMinTlsVersion=None), "slot": "staging"},
        {**_site(scmMinTlsVersion=UNKNOWN_STRING), "slot": "staging"},
    ),
    *cases(
        "web-settings-no-keys",
        APP,
        SITE,
        _site(
            appSettings=[
                {
                    "name": "STORAGE_CONNECTION_STRING",
                    "value": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc",
                }
            ]
        ),
        _site(appSettings=None),
        _site(appSettings=[{"name": "API_KEY", "value": UNKNOWN_STRING}]),
        missing_expect="pass",
    ),
    Fixture(
        "web-settings-no-keys",
        "unknown",
        "unknown",
        one(APP, _site(appSettings=[{"name": "AzureWebJobsStorage", "value": UNKNOWN_STRING}])),
        note="host-storage-connection-string",
    ),
    Fixture(
        "web-settings-no-keys",
        "compliant",
        "pass",
        one(
            APP,
            _site(
                appSettings=[
                    {"name": "AzureWebJobsStorage__accountName", "value": "stplat"},
                    {"name": "AzureWebJobsStorage__clientId", "value": UNKNOWN_STRING},
                ]
            ),
        ),
        note="identity-based-host-storage",
    ),
    Fixture(
        "web-settings-no-keys",
        "violating",
        "violation",
        one(SETTINGS, {"name": "func-plat-prod", "properties": {"THIRDPARTY_API_KEY": "s3cr3t"}}),
        note="application-settings-resource",
    ),
    Fixture("web-vnet-integration", "compliant", "pass", [record(APP, "func", SITE)]),
    Fixture(
        "web-vnet-integration",
        "compliant",
        "pass",
        [
            record(APP, "func", NO_SUBNET),
            record(SWIFT, "func-vnet", {"name": "func-plat-prod", "subnetResourceId": "/s/snet"}),
        ],
        note="through-WebAppSwiftVirtualNetworkConnection",
    ),
    Fixture(
        "web-vnet-integration",
        "violating",
        "violation",
        [
            record(APP, "func", NO_SUBNET),
            record(SWIFT, "other-vnet", {"name": "func-other", "subnetResourceId": "/s/snet"}),
        ],
    ),
    Fixture("web-vnet-integration", "missing", "violation", [record(APP, "func", NO_SUBNET)]),
    Fixture(
        "web-vnet-integration",
        "unknown",
        "unknown",
        [
            record(APP, "func", NO_SUBNET),
            record(SWIFT, "func-vnet", {"name": UNKNOWN_STRING, "subnetResourceId": "/s/snet"}),
        ],
    ),
    Fixture("web-basic-auth-publishing-disabled", "compliant", "pass", _publishing()),
    Fixture(
        "web-basic-auth-publishing-disabled", "violating", "violation", _publishing(allow_scm=True)
    ),
    Fixture(
        "web-basic-auth-publishing-disabled", "missing", "violation", [record(APP, "func", SITE)]
    ),
    Fixture(
        "web-basic-auth-publishing-disabled",
        "unknown",
        "unknown",
        _publishing(allow_ftp=UNKNOWN_BOOL),
    ),
]

# ---- network -------------------------------------------------------------------------------

NSG = "azure-native:network:NetworkSecurityGroup"
SUBNET = "azure-native:network:Subnet"
VNET = "azure-native:network:VirtualNetwork"
POLICY = "azure-native:network:FirewallPolicy"
AFW = "azure-native:network:AzureFirewall"
RCG = "azure-native:network:FirewallPolicyRuleCollectionGroup"
OUT_RULE = {
    "name": "allow-sql-out",
    "direction": "Outbound",
    "access": "Allow",
    "protocol": "Tcp",
    "sourceAddressPrefix": "10.2.1.0/24",
    "destinationAddressPrefix": "Sql",
    "destinationPortRange": "1433",
    "priority": 100,
}


def _nsg(*rules: Mapping[str, Any], subnet: str = "app") -> dict[str, Any]:
    return {
        "networkSecurityGroupName": f"nsg-plat-{subnet}-prod-wus2",
        "tags": {"subnet": subnet},
        "securityRules": list(rules),
    }


SNET = {
    "subnetName": "snet-plat-app-prod-wus2",
    "networkSecurityGroup": {"id": f"{RG}/providers/Microsoft.Network/networkSecurityGroups/n"},
}
APP_RULE = {
    "ruleType": "ApplicationRule",
    "name": "third-party",
    "sourceAddresses": ["10.2.1.0/24"],
    "targetFqdns": ["api.gleif.org"],
}


def _rcg(*rules: Mapping[str, Any], action: Any = "Allow") -> dict[str, Any]:
    return {
        "ruleCollectionGroupName": "egress",
        "ruleCollections": [
            {"name": "allow-egress", "action": {"type": action}, "rules": list(rules)}
        ],
    }


NETWORK = [
    *cases(
        "nsg-outbound-restricted",
        NSG,
        _nsg(OUT_RULE),
        _nsg({**OUT_RULE, "destinationAddressPrefix": "Internet", "destinationPortRange": "*"}),
        _nsg(),
        _nsg({**OUT_RULE, "destinationAddressPrefix": UNKNOWN_STRING}),
        missing_expect="pass",
    ),
    Fixture(
        "nsg-outbound-restricted",
        "violating",
        "violation",
        one(
            NSG,
            _nsg(
                {
                    **OUT_RULE,
                    "destinationAddressPrefix": "10.2.4.0/24",
                    "destinationPortRange": "22",
                }
            ),
        ),
        note="lateral-ssh",
    ),
    Fixture(
        "nsg-outbound-restricted",
        "compliant",
        "pass",
        one(
            NSG,
            _nsg(
                {
                    **OUT_RULE,
                    "destinationAddressPrefix": "10.2.4.0/24",
                    "destinationPortRange": "22",
                },
                subnet="management",
            ),
        ),
        note="ssh-from-management",
    ),
    *cases(
        "subnet-nsg-required",
        SUBNET,
        SNET,
        {**SNET, "networkSecurityGroup": {"id": ""}},
        {"subnetName": "snet-plat-app-prod-wus2"},
        {"subnetName": UNKNOWN_STRING},
    ),
    Fixture(
        "subnet-nsg-required",
        "unknown",
        "unknown",
        one(SUBNET, {**SNET, "networkSecurityGroup": {"id": UNKNOWN_STRING}}),
        note="nsg-id-known-after-up",
    ),
    Fixture(
        "subnet-nsg-required",
        "compliant",
        "pass",
        one(SUBNET, {"subnetName": "AzureFirewallSubnet"}),
        note="firewall-subnet",
    ),
    Fixture(
        "subnet-nsg-required",
        "violating",
        "violation",
        one(VNET, {"virtualNetworkName": "vnet-a", "subnets": [{"name": "snet-a"}]}),
        note="inline-subnet",
    ),
    *cases(
        "firewall-threat-intel-deny",
        POLICY,
        {"firewallPolicyName": "afwp-a", "threatIntelMode": "Deny"},
        {"firewallPolicyName": "afwp-a", "threatIntelMode": "Off"},
        {"firewallPolicyName": "afwp-a"},
        {"firewallPolicyName": "afwp-a", "threatIntelMode": UNKNOWN_STRING},
    ),
    Fixture(
        "firewall-threat-intel-deny",
        "compliant",
        "pass",
        one(AFW, {"azureFirewallName": "afw-a", "firewallPolicy": {"id": "/p"}}),
        note="firewall-takes-the-policy-mode",
    ),
    Fixture(
        "firewall-threat-intel-deny",
        "violating",
        "violation",
        one(AFW, {"azureFirewallName": "afw-a", "threatIntelMode": "Alert"}),
        note="classic-firewall",
    ),
    *cases(
        "firewall-no-any-to-any",
        RCG,
        _rcg(APP_RULE),
        _rcg({**APP_RULE, "sourceAddresses": ["*"], "targetFqdns": ["*"]}),
        _rcg({**APP_RULE, "sourceAddresses": ["*"], "targetFqdns": ["*"]}, action="Deny"),
        _rcg({**APP_RULE, "sourceAddresses": [UNKNOWN_STRING]}),
        missing_expect="pass",
    ),
    Fixture(
        "firewall-no-any-to-any",
        "violating",
        "violation",
        one(
            RCG,
            _rcg(
                {
                    "ruleType": "NetworkRule",
                    "name": "any",
                    "sourceAddresses": ["*"],
                    "destinationAddresses": ["*"],
                    "destinationPorts": ["*"],
                }
            ),
        ),
        note="network-rule",
    ),
]

NETWORK += cases(
    "firewall-uses-policy",
    AFW,
    {"azureFirewallName": "afw-a", "firewallPolicy": {"id": "/p"}},
    {"azureFirewallName": "afw-a", "firewallPolicy": {"id": ""}},
    {"azureFirewallName": "afw-a"},
    {"azureFirewallName": "afw-a", "firewallPolicy": {"id": UNKNOWN_STRING}},
)

ACR = "azure-native:containerregistry:Registry"
NETWORK += cases(
    "acr-no-anonymous-pull",
    ACR,
    {"registryName": "crplatprod", "anonymousPullEnabled": False},
    {"registryName": "crplatprod", "anonymousPullEnabled": True},
    {"registryName": "crplatprod"},
    {"registryName": "crplatprod", "anonymousPullEnabled": UNKNOWN_BOOL},
    missing_expect="pass",
)

# ---- API Management ------------------------------------------------------------------------

APIM = "azure-native:apimanagement:"
BACKEND = {"serviceName": "apim-a", "url": "https://ca-orders.internal", "protocol": "http"}
NAMED = {
    "serviceName": "apim-a",
    "displayName": "key",
    "secret": True,
    "keyVault": {"secretIdentifier": "https://kv/secrets/k"},
}
SUBSCRIPTION_PROPS = {"serviceName": "apim-a", "displayName": "s", "scope": "/products/trading"}
PRODUCT = {
    "serviceName": "apim-a",
    "displayName": "p",
    "subscriptionRequired": True,
    "approvalRequired": True,
}
CORS = "<policies><inbound><cors><allowed-origins><origin>https://app.example.com</origin></allowed-origins></cors></inbound></policies>"
API_PROPS = {
    "serviceName": "apim-a",
    "path": "orders",
    "protocols": ["https"],
    "subscriptionRequired": True,
}

APIM_FIXTURES = [
    *cases(
        "apim-backend-https",
        APIM + "Backend",
        {**BACKEND, "tls": {"validateCertificateChain": True, "validateCertificateName": True}},
        {**BACKEND, "url": "http://ca-orders.internal"},
        {k: v for k, v in BACKEND.items() if k != "url"},
        {**BACKEND, "url": UNKNOWN_STRING},
    ),
    Fixture(
        "apim-backend-https",
        "violating",
        "violation",
        one(APIM + "Backend", {**BACKEND, "tls": {"validateCertificateChain": False}}),
        note="no-certificate-validation",
    ),
    *cases(
        "apim-named-values-key-vault",
        APIM + "NamedValue",
        NAMED,
        {"serviceName": "apim-a", "displayName": "key", "secret": True, "value": "s3cr3t"},
        {"serviceName": "apim-a", "displayName": "key", "value": "plain"},
        {**NAMED, "keyVault": {"secretIdentifier": UNKNOWN_STRING}},
    ),
    *cases(
        "apim-api-subscription-required",
        APIM + "Api",
        API_PROPS,
        {**API_PROPS, "subscriptionRequired": False},
        {k: v for k, v in API_PROPS.items() if k != "subscriptionRequired"},
        {**API_PROPS, "subscriptionRequired": UNKNOWN_BOOL},
        missing_expect="pass",
    ),
    *cases(
        "apim-subscription-scoped",
        APIM + "Subscription",
        SUBSCRIPTION_PROPS,
        {**SUBSCRIPTION_PROPS, "scope": "/apis"},
        {"serviceName": "apim-a", "displayName": "s"},
        {**SUBSCRIPTION_PROPS, "scope": UNKNOWN_STRING},
    ),
    *cases(
        "apim-product-closed",
        APIM + "Product",
        PRODUCT,
        {**PRODUCT, "subscriptionRequired": False},
        {"serviceName": "apim-a", "displayName": "p"},
        {**PRODUCT, "approvalRequired": UNKNOWN_BOOL},
    ),
    *cases(
        "apim-cors-no-wildcard",
        APIM + "ApiPolicy",
        {"serviceName": "apim-a", "value": CORS},
        {"serviceName": "apim-a", "value": CORS.replace("https://app.example.com", "*")},
        {"serviceName": "apim-a"},
        {"serviceName": "apim-a", "value": UNKNOWN_STRING},
        missing_expect="pass",
    ),
    *cases(
        "apim-legacy-protocols-disabled",
        APIM + "ApiManagementService",
        {
            "sku": {"name": "Developer"},
            "customProperties": {
                k: "false"
                for k in (
                    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls10",
                    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls11",
                    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Ssl30",
                    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls10",
                    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls11",
                    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Ssl30",
                    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Ciphers.TripleDes168",
                )
            },
        },
        {
            "sku": {"name": "Developer"},
            "customProperties": {
                "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Ciphers.TripleDes168": "true"
            },
        },
        {"sku": {"name": "Premium"}},
        {"sku": {"name": "Developer"}, "customProperties": UNKNOWN_STRING},
    ),
]

# ---- Front Door ----------------------------------------------------------------------------

WAF = "azure-native:frontdoor:Policy"
ROUTE = "azure-native:cdn:Route"
DOMAIN = "azure-native:cdn:AFDCustomDomain"
ENDPOINT = "azure-native:cdn:AFDEndpoint"
SECURITY = "azure-native:cdn:SecurityPolicy"
WAF_PROPS = {
    "policyName": "wafplatprod",
    "sku": {"name": "Premium_AzureFrontDoor"},
    "policySettings": {
        "enabledState": "Enabled",
        "mode": "Prevention",
        "requestBodyCheck": "Enabled",
    },
    "managedRules": {
        "managedRuleSets": [
            {
                "ruleSetType": "Microsoft_DefaultRuleSet",
                "ruleSetVersion": "2.1",
                "ruleSetAction": "Block",
            }
        ]
    },
}
ROUTE_PROPS = {
    "endpointName": "fde-plat-prod",
    "routeName": "spa",
    "forwardingProtocol": "HttpsOnly",
    "supportedProtocols": ["Http", "Https"],
    "httpsRedirect": "Enabled",
    "linkToDefaultDomain": "Disabled",
    "customDomains": [{"id": arm_id("Microsoft.Cdn", "profiles/afd/customDomains", "www")}],
}
DOMAIN_ID = arm_id("Microsoft.Cdn", "profiles/afd/customDomains", "www")


def _waf_on(domain_id: str) -> ResourceRecord:
    return record(
        SECURITY,
        "afd-waf",
        {
            "parameters": {
                "type": "WebApplicationFirewall",
                "wafPolicy": {"id": "/waf"},
                "associations": [{"domains": [{"id": domain_id}], "patternsToMatch": ["/*"]}],
            }
        },
    )


def _front_door(route: Mapping[str, Any], waf_domain: str) -> list[ResourceRecord]:
    return [
        record(ENDPOINT, "afd-endpoint", {"endpointName": "fde-plat-prod"}),
        record(DOMAIN, "afd-www", {"customDomainName": "www", "hostName": "www.example.com"}),
        record(ROUTE, "afd-route", route),
        _waf_on(waf_domain),
    ]


FRONT_DOOR = [
    *cases(
        "frontdoor-waf-managed-rules",
        WAF,
        WAF_PROPS,
        {**WAF_PROPS, "managedRules": {"managedRuleSets": []}},
        {k: v for k, v in WAF_PROPS.items() if k != "managedRules"},
        {**WAF_PROPS, "managedRules": {"managedRuleSets": UNKNOWN_STRING}},
    ),
    Fixture(
        "frontdoor-waf-managed-rules",
        "violating",
        "violation",
        one(
            WAF,
            {
                **WAF_PROPS,
                "policySettings": {**WAF_PROPS["policySettings"], "requestBodyCheck": "Disabled"},
            },
        ),  # type: ignore[dict-item]
        note="body-inspection-off",
    ),
    Fixture(
        "frontdoor-waf-managed-rules",
        "violating",
        "violation",
        one(
            WAF,
            {
                **WAF_PROPS,
                "customRules": {
                    "rules": [
                        {
                            "name": "allowall",
                            "action": "Allow",
                            "priority": 1,
                            "ruleType": "MatchRule",
                            "matchConditions": [
                                {"matchVariable": "RemoteAddr", "operator": "Any", "matchValue": []}
                            ],
                        }
                    ]
                },
            },
        ),
        note="allow-all-custom-rule",
    ),
    Fixture(
        "frontdoor-waf-managed-rules",
        "violating",
        "violation",
        one(WAF, {**WAF_PROPS, "sku": {"name": "Standard_AzureFrontDoor"}}),
        environment="staging",
        note="standard-sku",
    ),
    Fixture(
        "frontdoor-waf-managed-rules",
        "compliant",
        "pass",
        one(WAF, {**WAF_PROPS, "sku": {"name": "Standard_AzureFrontDoor"}}),
        environment="dev",
        note="standard-sku",
    ),
    Fixture(
        "frontdoor-waf-mode",
        "violating",
        "violation",
        one(WAF, {**WAF_PROPS, "policySettings": {"enabledState": "Enabled", "mode": "Detection"}}),
        environment="prod",
        note="log-only",
    ),
    *cases(
        "frontdoor-route-https",
        ROUTE,
        ROUTE_PROPS,
        {**ROUTE_PROPS, "forwardingProtocol": "MatchRequest"},
        {k: v for k, v in ROUTE_PROPS.items() if k != "httpsRedirect"},
        {**ROUTE_PROPS, "forwardingProtocol": UNKNOWN_STRING},
    ),
    *cases(
        "frontdoor-custom-domain-tls",
        DOMAIN,
        {
            "customDomainName": "www",
            "tlsSettings": {"certificateType": "ManagedCertificate", "minimumTlsVersion": "TLS12"},
        },
        {
            "customDomainName": "www",
            "tlsSettings": {"certificateType": "ManagedCertificate", "minimumTlsVersion": "TLS10"},
        },
        {"customDomainName": "www", "tlsSettings": {"certificateType": "ManagedCertificate"}},
        {"customDomainName": "www", "tlsSettings": {"minimumTlsVersion": UNKNOWN_STRING}},
    ),
    Fixture(
        "frontdoor-endpoint-waf",
        "compliant",
        "pass",
        _front_door(ROUTE_PROPS, DOMAIN_ID),
        note="waf-on-the-custom-domain",
    ),
    Fixture(
        "frontdoor-endpoint-waf",
        "violating",
        "violation",
        _front_door({**ROUTE_PROPS, "linkToDefaultDomain": "Enabled"}, DOMAIN_ID),
        note="default-domain-still-open",
    ),
    Fixture(
        "frontdoor-endpoint-waf",
        "missing",
        "violation",
        _front_door(ROUTE_PROPS, "/other")[:3],
    ),
    Fixture(
        "frontdoor-endpoint-waf",
        "unknown",
        "unknown",
        _front_door({**ROUTE_PROPS, "customDomains": UNKNOWN_STRING}, DOMAIN_ID),
    ),
]

# ---- Frontend: the SPA behind Front Door ---------------------------------------------------

SITE = "azure-native:web:StaticSite"
PROFILE = "azure-native:cdn:Profile"
ORIGIN = "azure-native:cdn:AFDOrigin"
SITE_PROPS = {"name": "stapp-plat-prod-wus2", "sku": {"name": "Standard", "tier": "Standard"}}
ORIGIN_PROPS = {
    "originName": "static-web-app",
    "hostName": "gentle-sea-0a1b2c3d4.5.azurestaticapps.net",
    "enforceCertificateNameCheck": True,
}
WAF_ID = arm_id("Microsoft.Network", "frontdoorWebApplicationFirewallPolicies", "wafplatprod")


def _behind(
    site: Mapping[str, Any], *, linked: bool = True, host: Any = None
) -> list[ResourceRecord]:
    site_record = record(SITE, "frontend-swa", site)
    origin = record(
        ORIGIN,
        "frontend-afd-origin",
        {**ORIGIN_PROPS, **({"hostName": host} if host is not None else {})},
        property_dependencies={"hostName": (site_record.urn,)} if linked else None,
    )
    return [
        record(PROFILE, "frontend-afd", {"profileName": "afd-plat-prod-wus2"}),
        site_record,
        origin,
    ]


def _attached(mode: Any, waf_id: Any = WAF_ID) -> list[ResourceRecord]:
    waf = record(
        WAF,
        "security-waf",
        {"policyName": "wafplatprod", "policySettings": {"enabledState": "Enabled", "mode": mode}},
    )
    policy = record(
        SECURITY,
        "frontend-afd-waf",
        {
            "parameters": {
                "type": "WebApplicationFirewall",
                "wafPolicy": {"id": waf_id},
                "associations": [{"domains": [{"id": "/e"}], "patternsToMatch": ["/*"]}],
            }
        },
        property_dependencies={"parameters": (waf.urn,)},
    )
    return [waf, policy]


FRONTEND = [
    Fixture("static-web-app-behind-front-door", "compliant", "pass", _behind(SITE_PROPS)),
    Fixture(
        "static-web-app-behind-front-door",
        "compliant",
        "pass",
        [record(SITE, "frontend-swa", {**SITE_PROPS, "sku": {"name": "Free"}})],
        environment="dev",
        note="no-front-door-in-the-stack",
    ),
    Fixture(
        "static-web-app-behind-front-door",
        "violating",
        "violation",
        _behind({**SITE_PROPS, "sku": {"name": "Free", "tier": "Free"}}),
        note="free-plan-ignores-the-fdid-lock",
    ),
    Fixture(
        "static-web-app-behind-front-door",
        "violating",
        "violation",
        _behind(SITE_PROPS, linked=False),
        note="not-an-origin",
    ),
    Fixture(
        "static-web-app-behind-front-door",
        "missing",
        "violation",
        _behind({"name": "stapp-plat-prod-wus2"}),
        note="sku-not-set",
    ),
    Fixture(
        "static-web-app-behind-front-door",
        "unknown",
        "unknown",
        _behind(SITE_PROPS, linked=False, host=UNKNOWN_STRING),
    ),
    Fixture("frontdoor-attached-waf-prevention", "compliant", "pass", _attached("Prevention")),
    Fixture(
        "frontdoor-attached-waf-prevention",
        "compliant",
        "pass",
        _attached("Detection"),
        environment="dev",
        note="detection-allowed-in-dev",
    ),
    Fixture(
        "frontdoor-attached-waf-prevention",
        "violating",
        "violation",
        _attached("Detection"),
        environment="staging",
    ),
    Fixture(
        "frontdoor-attached-waf-prevention",
        "missing",
        "violation",
        _attached(
            "Prevention",
            waf_id="/subscriptions/x/providers/Microsoft.Network/frontdoorWebApplicationFirewallPolicies/elsewhere",
        )[1:],
        note="waf-policy-not-in-the-stack",
    ),
    Fixture("frontdoor-attached-waf-prevention", "unknown", "unknown", _attached(UNKNOWN_STRING)),
    *cases(
        "frontdoor-origin-certificate-check",
        ORIGIN,
        ORIGIN_PROPS,
        {**ORIGIN_PROPS, "enforceCertificateNameCheck": False},
        {k: v for k, v in ORIGIN_PROPS.items() if k != "enforceCertificateNameCheck"},
        {**ORIGIN_PROPS, "enforceCertificateNameCheck": UNKNOWN_BOOL},
        missing_expect="pass",
    ),
]

# ---- Container Apps ------------------------------------------------------------------------

CA = "azure-native:app:ContainerApp"
CA_PROPS = {
    "containerAppName": "ca-orders",
    "configuration": {
        "secrets": [{"name": "db", "keyVaultUrl": "https://kv/secrets/db", "identity": "/id"}]
    },
    "template": {
        "containers": [
            {
                "name": "orders",
                "env": [
                    {"name": "DB_PASSWORD", "secretRef": "db"},
                    {"name": "SERVICEBUS_NAMESPACE", "value": "sb.servicebus.windows.net"},
                ],
            }
        ]
    },
}


def _ca_env(value: Any, name: str = "PARTNER_API_KEY") -> dict[str, Any]:
    return {
        **CA_PROPS,
        "template": {"containers": [{"name": "orders", "env": [{"name": name, "value": value}]}]},
    }


CONTAINER_APPS = [
    *cases(
        "containerapp-no-inline-secrets",
        CA,
        CA_PROPS,
        {**CA_PROPS, "configuration": {"secrets": [{"name": "db", "value": "s3cr3t"}]}},
        {"containerAppName": "ca-orders"},
        _ca_env(UNKNOWN_STRING),
        missing_expect="pass",
    ),
    Fixture(
        "containerapp-no-inline-secrets",
        "violating",
        "violation",
        one(CA, _ca_env("s3cr3t")),
        note="env-var",
    ),
    # Argon2id's cost parameters are public (every hash carries them); a password is not.
    Fixture(
        "containerapp-no-inline-secrets",
        "compliant",
        "pass",
        one(CA, _ca_env("19456", "PASSWORD_HASH_MEMORY_KIB")),
        note="hash-cost",
    ),
    Fixture(
        "containerapp-no-inline-secrets",
        "violating",
        "violation",
        one(CA, _ca_env("hunter2hunter2", "ADMIN_PASSWORD_HASH")),
        note="password-hash",
    ),
]

CAE = "azure-native:app:ManagedEnvironment"
CA_SUBNET = arm_id("Microsoft.Network", "virtualNetworks", "vnet-plat-prod-wus2") + (
    "/subnets/snet-plat-app-prod-wus2"
)
CAE_PROPS = {
    "environmentName": "cae-plat-prod-wus2",
    "vnetConfiguration": {"infrastructureSubnetId": CA_SUBNET, "internal": True},
    "appLogsConfiguration": {"destination": "azure-monitor"},
    "workloadProfiles": [{"name": "Consumption", "workloadProfileType": "Consumption"}],
}
CA_INGRESS = {
    "external": True,
    "allowInsecure": False,
    "targetPort": 8000,
    "ipSecurityRestrictions": [
        {"name": "allow-gateway", "action": "Allow", "ipAddressRange": "10.2.0.0/24"},
        {"name": "allow-functions", "action": "Allow", "ipAddressRange": "10.2.2.0/24"},
    ],
    "traffic": [{"latestRevision": True, "weight": 100}],
}
PROBED = [
    {"type": kind, "httpGet": {"path": path, "port": 8000}}
    for kind, path in (
        ("Startup", "/health/live"),
        ("Liveness", "/health/live"),
        ("Readiness", "/health/ready"),
    )
]
CA_SERVICE = {
    "containerAppName": "ca-plat-orders-prod-wus2",
    "configuration": {"activeRevisionsMode": "Multiple", "ingress": CA_INGRESS},
    "template": {
        "containers": [
            {"name": "orders", "image": "crplat.azurecr.io/orders@sha256:ab", "probes": PROBED}
        ]
    },
}


def _ca(**configuration: Any) -> dict[str, Any]:
    return {**CA_SERVICE, "configuration": {**CA_SERVICE["configuration"], **configuration}}


def _ca_ingress(**ingress: Any) -> dict[str, Any]:
    return _ca(ingress={**CA_INGRESS, **ingress})


def _ca_container(**container: Any) -> dict[str, Any]:
    base = CA_SERVICE["template"]["containers"][0]  # type: ignore[index]
    return {**CA_SERVICE, "template": {"containers": [{**base, **container}]}}


def _cae(**props: Any) -> dict[str, Any]:
    return {**CAE_PROPS, **props}


CONTAINER_APP_SERVICES = [
    *cases(
        "containerapp-internal-ingress",
        CA,
        CA_SERVICE,
        # external, and one range is public: the Internet could come in.
        _ca_ingress(
            ipSecurityRestrictions=[
                {"name": "any", "action": "Allow", "ipAddressRange": "20.1.2.0/24"}
            ]
        ),
        _ca_ingress(ipSecurityRestrictions=None),
        _ca_ingress(
            ipSecurityRestrictions=[
                {"name": "gw", "action": "Allow", "ipAddressRange": UNKNOWN_STRING}
            ]
        ),
    ),
    *cases(
        "containerapp-ingress-ip-restrictions",
        CA,
        CA_SERVICE,
        _ca_ingress(
            ipSecurityRestrictions=[
                {"name": "block", "action": "Deny", "ipAddressRange": "20.1.2.0/24"}
            ]
        ),
        _ca_ingress(ipSecurityRestrictions=None),
        _ca_ingress(
            ipSecurityRestrictions=[
                {"name": "gw", "action": UNKNOWN_STRING, "ipAddressRange": "10.2.0.0/24"}
            ]
        ),
    ),
    Fixture(
        "containerapp-ingress-ip-restrictions",
        "violating",
        "violation",
        one(
            CA,
            _ca_ingress(
                ipSecurityRestrictions=[
                    {"name": "all", "action": "Allow", "ipAddressRange": "0.0.0.0/0"}
                ]
            ),
        ),
        note="everything",
    ),
    *cases(
        "containerapp-health-probes",
        CA,
        CA_SERVICE,
        _ca_container(probes=PROBED[1:]),  # no startup probe
        _ca_container(probes=None),
        _ca_container(probes=UNKNOWN_STRING),
    ),
    Fixture(
        "containerapp-health-probes",
        "compliant",
        "pass",
        one(CA, _ca_container(image="mcr.microsoft.com/k8se/quickstart:latest", probes=None)),
        note="bootstrap-image",
    ),
    *cases(
        "containerapp-revision-mode",
        CA,
        CA_SERVICE,
        _ca(activeRevisionsMode="Single"),
        _ca(activeRevisionsMode=None),
        _ca(activeRevisionsMode=UNKNOWN_STRING),
    ),
    Fixture(
        "containerapp-revision-mode",
        "violating",
        "violation",
        one(
            CA,
            _ca_ingress(
                traffic=[
                    {"revisionName": "ca-orders--v1", "weight": 20},
                    {"latestRevision": True, "weight": 70},
                ]
            ),
        ),
        note="weights-not-100",
    ),
    *cases(
        "containerapp-environment-internal",
        CAE,
        CAE_PROPS,
        _cae(vnetConfiguration={"infrastructureSubnetId": CA_SUBNET, "internal": False}),
        _cae(vnetConfiguration=None),
        _cae(vnetConfiguration={"infrastructureSubnetId": CA_SUBNET, "internal": UNKNOWN_BOOL}),
    ),
    *cases(
        "containerapp-environment-logs",
        CAE,
        CAE_PROPS,
        _cae(
            appLogsConfiguration={
                "destination": "log-analytics",
                "logAnalyticsConfiguration": {"customerId": "c", "sharedKey": "k3y"},
            }
        ),
        _cae(appLogsConfiguration=None),
        _cae(appLogsConfiguration={"destination": UNKNOWN_STRING}),
    ),
]

SB_PREMIUM = {"sku": {"name": "Premium", "tier": "Premium", "capacity": 1}}
GEO = {
    "locations": [
        {"locationName": "westus2", "roleType": "Primary"},
        {"locationName": "westcentralus", "roleType": "Secondary"},
    ],
    "maxReplicationLagDurationInSeconds": 300,
}
FOG = "azure-native:sql:FailoverGroup"
DB_ID = arm_id("Microsoft.Sql", "servers", "sql-plat-prod-wus2-abc123/databases/sqldb-app")
FOG_PROPS = {
    "databases": [DB_ID],
    "partnerServers": [{"id": arm_id("Microsoft.Sql", "servers", "sql-plat-prod-wcus-abc123")}],
    "readWriteEndpoint": {
        "failoverPolicy": "Automatic",
        "failoverWithDataLossGracePeriodMinutes": 60,
    },
}
ACR = "azure-native:containerregistry:Registry"
REPLICA = "azure-native:containerregistry:Replication"
SQLDB = "azure-native:sql:Database"


def _copies(
    replica_of: Any = "acrplatprodwus2abc123", grouped: Any = (DB_ID,)
) -> list[ResourceRecord]:
    return [
        record(ACR, "registry-acr", {"registryName": "acrplatprodwus2abc123"}),
        record(REPLICA, "registry-acr-replica", {"registryName": replica_of}),
        record(SQLDB, "database-sqldb", {"databaseName": "sqldb-app"}, id_=DB_ID),
        record(FOG, "database-fog", {**FOG_PROPS, "databases": grouped}),
    ]


RECOVERY = [
    *cases(
        "servicebus-geo-replicated",
        SB,
        {**SB_PREMIUM, "geoDataReplication": GEO},
        {
            **SB_PREMIUM,
            "geoDataReplication": {
                "locations": [{"locationName": "westus2", "roleType": "Primary"}]
            },
        },
        SB_PREMIUM,
        {**SB_PREMIUM, "geoDataReplication": {"locations": UNKNOWN_STRING}},
    ),
    Fixture(
        "servicebus-geo-replicated",
        "missing",
        "pass",
        one(SB, SB_PREMIUM),
        environment="staging",
    ),
    Fixture(
        "servicebus-geo-replicated",
        "compliant",
        "pass",
        one(SB, {"sku": {"name": "Standard", "tier": "Standard"}}),
        note="standard-has-no-replication",
    ),
    *cases(
        "sql-failover-group-complete",
        FOG,
        FOG_PROPS,
        _with(FOG_PROPS, readWriteEndpoint={"failoverPolicy": "Manual"}),
        _with(FOG_PROPS, databases=_DROP),
        _with(FOG_PROPS, partnerServers=UNKNOWN_STRING),
    ),
    *cases(
        "acr-replica-endpoint-enabled",
        REPLICA,
        {"regionEndpointEnabled": True, "location": "westcentralus"},
        {"regionEndpointEnabled": False, "location": "westcentralus"},
        {"location": "westcentralus"},
        {"regionEndpointEnabled": UNKNOWN_BOOL},
        missing_expect="pass",
    ),
    Fixture("prod-cross-region-copies", "compliant", "pass", _copies()),
    Fixture(
        "prod-cross-region-copies", "violating", "violation", _copies(replica_of="otherregistry")
    ),
    Fixture("prod-cross-region-copies", "missing", "violation", _copies(grouped=[])),
    Fixture("prod-cross-region-copies", "unknown", "unknown", _copies(replica_of=UNKNOWN_STRING)),
    Fixture(
        "prod-cross-region-copies",
        "missing",
        "pass",
        _copies(replica_of="other", grouped=[]),
        environment="staging",
    ),
]

FIXTURES: tuple[Fixture, ...] = (
    *RBAC,
    *DIAGNOSTICS,
    *SECRETS,
    *SQL_FIXTURES,
    *STORAGE,
    *AUDIT_FIXTURES,
    *PUBLIC,
    *WEB,
    *NETWORK,
    *APIM_FIXTURES,
    *FRONT_DOOR,
    *FRONTEND,
    *CONTAINER_APPS,
    *CONTAINER_APP_SERVICES,
    *RECOVERY,
)

# Rules this issue added or changed; each must have all four kinds of fixture.
REQUIRED_RULES = frozenset(
    {
        "rbac-no-privileged-workload-roles",
        "rbac-narrow-scope",
        "rbac-groups-not-users",
        "diagnostic-settings-required",
        "appinsights-workspace-based",
        "appinsights-local-auth-disabled",
        "keyvault-secret-key-expiry",
        "keyvault-secret-content-type",
        "keyvault-key-rotation",
        "sql-entra-only-auth",
        "sql-firewall-rules-narrow",
        "storage-container-private",
        "storage-soft-delete-days",
        "public-access-default-deny",
        "cosmos-public-access-firewall",
        "servicebus-network-rule-set",
        "cosmos-min-tls",
        "cosmos-metadata-write-entra-only",
        "web-min-tls",
        "web-settings-no-keys",
        "web-vnet-integration",
        "web-basic-auth-publishing-disabled",
        "nsg-outbound-restricted",
        "subnet-nsg-required",
        "firewall-threat-intel-deny",
        "firewall-no-any-to-any",
        "firewall-uses-policy",
        "acr-no-anonymous-pull",
        "apim-backend-https",
        "apim-named-values-key-vault",
        "apim-api-subscription-required",
        "apim-subscription-scoped",
        "apim-product-closed",
        "apim-cors-no-wildcard",
        "apim-legacy-protocols-disabled",
        "frontdoor-waf-managed-rules",
        "frontdoor-route-https",
        "frontdoor-custom-domain-tls",
        "frontdoor-endpoint-waf",
        "containerapp-no-inline-secrets",
        "containerapp-internal-ingress",
        "containerapp-ingress-ip-restrictions",
        "containerapp-health-probes",
        "containerapp-revision-mode",
        "containerapp-environment-internal",
        "containerapp-environment-logs",
        "servicebus-geo-replicated",
        "sql-failover-group-complete",
        "acr-replica-endpoint-enabled",
        "prod-cross-region-copies",
        "static-web-app-behind-front-door",
        "frontdoor-attached-waf-prevention",
        "frontdoor-origin-certificate-check",
        "audit-store-immutable",
    }
)

__all__ = ["FIXTURES", "REQUIRED_RULES", "Fixture", "urn"]
