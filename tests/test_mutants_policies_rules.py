"""Boundaries and secondary branches of the policy rules that the rule fixtures leave open
(surviving mutants of policies/rules/ other than network.py)."""

from __future__ import annotations

from policies.core import Finding, normalize
from policies.rules import common, frontdoor, keyvault, network_defaults, sql, storage, web
from tests.policies.builders import TAGS, UNKNOWN_STRING, ctx, record

STORAGE = "azure-native:storage:StorageAccount"


def _messages(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings if not f.unknown]


def test_a_name_of_exactly_the_minimum_length_is_allowed() -> None:
    """Storage accounts: 3-24 characters (NAMING_RULES); `st1` is the shortest valid name."""
    check = common.caf_name
    assert check(normalize({"accountName": "st1"}), ctx(resource_type=STORAGE)) == []
    assert _messages(check(normalize({"accountName": "st"}), ctx(resource_type=STORAGE)))


def test_reserved_subnet_names_are_exempt_only_on_subnets() -> None:
    """`GatewaySubnet` is a fixed name for a subnet, not a licence for a storage account."""
    props = normalize({"accountName": "GatewaySubnet"})
    assert _messages(common.caf_name(props, ctx(resource_type=STORAGE)))


def test_expiry_message_tells_missing_from_invalid() -> None:
    missing = keyvault.expiry(normalize({"properties": {"attributes": {}}}), ctx())
    assert "expires is not set;" in missing[0].message
    bad = keyvault.expiry(normalize({"properties": {"attributes": {"expires": "soon"}}}), ctx())
    assert "expires = 'soon';" in bad[0].message


def test_firewall_rule_size_counts_both_ends() -> None:
    """10.0.0.0-10.0.1.255 is 512 addresses, and two addresses are over a limit of one."""
    props = normalize({"startIpAddress": "10.0.0.0", "endIpAddress": "10.0.1.255"})
    assert "admits 512 addresses" in sql.firewall_rule(props, ctx())[0].message
    pair = normalize({"startIpAddress": "10.0.0.1", "endIpAddress": "10.0.0.2"})
    assert _messages(sql.firewall_rule(pair, ctx(maxAddresses=1)))
    assert sql.firewall_rule(pair, ctx(maxAddresses=2)) == []


def test_an_unrecognised_default_action_is_not_deny() -> None:
    props = normalize(
        {"publicNetworkAccess": "Enabled", "networkRuleSet": {"defaultAction": "Disabled"}}
    )
    assert _messages(network_defaults.default_deny(props, ctx(resource_type=STORAGE)))


def test_a_rule_set_with_unknown_name_belongs_to_the_namespace_it_depends_on() -> None:
    namespace = record(
        network_defaults.SB_NAMESPACE,
        "sb",
        {"namespaceName": "sb-plat-prod-wus2", "publicNetworkAccess": "Enabled", "tags": TAGS},
    )
    rule_set = record(
        network_defaults.SB_RULE_SET,
        "rules",
        {
            "namespaceName": UNKNOWN_STRING,
            "defaultAction": "Deny",
            "ipRules": [{"ipMask": "1.2.3.4"}],
        },
        dependencies=(namespace.urn,),
    )
    findings = network_defaults.servicebus_rule_sets([namespace, rule_set], ctx())
    assert findings == []


def test_a_blocking_custom_rule_that_matches_everything_is_fine() -> None:
    """Only an Allow rule that matches every request skips the managed rules."""
    rule = {
        "name": "blockall",
        "action": "Block",
        "matchConditions": [{"operator": "Any", "matchValue": []}],
    }
    props = normalize({"customRules": {"rules": [rule]}})
    assert frontdoor._allow_all_custom_rules(props) == []
    allow = normalize({"customRules": {"rules": [{**rule, "action": "Allow"}]}})
    assert _messages(frontdoor._allow_all_custom_rules(allow))


