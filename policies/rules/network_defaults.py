"""Public endpoints: where public network access stays on (dev, qa), a firewall denies by default.

Azure's defaults are open: publicNetworkAccess Enabled with a default action of Allow. A
data service reachable publicly must at least deny everything its IP and VNet rules do not
allow. https://learn.microsoft.com/azure/storage/common/storage-network-security
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policies.core import (
    MISSING,
    UNKNOWN,
    Finding,
    ResourceRecord,
    ResourceRule,
    RuleContext,
    StackRule,
    azure_name,
    lookup,
    of_type,
    unknown,
    violation,
)

STORAGE = "azure-native:storage:StorageAccount"
VAULT = "azure-native:keyvault:Vault"
COSMOS = "azure-native:cosmosdb:DatabaseAccount"
REGISTRY = "azure-native:containerregistry:Registry"
SB_NAMESPACE = "azure-native:servicebus:Namespace"
SB_RULE_SET = "azure-native:servicebus:NamespaceNetworkRuleSet"

# type -> (publicNetworkAccess path, default action path)
DEFAULT_ACTION_PATHS: Mapping[str, tuple[str, str]] = {
    STORAGE: ("publicNetworkAccess", "networkRuleSet.defaultAction"),
    VAULT: ("properties.publicNetworkAccess", "properties.networkAcls.defaultAction"),
    REGISTRY: ("publicNetworkAccess", "networkRuleSet.defaultAction"),
}
# Anything in these ranges opens the firewall to the whole Internet.
OPEN_RANGES = frozenset({"0.0.0.0/0", "0.0.0.0", "*", "::/0"})  # noqa: S104


def _public(value: Any) -> bool | None:
    if value is UNKNOWN:
        return None
    # Unset means Enabled on every one of these services.
    return value is MISSING or str(value).lower() != "disabled"


def default_deny(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Public access off, or a default action of Deny."""
    access_path, action_path = DEFAULT_ACTION_PATHS[ctx.resource_type]
    public = _public(lookup(props, access_path))
    if public is None:
        return [unknown(access_path)]
    if not public:
        return []
    action = lookup(props, action_path)
    if action is UNKNOWN:
        return [unknown(action_path)]
    if isinstance(action, str) and action.lower() == "deny":
        return []
    shown = "is not set (Azure allows all)" if action is MISSING else f"= {action!r}"
    return [
        violation(
            f"{access_path} allows public access and {action_path} {shown}; set it to "
            '"Deny" and allow only the ranges and subnets that need it'
        )
    ]


