"""Runs the real Pulumi program for a stack under mocks: no Azure, no CLI, no credentials.

Behaves like the engine where the program can tell: inputs arrive camelCase, resources
without an explicit Azure name are autonamed, invokes such as getClientConfig are
answered, component parents show in URNs, and outputs the provider computes (ids,
principal ids, endpoints) are filled in. Every recorded input is also checked against
the SDK's own input types, since mocks would otherwise accept any property.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import os
import runpy
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings

from offline.sdk_types import InputProblem, args_class, check_resource_inputs

PROJECT_DIR = Path(__file__).resolve().parent.parent
CLIENT_CONFIG_INVOKE = "azure-native:authorization:getClientConfig"
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
DEPLOYER_OBJECT_ID = "22222222-2222-2222-2222-222222222222"
SECRET_PLACEHOLDER = "offline-secret-value"  # noqa: S105 - a placeholder, not a secret

# azure-native module -> ARM resource provider namespace, for realistic resource ids.
ARM_NAMESPACES = {
    "resources": "Microsoft.Resources",
    "network": "Microsoft.Network",
    "keyvault": "Microsoft.KeyVault",
    "managedidentity": "Microsoft.ManagedIdentity",
    "authorization": "Microsoft.Authorization",
    "operationalinsights": "Microsoft.OperationalInsights",
    "applicationinsights": "Microsoft.Insights",
    "monitor": "Microsoft.Insights",
    "insights": "Microsoft.Insights",
    "alertsmanagement": "Microsoft.AlertsManagement",
    "consumption": "Microsoft.Consumption",
    "sql": "Microsoft.Sql",
    "servicebus": "Microsoft.ServiceBus",
    "storage": "Microsoft.Storage",
    "datafactory": "Microsoft.DataFactory",
    "redisenterprise": "Microsoft.Cache",
    "cosmosdb": "Microsoft.DocumentDB",
    "web": "Microsoft.Web",
    "app": "Microsoft.App",
    "containerregistry": "Microsoft.ContainerRegistry",
    "apimanagement": "Microsoft.ApiManagement",
    "cdn": "Microsoft.Cdn",
    "frontdoor": "Microsoft.Network",
    "dns": "Microsoft.Network",
    "privatedns": "Microsoft.Network",
}


@dataclass
class RecordedResource:
    """One resource the program registered, as the engine saw it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    protect: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str | None
    dependencies: list[str] = field(default_factory=list)
    retain_on_delete: bool = False

    @property
    def component_outputs(self) -> dict[str, Any]:
        return self.outputs

    @property
    def kind(self) -> str:
        """The type the price, create-time and policy-catalog tables key on.

        A generic ARM resource (`resources:Resource`, used where azure-native has no typed
        resource, such as an SQL server's connection policy) is known by the ARM type it
        writes, since one token covers every such type.
        """
        if self.type != GENERIC_RESOURCE_TYPE:
            return self.type
        return f"{self.type}:{generic_arm_type(self.inputs)}"


GENERIC_RESOURCE_TYPE = "azure-native:resources:Resource"


def generic_arm_type(inputs: Mapping[str, Any]) -> str:
    """`Microsoft.Sql/servers/connectionPolicies` from a generic resource's inputs.

    The parent path alternates type and name segments (`servers/<name>`); its types lead.
    """
    namespace = inputs.get("resourceProviderNamespace", "?")
    parent = str(inputs.get("parentResourcePath") or "")
    parent_types = [segment for segment in parent.split("/")[::2] if segment]
    return "/".join([str(namespace), *parent_types, str(inputs.get("resourceType", "?"))])


