"""Stack rules over plain records: linked by known ids, by dependencies in preview, or missing."""

from __future__ import annotations

import pytest

from policies.core import RuleContext
from policies.rules import frontdoor, sql, stack, storage
from tests.policies.builders import UNKNOWN_STRING, arm_id, record, urn

PROD = RuleContext("prod")
DEV = RuleContext("dev")

VAULT = record(stack.PRIVATE_LINK_TYPES[2], "vault", {"vaultName": "kv-plat-prod-wus2-abc123"})
VAULT_ID = arm_id("Microsoft.KeyVault", "vaults", "kv-plat-prod-wus2-abc123")


def _endpoint(target: str, **kwargs: object) -> object:
    return record(
        stack.PRIVATE_ENDPOINT,
        "vault-pep",
        {
            "privateLinkServiceConnections": [
                {"name": "vault", "privateLinkServiceId": target, "groupIds": ["vault"]}
            ]
        },
        **kwargs,  # type: ignore[arg-type]
    )


# ---- private endpoints -----------------------------------------------------------------


def test_private_endpoint_with_known_id_links_the_service() -> None:
    assert stack.private_endpoints([VAULT, _endpoint(VAULT_ID)], PROD) == []  # type: ignore[list-item]


def test_service_without_private_endpoint_in_prod() -> None:
    [finding] = stack.private_endpoints([VAULT], PROD)
    assert finding.urn == VAULT.urn
    assert not finding.unknown


def test_private_endpoint_to_another_service_does_not_count() -> None:
    other = arm_id("Microsoft.KeyVault", "vaults", "kv-other")
    [finding] = stack.private_endpoints([VAULT, _endpoint(other)], PROD)  # type: ignore[list-item]
    assert not finding.unknown


def test_private_endpoints_not_required_in_dev() -> None:
    assert stack.private_endpoints([VAULT], DEV) == []


def test_unknown_id_linked_by_property_dependency() -> None:
    pe = _endpoint(
        UNKNOWN_STRING, property_dependencies={"privateLinkServiceConnections": (VAULT.urn,)}
    )
    assert stack.private_endpoints([VAULT, pe], PROD) == []  # type: ignore[list-item]


def test_unknown_id_without_dependency_cannot_tell_yet() -> None:
    pe = _endpoint(UNKNOWN_STRING, dependencies=(urn("azure-native:network:Subnet", "snet"),))
    [finding] = stack.private_endpoints([VAULT, pe], PROD)  # type: ignore[list-item]
    assert finding.unknown


def test_missing_connection_list_is_a_violation() -> None:
    pe = record(stack.PRIVATE_ENDPOINT, "pe", {"subnet": {"id": "x"}})
    [finding] = stack.private_endpoints([VAULT, pe], PROD)
    assert not finding.unknown


# ---- diagnostic settings ---------------------------------------------------------------


def _setting(resource_uri: str, workspace: str | None = "/ws", **kwargs: object) -> object:
    props: dict[str, object] = {
        "resourceUri": resource_uri,
        "name": "send-to-log-analytics",
        "logs": [{"categoryGroup": "allLogs", "enabled": True}],
    }
    if workspace is not None:
        props["workspaceId"] = workspace
    return record(stack.DIAGNOSTIC_SETTING, "vault-diag", props, **kwargs)  # type: ignore[arg-type]


def test_diagnostic_setting_to_workspace() -> None:
    assert stack.diagnostic_settings([VAULT, _setting(VAULT_ID)], PROD) == []  # type: ignore[list-item]


def test_resource_without_diagnostic_setting() -> None:
    [finding] = stack.diagnostic_settings([VAULT], DEV)
    assert "DiagnosticSetting" in finding.message


def test_diagnostic_setting_without_workspace() -> None:
    [finding] = stack.diagnostic_settings([VAULT, _setting(VAULT_ID, workspace=None)], PROD)  # type: ignore[list-item]
    assert "workspaceId" in finding.message


def test_diagnostic_setting_in_preview() -> None:
    linked = _setting(
        UNKNOWN_STRING, UNKNOWN_STRING, property_dependencies={"resourceUri": (VAULT.urn,)}
    )
    assert stack.diagnostic_settings([VAULT, linked], PROD) == []  # type: ignore[list-item]
    unlinked = _setting(UNKNOWN_STRING)
    [finding] = stack.diagnostic_settings([VAULT, unlinked], PROD)  # type: ignore[list-item]
    assert finding.unknown


