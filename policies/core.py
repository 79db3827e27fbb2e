"""Rule building blocks: unknown values, findings, rule records and property lookups.

Nothing here imports pulumi_policy, so the rules run the same inside the pack, in the
offline evaluator and in tests.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from policies.constants import ENVIRONMENTS, PROFILES, Environment, EnvironmentProfile

Level = Literal["advisory", "mandatory", "disabled"]
LEVELS: tuple[Level, ...] = ("advisory", "mandatory", "disabled")

# Advisory where people experiment, mandatory where users (or their rehearsal) are.
ENVIRONMENT_LEVELS: Mapping[Environment, Level] = {
    "dev": "advisory",
    "qa": "advisory",
    "staging": "mandatory",
    "prod": "mandatory",
}
ALWAYS_MANDATORY: Mapping[Environment, Level] = dict.fromkeys(ENVIRONMENTS, "mandatory")

# Values the engine sends for properties that are not known during preview
# (pulumi_policy.proxy.UNKNOWN_*_VALUE; the same strings pulumi's rpc module uses).
UNKNOWN_SENTINELS: Final = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)


class _Unknown:
    """A value that only `pulumi up` will know; rules answer "cannot tell yet" for it."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown during preview>"


class _Missing:
    """A property the resource does not set (Azure then applies its default)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<not set>"


UNKNOWN: Final = _Unknown()
MISSING: Final = _Missing()


def normalize(value: Any) -> Any:
    """Plain dicts and lists with UNKNOWN in place of the engine's sentinels.

    pulumi_policy wraps props in proxies that raise on unknown values; reading through
    their `__target` keeps one unknown property from aborting a whole rule.
    """
    target = _proxy_target(value)
    if target is not None:
        value = target
    if isinstance(value, str):
        return UNKNOWN if value in UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    return value


def _proxy_target(value: Any) -> Any:
    if isinstance(value, dict | list | tuple | str) or not hasattr(value, "__getitem__"):
        return None
    try:
        return value["__target"]
    except (KeyError, TypeError, IndexError):
        return None


def lookup(props: Any, path: str) -> Any:
    """The value at a dotted camelCase path, MISSING if absent, UNKNOWN if any step is."""
    node = props
    for part in path.split("."):
        if node is UNKNOWN:
            return UNKNOWN
        if not isinstance(node, Mapping) or part not in node or node[part] is None:
            return MISSING
        node = node[part]
    return node


@dataclass(frozen=True)
class Finding:
    """One outcome of a rule: a violation, or a note that a value is unknown in preview."""

    message: str
    urn: str | None = None
    unknown: bool = False


def violation(message: str, urn: str | None = None) -> Finding:
    return Finding(message, urn)


def unknown(path: str, urn: str | None = None) -> Finding:
    return Finding(
        f"{path} is unknown until the update runs; checked again by `pulumi up`", urn, True
    )


@dataclass(frozen=True)
class RuleContext:
    """What a rule may know besides the props: the environment, its options, the resource."""

    environment: Environment
    options: Mapping[str, Any] = field(default_factory=dict)
    resource_type: str = ""
    urn: str = ""
    name: str = ""

    @property
    def profile(self) -> EnvironmentProfile:
        return PROFILES[self.environment]

    def option(self, key: str, default: Any) -> Any:
        value = self.options.get(key)
        return default if value is None else value


@dataclass(frozen=True)
class ResourceRecord:
    """One resource as stack rules and the offline evaluator see it (components excluded)."""

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    id: str | None = None


ResourceCheck = Callable[[Mapping[str, Any], RuleContext], list[Finding]]
StackCheck = Callable[[Sequence[ResourceRecord], RuleContext], list[Finding]]
OutputsCheck = Callable[[Mapping[str, Any], Collection[str]], list[Finding]]


@dataclass(frozen=True, kw_only=True)
class RuleInfo:
    """What the compliance table and both runners need to know about a rule."""

    name: str
    description: str
    resource_types: tuple[str, ...]
    control: str
    enforcement: Mapping[Environment, Level] = field(default_factory=lambda: ENVIRONMENT_LEVELS)
    options_schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def applies_to(self, resource_type: str) -> bool:
        return not self.resource_types or resource_type in self.resource_types


@dataclass(frozen=True, kw_only=True)
class ResourceRule(RuleInfo):
    """Judges one resource from its own props (a pulumi_policy ResourceValidationPolicy)."""

    check: ResourceCheck = field(repr=False)
    kind: Literal["resource"] = "resource"


@dataclass(frozen=True, kw_only=True)
class StackRule(RuleInfo):
    """Judges resources against each other (a pulumi_policy StackValidationPolicy)."""

    check: StackCheck = field(repr=False)
    kind: Literal["stack"] = "stack"


@dataclass(frozen=True, kw_only=True)
class OutputsRule(RuleInfo):
    """Judges stack outputs; offline only, since the pack cannot tell secret outputs apart."""

    check: OutputsCheck = field(repr=False)
    kind: Literal["offline"] = "offline"


AnyRule = ResourceRule | StackRule | OutputsRule


# ---- property checks shared by the rule modules ------------------------------------------


def _same(value: Any, allowed: Any) -> bool:
    if isinstance(value, str) and isinstance(allowed, str):
        return value.lower() == allowed.lower()
    if isinstance(value, bool) or isinstance(allowed, bool):
        return value is allowed
    return bool(value == allowed)


def _show(values: Iterable[Any]) -> str:
    return " or ".join(_json(v) for v in values)


def _json(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def expect(
    props: Mapping[str, Any],
    path: str,
    allowed: Sequence[Any],
    why: str,
    *,
    default: Any = MISSING,
) -> list[Finding]:
    """Pass when the value at `path` is one of `allowed` (strings compare case-insensitively).

    `default` is what Azure applies when the property is not set; leave it MISSING where
    the safe value must be stated explicitly.
    """
    value = lookup(props, path)
    if value is UNKNOWN:
        return [unknown(path)]
    if value is MISSING:
        if default is MISSING:
            return [violation(f"{path} is not set; set it to {_show(allowed)}: {why}")]
        value = default
        if any(_same(value, a) for a in allowed):
            return []
        return [
            violation(
                f"{path} is not set and Azure defaults to {_json(value)}; "
                f"set it to {_show(allowed)}: {why}"
            )
        ]
    if any(_same(value, a) for a in allowed):
        return []
    return [violation(f"{path} = {_json(value)}; allowed: {_show(allowed)}: {why}")]


def expect_present(props: Mapping[str, Any], path: str, why: str) -> list[Finding]:
    """Pass when `path` holds a value (an empty string, list or map does not count)."""
    value = lookup(props, path)
    if value is UNKNOWN:
        return [unknown(path)]
    if value is MISSING or value in ("", [], {}):
        return [violation(f"{path} is not set: {why}")]
    return []


def expect_identity(props: Mapping[str, Any], why: str) -> list[Finding]:
    """Pass when the resource has a system- or user-assigned managed identity."""
    kind = lookup(props, "identity.type")
    if kind is UNKNOWN:
        return [unknown("identity.type")]
    if kind is MISSING or str(kind).lower() == "none":
        return [violation(f"identity is not set: {why}")]
    return []


def as_number(value: Any) -> int | float | None:
    """A number as the engine sends it (protobuf makes every number a float); else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else value


