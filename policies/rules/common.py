"""Rules for every Azure resource: required tags, CAF names, allowed regions.

Taggability: a resource is checked for tags when its type is in TAGGABLE_TYPES (the types
this platform deploys whose azure-native args have an ARM `tags` map, verified against the
SDK by tests/test_policies_constants.py), or when its props carry a `tags` map anyway.
Shipping the list keeps pulumi-azure-native (hundreds of MB) out of the pack's virtualenv.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from policies.constants import ALLOWED_REGIONS, NAMING_RULES, REQUIRED_TAGS
from policies.core import (
    MISSING,
    NAME_PROPERTIES,
    UNKNOWN,
    Finding,
    ResourceRule,
    RuleContext,
    lookup,
    unknown,
    violation,
)

AZURE_NATIVE = "azure-native:"

TAGGABLE_TYPES: frozenset[str] = frozenset(
    f"{AZURE_NATIVE}{token}"
    for token in (
        "resources:ResourceGroup",
        "network:VirtualNetwork",
        "network:NetworkSecurityGroup",
        "network:NatGateway",
        "network:PublicIPAddress",
        "network:PrivateEndpoint",
        "network:DdosProtectionPlan",
        "network:AzureFirewall",
        "network:FirewallPolicy",
        "network:RouteTable",
        "privatedns:PrivateZone",
        "privatedns:VirtualNetworkLink",
        "keyvault:Vault",
        "keyvault:Secret",
        "keyvault:Key",
        "managedidentity:UserAssignedIdentity",
        "operationalinsights:Workspace",
        "applicationinsights:Component",
        "applicationinsights:Workbook",
        "monitor:ActionGroup",
        "monitor:MetricAlert",
        "monitor:ScheduledQueryRule",
        "monitor:ActivityLogAlert",
        "sql:Server",
        "sql:Database",
        "sql:FailoverGroup",
        "servicebus:Namespace",
        "storage:StorageAccount",
        "datafactory:Factory",
        "redisenterprise:RedisEnterprise",
        "cosmosdb:DatabaseAccount",
        "cosmosdb:SqlResourceSqlDatabase",
        "cosmosdb:SqlResourceSqlContainer",
        "web:WebApp",
        "web:WebAppSlot",
        "web:AppServicePlan",
        "web:StaticSite",
        "containerregistry:Registry",
        "containerregistry:Replication",
        "app:ManagedEnvironment",
        "app:ContainerApp",
        "apimanagement:ApiManagementService",
        "cdn:Profile",
        "cdn:AFDEndpoint",
        "frontdoor:Policy",
        "dns:Zone",
    )
)
# Types whose `tags` input is not the ARM tag map (API Management named values take a list).
NOT_ARM_TAGS: frozenset[str] = frozenset({f"{AZURE_NATIVE}apimanagement:NamedValue"})

# azure-native type -> the naming.py kind whose CAF abbreviation its name starts with.
NAMING_KINDS: Mapping[str, str] = {
    f"{AZURE_NATIVE}{token}": kind
    for token, kind in (
        ("resources:ResourceGroup", "resource_group"),
        ("network:VirtualNetwork", "virtual_network"),
        ("network:Subnet", "subnet"),
        ("network:NetworkSecurityGroup", "network_security_group"),
        ("network:NatGateway", "nat_gateway"),
        ("network:PublicIPAddress", "public_ip"),
        ("network:PrivateEndpoint", "private_endpoint"),
        ("network:DdosProtectionPlan", "ddos_plan"),
        ("network:AzureFirewall", "firewall"),
        ("network:FirewallPolicy", "firewall_policy"),
        ("network:RouteTable", "route_table"),
        ("keyvault:Vault", "key_vault"),
        ("managedidentity:UserAssignedIdentity", "managed_identity"),
        ("operationalinsights:Workspace", "log_analytics"),
        ("applicationinsights:Component", "app_insights"),
        ("monitor:ActionGroup", "action_group"),
        ("sql:Server", "sql_server"),
        ("sql:Database", "sql_database"),
        ("servicebus:Namespace", "service_bus"),
        ("storage:StorageAccount", "storage_account"),
        ("datafactory:Factory", "data_factory"),
        ("redisenterprise:RedisEnterprise", "redis"),
        ("cosmosdb:DatabaseAccount", "cosmos_account"),
        ("web:AppServicePlan", "app_service_plan"),
        ("containerregistry:Registry", "container_registry"),
        ("app:ManagedEnvironment", "container_apps_environment"),
        ("app:ContainerApp", "container_app"),
        ("apimanagement:ApiManagementService", "api_management"),
        ("cdn:Profile", "front_door"),
        ("cdn:AFDEndpoint", "front_door_endpoint"),
        ("frontdoor:Policy", "waf_policy"),
        ("web:StaticSite", "static_web_app"),
    )
}
WEB_APP = f"{AZURE_NATIVE}web:WebApp"
# Subnets whose names Azure fixes: https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-subnet
RESERVED_SUBNET_NAMES = frozenset(
    {
        "AzureFirewallSubnet",
        "AzureFirewallManagementSubnet",
        "AzureBastionSubnet",
        "GatewaySubnet",
        "RouteServerSubnet",
    }
)

_CHARSETS = {
    "hyphenated": re.compile(r"^[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]$"),
    "lower-alnum": re.compile(r"^[a-z0-9]+$"),
    "lower-hyphenated": re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$"),
}


def is_taggable(resource_type: str, props: Mapping[str, Any]) -> bool:
    if resource_type in NOT_ARM_TAGS or not resource_type.startswith(AZURE_NATIVE):
        return False
    return resource_type in TAGGABLE_TYPES or isinstance(props.get("tags"), Mapping)


def required_tags(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """The five base tags, non-empty, and `environment` naming this stack's environment."""
    if not is_taggable(ctx.resource_type, props):
        return []
    tags = lookup(props, "tags")
    if tags is UNKNOWN:
        return [unknown("tags")]
    if not isinstance(tags, Mapping):
        return [violation(f"tags are not set; required: {', '.join(REQUIRED_TAGS)}")]
    findings: list[Finding] = []
    missing = [t for t in REQUIRED_TAGS if t not in tags or tags[t] in (None, "")]
    if missing:
        findings.append(
            violation(f"missing tag(s) {', '.join(missing)}; required: {', '.join(REQUIRED_TAGS)}")
        )
    findings += [unknown(f"tags.{t}") for t in REQUIRED_TAGS if tags.get(t) is UNKNOWN]
    environment = tags.get("environment")
    if isinstance(environment, str) and environment and environment != ctx.environment:
        findings.append(
            violation(f"tags.environment = {environment!r} but the stack is {ctx.environment!r}")
        )
    return findings