def test_workspace_dependency_does_not_count_as_coverage() -> None:
    """Depending on a resource through another property (workspaceId) does not cover it."""
    other = record(
        "azure-native:network:NetworkSecurityGroup", "nsg", {"networkSecurityGroupName": "nsg-a"}
    )
    setting = _setting(VAULT_ID, dependencies=(VAULT.urn, other.urn))
    findings = stack.diagnostic_settings([VAULT, other, setting], PROD)  # type: ignore[list-item]
    assert [f.urn for f in findings] == [other.urn]


def test_diagnostic_setting_without_enabled_logs() -> None:
    setting = record(
        stack.DIAGNOSTIC_SETTING,
        "vault-diag",
        {
            "resourceUri": VAULT_ID,
            "workspaceId": "/ws",
            "logs": [{"categoryGroup": "allLogs", "enabled": False}],
            "metrics": [{"category": "AllMetrics", "enabled": True}],
        },
    )
    [finding] = stack.diagnostic_settings([VAULT, setting], PROD)
    assert "enables no log" in finding.message
    assert not finding.unknown


def test_storage_accounts_need_metrics_not_logs() -> None:
    account = record(stack.PRIVATE_LINK_TYPES[3], "st", {"accountName": "stplatprod"})
    uri = arm_id("Microsoft.Storage", "storageAccounts", "stplatprod")
    metrics = record(
        stack.DIAGNOSTIC_SETTING,
        "st-diag",
        {
            "resourceUri": uri,
            "workspaceId": "/ws",
            "metrics": [{"category": "Transaction", "enabled": True}],
        },
    )
    assert stack.diagnostic_settings([account, metrics], PROD) == []
    empty = record(stack.DIAGNOSTIC_SETTING, "st-diag", {"resourceUri": uri, "workspaceId": "/ws"})
    [finding] = stack.diagnostic_settings([account, empty], PROD)
    assert "enables no metric" in finding.message


def test_unknown_log_entries_cannot_tell_yet() -> None:
    setting = record(
        stack.DIAGNOSTIC_SETTING,
        "vault-diag",
        {"resourceUri": VAULT_ID, "workspaceId": "/ws", "logs": UNKNOWN_STRING},
    )
    [finding] = stack.diagnostic_settings([VAULT, setting], PROD)
    assert finding.unknown


# ---- protected prod data ---------------------------------------------------------------


def test_prod_data_must_be_protected() -> None:
    db = record("azure-native:sql:Database", "db", {"databaseName": "sqldb-orders"})
    protected = record("azure-native:sql:Database", "db2", protect=True)
    [finding] = stack.protected_prod_data([db, protected], PROD)
    assert finding.urn == db.urn
    assert stack.protected_prod_data([db], RuleContext("staging")) == []


# ---- SQL auditing ----------------------------------------------------------------------

SERVER = record(sql.SERVER, "sql", {"serverName": "sql-plat-prod-wus2-abc123"})


@pytest.mark.parametrize("policy_type", sql.AUDITING)
def test_sql_server_with_auditing(policy_type: str) -> None:
    policy = record(
        policy_type, "audit", {"serverName": "sql-plat-prod-wus2-abc123", "state": "Enabled"}
    )
    assert sql.auditing_enabled([SERVER, policy], PROD) == []


def test_sql_server_without_auditing() -> None:
    [finding] = sql.auditing_enabled([SERVER], DEV)
    assert finding.urn == SERVER.urn


def test_sql_auditing_disabled() -> None:
    policy = record(
        sql.AUDITING[0], "audit", {"serverName": "sql-plat-prod-wus2-abc123", "state": "Disabled"}
    )
    [finding] = sql.auditing_enabled([SERVER, policy], PROD)
    assert "Enabled" in finding.message


def test_sql_auditing_state_unset_is_a_violation() -> None:
    policy = record(sql.AUDITING[0], "audit", {"serverName": "sql-plat-prod-wus2-abc123"})
    assert not sql.auditing_enabled([SERVER, policy], PROD)[0].unknown