def cosmos_firewall(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Cosmos DB has no default action: public access needs IP rules or the VNet filter."""
    public = _public(lookup(props, "publicNetworkAccess"))
    if public is None:
        return [unknown("publicNetworkAccess")]
    if not public:
        return []
    rules, vnet = lookup(props, "ipRules"), lookup(props, "isVirtualNetworkFilterEnabled")
    ranges = [lookup(r, "ipAddressOrRange") for r in rules] if isinstance(rules, list) else []
    if UNKNOWN in (rules, vnet, *ranges):
        return [unknown("ipRules / isVirtualNetworkFilterEnabled")]
    if any(str(r) in OPEN_RANGES for r in ranges):
        return [violation("ipRules admit the whole Internet (0.0.0.0/0)")]
    if ranges or vnet is True:
        return []
    return [
        violation(
            "publicNetworkAccess allows public access with no ipRules and no VNet filter, "
            "so every network may connect; add ipRules or disable public access"
        )
    ]


def servicebus_rule_sets(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """A public namespace has a network rule set that denies by default and no open range."""
    findings: list[Finding] = []
    rule_sets = of_type(resources, SB_RULE_SET)
    for rule_set in rule_sets:
        findings += [
            Finding(f.message, rule_set.urn, f.unknown) for f in _rule_set_content(rule_set)
        ]
    for namespace in of_type(resources, SB_NAMESPACE):
        public = _public(lookup(namespace.props, "publicNetworkAccess"))
        if public is None:
            findings.append(unknown("publicNetworkAccess", namespace.urn))
            continue
        if not public:
            continue
        links = [(r, _of_namespace(r, namespace)) for r in rule_sets]
        mine = [r for r, linked in links if linked]
        if not mine and any(linked is None for _, linked in links):
            findings.append(unknown("NamespaceNetworkRuleSet.namespaceName", namespace.urn))
        elif not mine:
            findings.append(
                violation(
                    "the namespace allows public access and has no servicebus:"
                    'NamespaceNetworkRuleSet with defaultAction "Deny"; any network may connect',
                    namespace.urn,
                )
            )
    return findings


def _rule_set_content(rule_set: ResourceRecord) -> list[Finding]:
    findings: list[Finding] = []
    action = lookup(rule_set.props, "defaultAction")
    public = _public(lookup(rule_set.props, "publicNetworkAccess"))
    if action is UNKNOWN or public is None:
        findings.append(unknown("defaultAction / publicNetworkAccess"))
    elif public and not (isinstance(action, str) and action.lower() == "deny"):
        shown = "is not set" if action is MISSING else f"= {action!r}"
        findings.append(violation(f'defaultAction {shown}; set it to "Deny"'))
    rules = lookup(rule_set.props, "ipRules")
    masks = [lookup(r, "ipMask") for r in rules] if isinstance(rules, list) else []
    if rules is UNKNOWN or UNKNOWN in masks:
        findings.append(unknown("ipRules"))
    elif any(str(m) in OPEN_RANGES for m in masks):
        findings.append(violation("ipRules admit the whole Internet (0.0.0.0/0)"))
    elif public and not masks:
        # Deny with neither an IP rule nor a virtual network rule is enforced as Allow.
        # https://learn.microsoft.com/azure/service-bus-messaging/service-bus-ip-filtering
        subnets = lookup(rule_set.props, "virtualNetworkRules")
        if subnets is UNKNOWN:
            findings.append(unknown("virtualNetworkRules"))
        elif not (isinstance(subnets, list) and subnets):
            findings.append(
                violation(
                    "public network access with no ipRules and no virtualNetworkRules: Azure "
                    'enforces defaultAction "Deny" only with at least one rule, so every '
                    "network may connect"
                )
            )
    return findings


def _of_namespace(rule_set: ResourceRecord, namespace: ResourceRecord) -> bool | None:
    value, name = lookup(rule_set.props, "namespaceName"), azure_name(namespace)
    if value is UNKNOWN or name is UNKNOWN:
        deps = rule_set.property_dependencies.get("namespaceName") or rule_set.dependencies
        return True if namespace.urn in deps else None
    return isinstance(value, str) and isinstance(name, str) and value.lower() == name.lower()


RULES = (
    ResourceRule(
        name="public-access-default-deny",
        description="Storage accounts, key vaults and registries that keep public network "
        "access deny by default (firewall defaultAction Deny).",
        resource_types=tuple(DEFAULT_ACTION_PATHS),
        control="CKV_AZURE_35 / CKV_AZURE_109 / CKV_AZURE_139 / MCSB NS-2",
        check=default_deny,
    ),
    ResourceRule(
        name="cosmos-public-access-firewall",
        description="Cosmos DB accounts that keep public network access restrict it with IP "
        "rules or the VNet filter, never 0.0.0.0/0.",
        resource_types=(COSMOS,),
        control="CKV_AZURE_99 / MCSB NS-2",
        check=cosmos_firewall,
    ),
    StackRule(
        name="servicebus-network-rule-set",
        description="Service Bus namespaces that keep public network access have a network "
        "rule set with defaultAction Deny and no open IP range.",
        resource_types=(SB_NAMESPACE, SB_RULE_SET),
        control="CKV_AZURE_204 / CKV_AZURE_201 / MCSB NS-2",
        check=servicebus_rule_sets,
    ),
)