def caf_name(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Azure names start with the type's CAF abbreviation and fit its length and charset."""
    kind = _naming_kind(ctx.resource_type, props)
    if kind is None:
        return []
    if kind is UNKNOWN:
        return [unknown("kind")]
    abbreviation, low, high, charset = NAMING_RULES[kind]
    key = NAME_PROPERTIES[ctx.resource_type]
    name = lookup(props, key)
    if name is UNKNOWN:
        return [unknown(key)]
    if name is MISSING or not isinstance(name, str):
        return [
            violation(
                f"{key} is not set, so the provider autonames it; pass a name from "
                f"infra/core/naming.py ({abbreviation}-...)"
            )
        ]
    if ctx.resource_type == f"{AZURE_NATIVE}network:Subnet" and name in RESERVED_SUBNET_NAMES:
        return []
    findings: list[Finding] = []
    prefix = abbreviation if charset == "lower-alnum" else f"{abbreviation}-"
    if not name.lower().startswith(prefix):
        findings.append(
            violation(f"{key} = {name!r} does not start with the CAF abbreviation {prefix!r}")
        )
    if not low <= len(name) <= high:
        findings.append(
            violation(f"{key} = {name!r} is {len(name)} characters; allowed: {low}-{high}")
        )
    if not _CHARSETS[charset].match(name):
        findings.append(violation(f"{key} = {name!r} breaks the {charset} charset rule"))
    return findings


def _naming_kind(resource_type: str, props: Mapping[str, Any]) -> Any:
    if resource_type == WEB_APP:
        # Only function apps have a CAF kind here; web apps would be "app".
        kind = lookup(props, "kind")
        if kind is UNKNOWN:
            return UNKNOWN
        return "function_app" if isinstance(kind, str) and "functionapp" in kind.lower() else None
    return NAMING_KINDS.get(resource_type)


def allowed_location(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """`location` is an allowed region ("global" resources excepted; unset inherits the group's)."""
    if not ctx.resource_type.startswith(AZURE_NATIVE):
        return []
    location = lookup(props, "location")
    if location is UNKNOWN:
        return [unknown("location")]
    if not isinstance(location, str):
        return []
    region = location.replace(" ", "").lower()
    if region == "global" or region in ALLOWED_REGIONS:
        return []
    return [
        violation(f"location = {location!r}; allowed: {', '.join(ALLOWED_REGIONS)} (or global)")
    ]


RULES = (
    ResourceRule(
        name="tags-required",
        description="Taggable resources carry environment, project, owner, cost-center and "
        "managed-by tags.",
        resource_types=(),
        control="MCSB AM-1",
        check=required_tags,
    ),
    ResourceRule(
        name="naming-caf-prefix",
        description="Azure names start with their type's CAF abbreviation and fit Azure's "
        "length and charset rules.",
        resource_types=tuple(sorted({*NAMING_KINDS, WEB_APP})),
        control="CAF naming",
        check=caf_name,
    ),
    ResourceRule(
        name="allowed-locations",
        description="Resources deploy only to the allowed Azure regions.",
        resource_types=(),
        control="Azure Policy: Allowed locations",
        check=allowed_location,
    ),
)