def test_sql_auditing_in_preview() -> None:
    server = record(sql.SERVER, "sql", {"serverName": UNKNOWN_STRING})
    linked = record(
        sql.AUDITING[0],
        "audit",
        {"serverName": UNKNOWN_STRING, "state": "Enabled"},
        dependencies=(server.urn,),
    )
    assert sql.auditing_enabled([server, linked], PROD) == []
    unlinked = record(sql.AUDITING[0], "audit", {"serverName": UNKNOWN_STRING, "state": "Enabled"})
    [finding] = sql.auditing_enabled([server, unlinked], PROD)
    assert finding.unknown


# ---- storage soft delete ---------------------------------------------------------------

ACCOUNT = record(storage.ACCOUNT, "st", {"accountName": "stplatprodwus2abc123"})


def test_blob_soft_delete_enabled() -> None:
    service = record(
        storage.BLOB_SERVICE,
        "blob",
        {
            "accountName": "stplatprodwus2abc123",
            "deleteRetentionPolicy": {"enabled": True, "days": 7.0},
        },
    )
    assert storage.blob_soft_delete([ACCOUNT, service], PROD) == []


def test_blob_soft_delete_disabled_or_unset() -> None:
    off = record(
        storage.BLOB_SERVICE,
        "blob",
        {"accountName": "stplatprodwus2abc123", "deleteRetentionPolicy": {"enabled": False}},
    )
    [finding] = storage.blob_soft_delete([ACCOUNT, off], PROD)
    assert finding.urn == off.urn
    unset = record(storage.BLOB_SERVICE, "blob", {"accountName": "stplatprodwus2abc123"})
    assert "not set" in storage.blob_soft_delete([ACCOUNT, unset], PROD)[0].message


def test_account_without_blob_service_properties() -> None:
    [finding] = storage.blob_soft_delete([ACCOUNT], PROD)
    assert finding.urn == ACCOUNT.urn


def test_blob_soft_delete_unknown() -> None:
    service = record(
        storage.BLOB_SERVICE,
        "blob",
        {
            "accountName": "stplatprodwus2abc123",
            "deleteRetentionPolicy": {"enabled": "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"},
        },
    )
    [finding] = storage.blob_soft_delete([ACCOUNT, service], PROD)
    assert finding.unknown


# ---- Front Door WAF --------------------------------------------------------------------

ENDPOINT = record(frontdoor.ENDPOINT, "fde", {"endpointName": "fde-plat-prod-abc123"})
ENDPOINT_ID = arm_id("Microsoft.Cdn", "profiles/afd-plat-prod/afdEndpoints", "fde-plat-prod-abc123")


def _security_policy(
    domain_id: str, kind: str = "WebApplicationFirewall", **kwargs: object
) -> object:
    return record(
        frontdoor.SECURITY_POLICY,
        "waf-link",
        {
            "parameters": {
                "type": kind,
                "wafPolicy": {
                    "id": "/subscriptions/s/.../frontDoorWebApplicationFirewallPolicies/wafplat"
                },
                "associations": [{"domains": [{"id": domain_id}], "patternsToMatch": ["/*"]}],
            }
        },
        **kwargs,  # type: ignore[arg-type]
    )


def test_endpoint_behind_waf() -> None:
    assert frontdoor.endpoints_have_waf([ENDPOINT, _security_policy(ENDPOINT_ID)], PROD) == []  # type: ignore[list-item]


def test_endpoint_without_waf() -> None:
    [finding] = frontdoor.endpoints_have_waf([ENDPOINT], DEV)
    assert finding.urn == ENDPOINT.urn


def test_security_policy_of_another_kind_does_not_count() -> None:
    policy = _security_policy(ENDPOINT_ID, kind="Other")
    [finding] = frontdoor.endpoints_have_waf([ENDPOINT, policy], PROD)  # type: ignore[list-item]
    assert not finding.unknown


def test_endpoint_waf_in_preview() -> None:
    linked = _security_policy(UNKNOWN_STRING, property_dependencies={"parameters": (ENDPOINT.urn,)})
    assert frontdoor.endpoints_have_waf([ENDPOINT, linked], PROD) == []  # type: ignore[list-item]
    [finding] = frontdoor.endpoints_have_waf([ENDPOINT, _security_policy(UNKNOWN_STRING)], PROD)  # type: ignore[list-item]
    assert finding.unknown