@dataclass
class ProgramRun:
    """Everything one offline run of the program produced."""

    stack: str
    project: str
    config: dict[str, Any]
    resources: dict[str, RecordedResource]
    stack_outputs: dict[str, Any]
    secret_outputs: set[str]
    invokes: list[str]
    problems: list[InputProblem]
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems

    def by_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources.values() if r.type == type_token]

    def one(self, type_token: str) -> RecordedResource:
        found = self.by_type(type_token)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_token}, found {len(found)}")
        return found[0]

    def children_of(self, urn: str) -> list[RecordedResource]:
        return [r for r in self.resources.values() if r.parent == urn]

    def layer_of(self, resource: RecordedResource) -> str:
        """The top-level component a resource belongs to (its ancestor just below the stack)."""
        current = resource
        while current.parent and current.parent in self.resources:
            current = self.resources[current.parent]
        return current.name


class PlatformMocks(pulumi_mocks.Mocks):
    """Answers resource registrations and invokes the way Azure would shape them."""

    def __init__(self, stack: str) -> None:
        self.stack = stack
        self.invokes: list[str] = []

    def new_resource(
        self, args: pulumi_mocks.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        if not args.custom:
            return None, {}
        outputs = dict(args.inputs)
        package, _, rest = args.typ.partition(":")
        module, _, class_name = rest.partition(":")
        if package == "random":
            return self._random(args, outputs)
        azure_name = _azure_name(args.typ, args.inputs) or _autoname(args.name, self.stack)
        outputs.setdefault("name", azure_name)
        resource_id = _arm_id(module, class_name, args.inputs, azure_name)
        outputs.update(_computed_outputs(args.typ, azure_name, resource_id, args.inputs))
        return resource_id, outputs

    def _random(
        self, args: pulumi_mocks.MockResourceArgs, outputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        length = int(args.inputs.get("length", 16))
        digest = hashlib.sha256(f"{self.stack}/{args.name}".encode()).hexdigest()
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        value = "".join(alphabet[int(digest[i * 2 : i * 2 + 2], 16) % 36] for i in range(length))
        outputs["result"] = value
        return f"{args.name}-id", outputs

    def call(
        self, args: pulumi_mocks.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.invokes.append(args.token)
        if args.token == CLIENT_CONFIG_INVOKE:
            return {
                "clientId": DEPLOYER_OBJECT_ID,
                "objectId": DEPLOYER_OBJECT_ID,
                "subscriptionId": SUBSCRIPTION_ID,
                "tenantId": TENANT_ID,
            }, []
        raise NotImplementedError(
            f"the offline engine has no answer for invoke {args.token}; "
            "add one to PlatformMocks.call in offline/engine.py"
        )


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, also keeping what the plain one drops: parents, protect, outputs."""

    def __init__(self, mocks: PlatformMocks) -> None:
        super().__init__(mocks)
        self.recorded: dict[str, RecordedResource] = {}
        self.problems: list[InputProblem] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """As the real engine: the parent's full type chain, except for the root stack."""
        if parent and "::pulumi:pulumi:Stack::" not in parent:
            type_ = parent.split("::")[2] + "$" + type_
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        # Secret inputs arrive wrapped in the engine's secret envelope; the inputs are checked
        # and read as the provider sees them, unwrapped.
        inputs = _unwrap_secrets(rpc.deserialize_properties(request.object))
        registration = self.resources.get(response.urn)
        self.recorded[response.urn] = RecordedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent or None,
            protect=bool(request.protect),
            inputs=inputs,
            outputs=dict(registration.state) if registration and request.custom else {},
            id=response.id or None,
            dependencies=list(request.dependencies),
            retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
        )
        if request.custom:
            self.problems += check_resource_inputs(response.urn, request.type, inputs)
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        recorded = self.recorded.get(request.urn)
        if recorded is not None:
            recorded.outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def _unwrap_secrets(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return _unwrap_secrets(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {key: _unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(item) for item in value]
    return value


def load_stack_config(
    stack: str, project_dir: Path = PROJECT_DIR
) -> tuple[dict[str, Any], list[str]]:
    """Config of `Pulumi.<stack>.yaml` as the engine hands it to programs, plus its secret keys.

    Structured values become JSON strings, as the CLI passes them. Encrypted values
    cannot be decrypted offline and are replaced by a placeholder marked secret.
    """
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    raw: dict[str, Any] = {}
    for key, spec in (project.get("config") or {}).items():
        # A declared key's default reaches the program like a value, as the CLI passes it.
        if isinstance(spec, dict) and ("value" in spec or "default" in spec):
            raw[_qualify(key, project["name"])] = spec.get("value", spec.get("default"))
    if stack_file.exists():
        stack_doc = yaml.safe_load(stack_file.read_text()) or {}
        for key, value in (stack_doc.get("config") or {}).items():
            raw[_qualify(key, project["name"])] = value
    config: dict[str, Any] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = SECRET_PLACEHOLDER
            secret_keys.append(key)
        elif isinstance(value, dict | list):
            config[key] = _json(value)
        else:
            config[key] = value if isinstance(value, str) else _json(value)
    return config, secret_keys


def run_program(
    stack: str,
    *,
    project_dir: Path = PROJECT_DIR,
    config: Mapping[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    program: Callable[[], None] | None = None,
) -> ProgramRun:
    """Run the program (default: the project's `__main__.py`) for `stack` under mocks.

    `config` replaces the stack file's config when given, which is how tests try bad values.
    """
    project = str(yaml.safe_load((project_dir / "Pulumi.yaml").read_text())["name"])
    if config is None:
        loaded, loaded_secrets = load_stack_config(stack, project_dir)
        config, secret_keys = loaded, loaded_secrets
    run_config = dict(config)
    isolated = functools.partial(
        _run_isolated,
        stack=stack,
        project=project,
        project_dir=project_dir,
        config=run_config,
        secret_keys=secret_keys or [],
        program=program,
    )
    # A fresh context per run: Pulumi keeps its runtime state in context variables.
    return contextvars.Context().run(isolated)


def _run_isolated(
    *,
    stack: str,
    project: str,
    project_dir: Path,
    config: dict[str, Any],
    secret_keys: list[str],
    program: Callable[[], None] | None,
) -> ProgramRun:
    mocks = PlatformMocks(stack)
    monitor = RecordingMonitor(mocks)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    error: str | None = None
    outputs: dict[str, Any] = {}
    secret_outputs: set[str] = set()
    try:
        pulumi_settings.ROOT.set(None)
        pulumi.runtime.set_mocks(
            mocks, project=project, stack=stack, preview=False, monitor=monitor
        )
        pulumi.runtime.set_all_config(config, secret_keys)
        entry = program or (lambda: _run_main(project_dir))

        async def run_and_collect() -> None:
            entry()
            root = pulumi_settings.get_root_resource()
            exported = dict(getattr(root, "outputs", {}) or {})
            for name, value in exported.items():
                out = pulumi.Output.from_input(value)
                outputs[name] = await out.future()
                if await out.is_secret():
                    secret_outputs.add(name)

        with _program_path(project_dir):
            loop.run_until_complete(pulumi.runtime.stack.run_pulumi_func(run_and_collect))
    except pulumi.RunError as exc:
        error = str(exc)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        # A failed program leaves registrations in flight; end them before closing the loop.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(None)
    return ProgramRun(
        stack=stack,
        project=project,
        config=config,
        resources=monitor.recorded,
        stack_outputs=outputs,
        secret_outputs=secret_outputs,
        invokes=mocks.invokes,
        problems=monitor.problems,
        error=error,
    )


def _run_main(project_dir: Path) -> None:
    runpy.run_path(str(project_dir / "__main__.py"), run_name="__pulumi_program__")


@contextmanager
def _program_path(project_dir: Path) -> Iterator[None]:
    """The program imports `config` and `infra` from its own directory, as under the CLI."""
    added = str(project_dir) not in sys.path
    if added:
        sys.path.insert(0, str(project_dir))
    cwd = os.getcwd()
    os.chdir(project_dir)
    try:
        yield
    finally:
        os.chdir(cwd)
        if added:
            sys.path.remove(str(project_dir))


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _azure_name(type_token: str, inputs: Mapping[str, Any]) -> str | None:
    """The Azure name the program chose, from the resource's own `<x>Name` input."""
    cls = args_class(type_token)
    class_name = type_token.rsplit(":", 1)[-1]
    if cls is None:
        return None
    from pulumi import _types as pulumi_types

    keys = set(pulumi_types.input_type_types(cls))
    # `<resource>Name` first; then the longest `<x>Name` whose x ends the class name
    # (databaseName for SqlResourceSqlDatabase, accountName for DatabaseAccount), so a
    # parent's name (accountName on a database) is never taken for the resource's own.
    candidates = [f"{_lower_first(class_name)}Name"]
    candidates += sorted(
        (
            k
            for k in keys
            if k.endswith("Name") and class_name.lower().endswith(k[: -len("Name")].lower())
        ),
        key=len,
        reverse=True,
    )
    if type_token.startswith("azure-native:apimanagement:"):
        # API Management's children are named by `<x>Id` (apiId, productId, policyId), the
        # last segment of their ARM id: `<class>Id`, then the longest whose x ends the class.
        candidates += [f"{_lower_first(class_name)}Id"]
        candidates += sorted(
            (
                k
                for k in keys
                if k.endswith("Id") and class_name.lower().endswith(k[: -len("Id")].lower())
            ),
            key=len,
            reverse=True,
        )
    candidates += ["resourceName", "name"]
    # Last, a resource whose only `<x>Name` input is its own (clusterName on RedisEnterprise).
    own = [k for k in keys if k.endswith("Name") and k != "resourceGroupName"]
    candidates += own if len(own) == 1 else []
    for candidate in candidates:
        if candidate in keys:
            value = inputs.get(candidate)
            return str(value) if value is not None else None
    return None


def _autoname(logical_name: str, stack: str) -> str:
    """Like the provider's autonaming: the logical name plus a random-looking suffix."""
    digest = hashlib.sha256(f"{stack}/{logical_name}".encode()).hexdigest()[:8]
    return f"{logical_name}{digest}"


# Child resources whose ARM id nests under their parent's, as Azure returns it, where tests
# compare scopes with it: type -> (parent collection, parent name input, own collection).
NESTED_IDS = {"azure-native:keyvault:Secret": ("vaults", "vaultName", "secrets")}


def _arm_id(module: str, class_name: str, inputs: Mapping[str, Any], name: str) -> str:
    subscription = f"/subscriptions/{SUBSCRIPTION_ID}"
    if module == "resources" and class_name == "ResourceGroup":
        return f"{subscription}/resourceGroups/{name}"
    group = inputs.get("resourceGroupName") or "rg-unknown"
    namespace = ARM_NAMESPACES.get(module, f"Microsoft.{module.capitalize()}")
    nested = NESTED_IDS.get(f"azure-native:{module}:{class_name}")
    if nested is not None:
        parents, parent_input, own = nested
        return (
            f"{subscription}/resourceGroups/{group}/providers/{namespace}/"
            f"{parents}/{inputs.get(parent_input)}/{own}/{name}"
        )
    collection = f"{_lower_first(class_name)}s"
    return f"{subscription}/resourceGroups/{group}/providers/{namespace}/{collection}/{name}"


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _computed_outputs(
    type_token: str, name: str, resource_id: str, inputs: Mapping[str, Any]
) -> dict[str, Any]:
    """Outputs Azure computes that later layers read (principal ids, endpoints, keys)."""
    out: dict[str, Any] = {"id": resource_id}
    identity = inputs.get("identity")
    if isinstance(identity, Mapping) and "SystemAssigned" in str(identity.get("type", "")):
        out["identity"] = {
            **identity,
            "principalId": _uuid(resource_id, "principal"),
            "tenantId": TENANT_ID,
        }
    # ARM answers the list of user-assigned identity ids with a map keyed by those ids.
    if isinstance(identity, Mapping) and isinstance(identity.get("userAssignedIdentities"), list):
        out["identity"] = {
            **out.get("identity", identity),
            "userAssignedIdentities": {
                str(uid): {
                    "principalId": _uuid(str(uid), "principal"),
                    "clientId": _uuid(str(uid), "client"),
                }
                for uid in identity["userAssignedIdentities"]
            },
        }
    extra: dict[str, dict[str, Any]] = {
        "azure-native:managedidentity:UserAssignedIdentity": {
            "principalId": _uuid(resource_id, "principal"),
            "clientId": _uuid(resource_id, "client"),
            "tenantId": TENANT_ID,
        },
        "azure-native:operationalinsights:Workspace": {"customerId": _uuid(resource_id, "ws")},
        "azure-native:applicationinsights:Component": {
            "appId": _uuid(resource_id, "app"),
            "instrumentationKey": _uuid(resource_id, "ikey"),
            "connectionString": f"InstrumentationKey={_uuid(resource_id, 'ikey')};"
            "IngestionEndpoint=https://westus2-2.in.applicationinsights.azure.com/",
        },
        "azure-native:storage:StorageAccount": {
            "primaryEndpoints": {
                "blob": f"https://{name}.blob.core.windows.net/",
                "queue": f"https://{name}.queue.core.windows.net/",
                "table": f"https://{name}.table.core.windows.net/",
                "dfs": f"https://{name}.dfs.core.windows.net/",
            }
        },
        "azure-native:keyvault:Vault": {
            "properties": {
                **dict(inputs.get("properties") or {}),
                "vaultUri": f"https://{name}.vault.azure.net/",
            }
        },
        # ARM never returns a secret's value, only its metadata and URIs.
        "azure-native:keyvault:Secret": {
            "properties": {
                **{
                    k: v
                    for k, v in dict(_unwrap_secrets(inputs.get("properties")) or {}).items()
                    if k != "value"
                },
                "secretUri": f"https://{inputs.get('vaultName')}.vault.azure.net/secrets/{name}",
                "secretUriWithVersion": (
                    f"https://{inputs.get('vaultName')}.vault.azure.net/secrets/{name}/"
                    f"{_uuid(resource_id, 'version').replace('-', '')}"
                ),
            }
        },
        "azure-native:servicebus:Namespace": {
            "serviceBusEndpoint": f"https://{name}.servicebus.windows.net:443/"
        },
        "azure-native:sql:Server": {"fullyQualifiedDomainName": f"{name}.database.windows.net"},
        "azure-native:containerregistry:Registry": {"loginServer": f"{name}.azurecr.io"},
        "azure-native:app:ManagedEnvironment": {
            "defaultDomain": f"{name}.westus2.azurecontainerapps.io",
            "staticIp": "10.0.1.10",
        },
        "azure-native:app:ContainerApp": {
            "latestRevisionFqdn": f"{name}--rev1.internal.westus2.azurecontainerapps.io",
        },
        "azure-native:web:WebApp": {"defaultHostName": f"{name}.azurewebsites.net"},
        "azure-native:web:StaticSite": {"defaultHostname": f"{name}.azurestaticapps.net"},
        "azure-native:apimanagement:ApiManagementService": {
            "gatewayUrl": f"https://{name}.azure-api.net",
            "publicIPAddresses": ["20.0.0.1"],
        },
        "azure-native:network:PublicIPAddress": {"ipAddress": "20.0.0.10"},
        "azure-native:cdn:AFDEndpoint": {"hostName": f"{name}.z01.azurefd.net"},
        "azure-native:cdn:Profile": {"frontDoorId": _uuid(resource_id, "fdid")},
        "azure-native:cdn:AFDCustomDomain": {
            "validationProperties": {
                "validationToken": _uuid(resource_id, "validation").replace("-", ""),
                "expirationDate": "2027-01-08T00:00:00Z",
            }
        },
        "azure-native:dns:Zone": {
            "nameServers": [f"ns{i}-01.azure-dns.{tld}." for i, tld in enumerate(("com", "net"), 1)]
        },
        "azure-native:redisenterprise:RedisEnterprise": {
            "hostName": f"{name}.westus2.redis.azure.net"
        },
        "azure-native:cosmosdb:DatabaseAccount": {
            "documentEndpoint": f"https://{name}.documents.azure.com:443/"
        },
    }
    out.update(extra.get(type_token, {}))
    return out