def test_an_allow_rule_narrowed_by_one_condition_is_not_allow_all() -> None:
    """Match conditions are ANDed: one narrow condition narrows the whole rule."""
    match_all = {"operator": "Any", "matchValue": []}
    narrow = {
        "matchVariable": "RemoteAddr",
        "operator": "IPMatch",
        "matchValue": ["203.0.113.0/24"],
    }
    rule = {"name": "partners", "action": "Allow", "matchConditions": [match_all, narrow]}
    props = normalize({"customRules": {"rules": [rule]}})
    assert frontdoor._allow_all_custom_rules(props) == []
    wide = normalize({"customRules": {"rules": [{**rule, "matchConditions": [match_all] * 2}]}})
    assert _messages(frontdoor._allow_all_custom_rules(wide))


def test_each_app_is_judged_for_vnet_integration() -> None:
    """An integrated app before another does not let the second one through."""
    joined = record(web.WEB_APP, "a", {"name": "app-a", "virtualNetworkSubnetId": "/subnets/app"})
    alone = record(web.WEB_APP, "b", {"name": "app-b"})
    findings = web.vnet_integration([joined, alone], ctx())
    assert [f.urn for f in findings if not f.unknown] == [alone.urn]
    via_connection = record(web.WEB_APP, "a", {"name": "app-a"})
    connection = record(web.SWIFT_CONNECTION, "c", {"name": "app-a", "subnetResourceId": "/s/app"})
    findings = web.vnet_integration([via_connection, alone, connection], ctx())
    assert [f.urn for f in findings if not f.unknown] == [alone.urn]


def test_a_connection_without_a_subnet_does_not_integrate_the_app() -> None:
    app = record(web.WEB_APP, "a", {"name": "app-a"})
    connection = record(web.SWIFT_CONNECTION, "c", {"name": "app-a", "subnetResourceId": ""})
    assert _messages(web.vnet_integration([app, connection], ctx()))
    linked = record(
        web.SWIFT_CONNECTION, "c", {"name": "app-a", "subnetResourceId": "/subnets/app"}
    )
    assert web.vnet_integration([app, linked], ctx()) == []


def test_a_publishing_policy_without_allow_is_a_violation() -> None:
    """Azure leaves basic-auth publishing on when `allow` is not set."""
    app = record(web.WEB_APP, "a", {"name": "app-a"})
    policies = [record(t, "p", {"name": "app-a"}) for t in web.PUBLISHING_POLICIES]
    messages = _messages(web.basic_auth_publishing([app, *policies], ctx()))
    assert len([m for m in messages if m.startswith("allow = <not set>")]) == 2


def test_default_action_messages_tell_missing_from_wrong() -> None:
    """The message says whether the default action is absent (Azure allows all) or wrong."""
    rule_set = record(network_defaults.SB_RULE_SET, "r", {"publicNetworkAccess": "Enabled"})
    assert "defaultAction is not set;" in _messages(network_defaults._rule_set_content(rule_set))[0]
    wrong = record(
        network_defaults.SB_RULE_SET,
        "r",
        {"publicNetworkAccess": "Enabled", "defaultAction": "Allow"},
    )
    assert "defaultAction = 'Allow';" in _messages(network_defaults._rule_set_content(wrong))[0]
    account = normalize({"publicNetworkAccess": "Enabled"})
    missing = _messages(network_defaults.default_deny(account, ctx(resource_type=STORAGE)))
    assert "is not set (Azure allows all)" in missing[0]


def test_soft_delete_message_tells_missing_from_switched_off() -> None:
    off = {"enabled": False, "days": 7}
    props = normalize({"deleteRetentionPolicy": off})
    messages = _messages(storage.soft_delete_days(props, ctx()))
    assert "deleteRetentionPolicy.enabled = False;" in messages[0]
    assert "containerDeleteRetentionPolicy.enabled is not set;" in messages[1]