def tier(props: Mapping[str, Any]) -> Any:
    """A resource's SKU tier, falling back to its SKU name (many SKUs only set one)."""
    value = lookup(props, "sku.tier")
    return lookup(props, "sku.name") if value is MISSING else value


# ---- references between resources (stack rules) ------------------------------------------

# azure-native type -> ARM resource provider namespace, for matching ARM ids.
# Every type a stack rule looks up by reference needs an entry: the pack path never sees a
# resource's id (pulumi_policy's PolicyResource has none), so a reference is matched on the
# provider namespace and Azure name alone, on both paths alike (the collection is left out:
# child ids nest it under the parent's, e.g. .../redisEnterprise/<cluster>/databases/default).
# https://learn.microsoft.com/azure/azure-resource-manager/management/resource-providers-and-types
ARM_TYPES: Mapping[str, str] = {
    f"azure-native:{token}": namespace.lower()
    for token, namespace in (
        ("sql:Server", "Microsoft.Sql"),
        ("sql:Database", "Microsoft.Sql"),
        ("servicebus:Namespace", "Microsoft.ServiceBus"),
        ("keyvault:Vault", "Microsoft.KeyVault"),
        ("keyvault:Secret", "Microsoft.KeyVault"),
        ("storage:StorageAccount", "Microsoft.Storage"),
        ("storage:BlobServiceProperties", "Microsoft.Storage"),
        ("containerregistry:Registry", "Microsoft.ContainerRegistry"),
        ("redisenterprise:RedisEnterprise", "Microsoft.Cache"),
        ("redisenterprise:Database", "Microsoft.Cache"),
        ("cosmosdb:DatabaseAccount", "Microsoft.DocumentDB"),
        ("web:WebApp", "Microsoft.Web"),
        ("web:WebAppSlot", "Microsoft.Web"),
        ("web:StaticSite", "Microsoft.Web"),
        ("app:ManagedEnvironment", "Microsoft.App"),
        ("app:ContainerApp", "Microsoft.App"),
        ("apimanagement:ApiManagementService", "Microsoft.ApiManagement"),
        ("network:NetworkSecurityGroup", "Microsoft.Network"),
        ("network:AzureFirewall", "Microsoft.Network"),
        ("network:FirewallPolicy", "Microsoft.Network"),
        ("network:VirtualNetwork", "Microsoft.Network"),
        ("network:Subnet", "Microsoft.Network"),
        ("network:PublicIPAddress", "Microsoft.Network"),
        ("network:NatGateway", "Microsoft.Network"),
        ("network:RouteTable", "Microsoft.Network"),
        ("network:PrivateEndpoint", "Microsoft.Network"),
        ("frontdoor:Policy", "Microsoft.Network"),
        ("cdn:Profile", "Microsoft.Cdn"),
        ("cdn:AFDEndpoint", "Microsoft.Cdn"),
        ("cdn:AFDCustomDomain", "Microsoft.Cdn"),
        ("operationalinsights:Workspace", "Microsoft.OperationalInsights"),
        ("applicationinsights:Component", "Microsoft.Insights"),
        ("datafactory:Factory", "Microsoft.DataFactory"),
    )
}

# The input that carries each type's Azure name.
NAME_PROPERTIES: Mapping[str, str] = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:network:Subnet": "subnetName",
    "azure-native:network:NetworkSecurityGroup": "networkSecurityGroupName",
    "azure-native:network:NatGateway": "natGatewayName",
    "azure-native:network:PublicIPAddress": "publicIpAddressName",
    "azure-native:network:PrivateEndpoint": "privateEndpointName",
    "azure-native:network:DdosProtectionPlan": "ddosProtectionPlanName",
    "azure-native:network:AzureFirewall": "azureFirewallName",
    "azure-native:network:FirewallPolicy": "firewallPolicyName",
    "azure-native:network:RouteTable": "routeTableName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:managedidentity:UserAssignedIdentity": "resourceName",
    "azure-native:operationalinsights:Workspace": "workspaceName",
    "azure-native:applicationinsights:Component": "resourceName",
    "azure-native:monitor:ActionGroup": "actionGroupName",
    "azure-native:sql:Server": "serverName",
    "azure-native:sql:Database": "databaseName",
    "azure-native:servicebus:Namespace": "namespaceName",
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:datafactory:Factory": "factoryName",
    "azure-native:redisenterprise:RedisEnterprise": "clusterName",
    "azure-native:cosmosdb:DatabaseAccount": "accountName",
    "azure-native:web:WebApp": "name",
    "azure-native:web:AppServicePlan": "name",
    "azure-native:web:StaticSite": "name",
    "azure-native:containerregistry:Registry": "registryName",
    "azure-native:app:ManagedEnvironment": "environmentName",
    "azure-native:app:ContainerApp": "containerAppName",
    "azure-native:apimanagement:ApiManagementService": "serviceName",
    "azure-native:cdn:Profile": "profileName",
    "azure-native:cdn:AFDEndpoint": "endpointName",
    "azure-native:frontdoor:Policy": "policyName",
    "azure-native:keyvault:Secret": "secretName",
    "azure-native:storage:BlobServiceProperties": "blobServicesName",
    "azure-native:redisenterprise:Database": "databaseName",
    "azure-native:web:WebAppSlot": "slot",
    "azure-native:cdn:AFDCustomDomain": "customDomainName",
}


def azure_name(resource: ResourceRecord) -> Any:
    """The resource's Azure name: its name input, else the `name` output; may be UNKNOWN."""
    key = NAME_PROPERTIES.get(resource.type)
    value = lookup(resource.props, key) if key else MISSING
    if value is MISSING:
        value = lookup(resource.props, "name")
    return value


def refers_to(source: ResourceRecord, prop: str, value: Any, target: ResourceRecord) -> bool | None:
    """Whether `value` (found under `source.props[prop]`) points at `target`.

    A known ARM id is matched on the target's id, or on its provider namespace and Azure
    name. An unknown one (preview) is matched through the engine's dependency record:
    the property's own dependencies when known, else all of the source's dependencies.
    None means "cannot tell yet".
    """
    if isinstance(value, str):
        return _id_matches(value, target)
    if value is UNKNOWN:
        deps = source.property_dependencies.get(prop) or source.dependencies
        return True if target.urn in deps else None
    return False


def _id_matches(reference: str, target: ResourceRecord) -> bool:
    """Match an ARM id on the target's provider namespace and Azure name.

    Deliberately not on `target.id`: only the offline evaluator knows ids, and a match that
    one path can make and the other cannot is how the two paths came to disagree.
    """
    ref = reference.lower().rstrip("/")
    name = azure_name(target)
    namespace = ARM_TYPES.get(target.type)
    if namespace is None or not isinstance(name, str) or not name:
        return False
    return ref.endswith(f"/{name.lower()}") and f"/providers/{namespace}/" in ref


def of_type(resources: Iterable[ResourceRecord], *types: str) -> list[ResourceRecord]:
    return [r for r in resources if r.type in types]
