"""Stack settings: the environment's row (config/defaults.py) plus the stack file's values.

The models live by concern (config/network.py, protection.py, skus.py, data.py, compute.py,
environment.py); this module is the one channel the program reads them through, and
re-exports them so that callers import every settings name from here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from config.audit import (
    MAX_RETENTION_DAYS,
    MIFID_EXTENDED_RECORD_KEEPING_DAYS,
    MIFID_RECORD_KEEPING_DAYS,
    RECORD_KEEPING_SERVICES,
    AuditSettings,
)
from config.base import (
    AZURE_REGIONS,
    CONFIG_NAMESPACE,
    ENVIRONMENTS,
    AllowedIpRange,
    AzureRegion,
    Cidr,
    DomainName,
    Email,
    Environment,
    Guid,
    SettingsError,
    _Model,
)
from config.compute import (
    CONSUMPTION_PROFILE,
    ZONE_REDUNDANT_REGIONS,
    ContainerAppsSettings,
    DedicatedProfile,
    FunctionsSettings,
    RevisionPin,
    ServiceCompute,
)
from config.data import (
    ARCHIVE_MINIMUM_DAYS,
    ARCHIVE_REDUNDANCIES,
    COOL_MINIMUM_DAYS,
    MIRRORS_PROD,
    DatabaseSettings,
    EtlSettings,
    StorageRedundancy,
)
from config.defaults import get_environment_settings
from config.environment import EnvironmentSettings
from config.frontend import (
    COMPRESSED_CONTENT_TYPES,
    STATIC_WEB_APP_REGIONS,
    DnsZoneRef,
    FrontendSettings,
    StaticWebAppSku,
)
from config.gateway import GatewaySettings, ProductLimits
from config.images import ImageDigests
from config.network import MAX_SUBNET_PREFIX, NetworkSettings, SubnetName
from config.protection import AlertThresholds, MonitoringSettings, SecuritySettings
from config.recovery import PAIRED_REGIONS, RecoverySettings, region_rejections, secondary_region
from config.skus import (
    APIM_INJECTED_SKUS,
    APIM_INTEGRATED_SKUS,
    SQL_ZONE_REDUNDANT_SKUS,
    AcrSku,
    ApimSku,
    FeatureFlags,
    FrontDoorSku,
    FunctionsPlan,
    RedisSku,
    ServiceBusSku,
    SkuSettings,
    SqlSku,
)

__all__ = [
    "APIM_INJECTED_SKUS",
    "APIM_INTEGRATED_SKUS",
    "ARCHIVE_MINIMUM_DAYS",
    "ARCHIVE_REDUNDANCIES",
    "AZURE_REGIONS",
    "COMPRESSED_CONTENT_TYPES",
    "CONFIG_NAMESPACE",
    "CONSUMPTION_PROFILE",
    "COOL_MINIMUM_DAYS",
    "ENVIRONMENTS",
    "MAX_RETENTION_DAYS",
    "MAX_SUBNET_PREFIX",
    "MIFID_EXTENDED_RECORD_KEEPING_DAYS",
    "MIFID_RECORD_KEEPING_DAYS",
    "MIRRORS_PROD",
    "PAIRED_REGIONS",
    "RECORD_KEEPING_SERVICES",
    "SQL_ZONE_REDUNDANT_SKUS",
    "STACK_KEYS",
    "STATIC_WEB_APP_REGIONS",
    "ZONE_REDUNDANT_REGIONS",
    "AcrSku",
    "AlertThresholds",
    "AllowedIpRange",
    "ApimSku",
    "AuditSettings",
    "AzureRegion",
    "Cidr",
    "ContainerAppsSettings",
    "DatabaseSettings",
    "DedicatedProfile",
    "DeploymentSettings",
    "DnsZoneRef",
    "DomainName",
    "Email",
    "Environment",
    "EnvironmentSettings",
    "EtlSettings",
    "FeatureFlags",
    "FrontDoorSku",
    "FrontendSettings",
    "FunctionsPlan",
    "FunctionsSettings",
    "GatewaySettings",
    "Guid",
    "MonitoringSettings",
    "NetworkSettings",
    "ProductLimits",
    "RecoverySettings",
    "RedisSku",
    "RevisionPin",
    "SecuritySettings",
    "ServiceBusSku",
    "ServiceCompute",
    "SettingsError",
    "SkuSettings",
    "SqlSku",
    "StackSettings",
    "StaticWebAppSku",
    "StorageRedundancy",
    "SubnetName",
    "get_environment_settings",
    "load_stack_settings",
    "read_stack_settings",
    "secondary_region",
]


class DeploymentSettings(_Model):
    """Per-deployment values that only the stack file knows."""

    location: AzureRegion
    owner: Annotated[str, Field(min_length=1, max_length=64)]
    cost_center: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    workload: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,7}$")] = "plat"
    alert_emails: tuple[Email, ...] = ()
    allowed_ip_ranges: tuple[AllowedIpRange, ...] = ()
    # The SPA's public host name (e.g. trade.example.com), served by Front Door with a
    # managed certificate. Its records go in platform:dnsZone when set (an existing Azure DNS
    # zone: {name, resourceGroupName}); otherwise the frontend layer creates a zone for the
    # parent domain (trade.example.com -> example.com) and exports its name servers, which
    # the domain's registrar must delegate to.
    custom_domain: DomainName | None = None
    dns_zone: DnsZoneRef | None = None
    # Microsoft Entra admin of the SQL server (a group, ideally). Unset: the identity that
    # runs `pulumi up` becomes admin, so the pipeline can create the contained users.
    sql_admin_login: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    sql_admin_object_id: Guid | None = None
    # OpenFIGI API key for the workers' third-party sync (a Pulumi secret:
    # `pulumi config set --secret openfigiApiKey ...`). Stored in Key Vault, readable by the
    # workers alone (infra/security/secrets.py); unset, OpenFIGI's keyless rate limit applies.
    openfigi_api_key: Annotated[SecretStr, Field(min_length=1)] | None = None
    # Digest per service, pushed by CI to dev's registry and promoted with `az acr import`
    # (config/images.py); a service without one runs the bootstrap image until it has one.
    images: ImageDigests = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sql_admin_complete(self) -> Self:
        if (self.sql_admin_login is None) != (self.sql_admin_object_id is None):
            raise ValueError(
                "platform:sqlAdminLogin and platform:sqlAdminObjectId go together: set both "
                "(an Entra group's display name and object id) or neither"
            )
        return self

    @model_validator(mode="after")
    def _custom_domain_in_zone(self) -> Self:
        if self.dns_zone is None:
            return self
        if self.custom_domain is None:
            raise ValueError(
                f"platform:dnsZone = {self.dns_zone.name} without platform:customDomain: the "
                "zone only takes the custom domain's records; set platform:customDomain to a "
                f"name under {self.dns_zone.name}, or unset platform:dnsZone"
            )
        if not self.custom_domain.endswith("." + self.dns_zone.name):
            # A CNAME cannot sit at a zone's apex (RFC 1034 3.6.2), and a zone holds only
            # names under it: https://learn.microsoft.com/azure/dns/dns-zones-records
            raise ValueError(
                f"platform:customDomain = {self.custom_domain} is not a name under "
                f"platform:dnsZone = {self.dns_zone.name}; allowed: a subdomain such as "
                f"www.{self.dns_zone.name} (a CNAME cannot sit at the zone apex)"
            )
        return self

    @property
    def region_code(self) -> str:
        return AZURE_REGIONS[self.location]


class StackSettings(BaseModel):
    """What one stack deploys: its environment's matrix row plus its deployment values."""

    model_config = ConfigDict(frozen=True)

    stack: str
    deployment: DeploymentSettings
    env: EnvironmentSettings

    @property
    def environment(self) -> Environment:
        return self.env.environment

    @property
    def secondary_region(self) -> str | None:
        """Where the recovery copies live (validated to exist when any is on)."""
        return secondary_region(self.env.recovery, self.deployment.location)


# Keys a stack file may set under the `platform:` namespace.
STACK_KEYS = (
    "environment",
    "overrides",
    *(field.alias or name for name, field in DeploymentSettings.model_fields.items()),
)


def load_stack_settings(stack: str, config: Mapping[str, Any]) -> StackSettings:
    """Build and validate a stack's settings from its config (`platform:<key>` -> value).

    Every problem is reported at once, naming the stack file, the key, the value and what
    is allowed; nothing is deployed when this raises.
    """
    stack_file = f"Pulumi.{stack}.yaml"
    prefix = f"{CONFIG_NAMESPACE}:"
    values = {k[len(prefix) :]: _decode(v) for k, v in config.items() if k.startswith(prefix)}

    unknown = sorted(set(values) - set(STACK_KEYS))
    if unknown:
        raise SettingsError(
            f"{stack_file}: unknown key(s) {', '.join(prefix + k for k in unknown)}; "
            f"allowed: {', '.join(prefix + k for k in sorted(STACK_KEYS))}"
        )

    environment = values.pop("environment", stack)
    if environment not in ENVIRONMENTS:
        raise SettingsError(
            f"{stack_file}: unknown stack {stack!r} (environment {environment!r}); allowed "
            f"stacks: {', '.join(ENVIRONMENTS)}, or set {prefix}environment to one of them"
        )

    overrides = values.pop("overrides", None) or {}
    if not isinstance(overrides, dict):
        raise SettingsError(
            f"{stack_file}: {prefix}overrides = {overrides!r} must be a map of settings"
        )
    if "environment" in overrides:
        raise SettingsError(
            f"{stack_file}: {prefix}overrides.environment cannot be overridden; "
            f"set {prefix}environment instead"
        )

    errors: list[str] = []
    deployment: DeploymentSettings | None = None
    try:
        deployment = DeploymentSettings.model_validate(values)
    except ValidationError as exc:
        errors += _describe(exc, stack_file, prefix, values)

    env: EnvironmentSettings | None = None
    defaults = get_environment_settings(environment).model_dump(by_alias=True, mode="json")
    merged = _deep_merge(defaults, overrides)
    try:
        env = EnvironmentSettings.model_validate(merged)
    except ValidationError as exc:
        errors += _describe(exc, stack_file, f"{prefix}overrides.", merged)

    if deployment is not None and env is not None:
        errors += [f"{stack_file}: {problem}" for problem in _stack_rejections(deployment, env)]
    if errors or deployment is None or env is None:
        raise SettingsError(
            f"invalid configuration for stack {stack!r}:\n  - " + "\n  - ".join(errors)
        )
    return StackSettings(stack=stack, deployment=deployment, env=env)


def _stack_rejections(deployment: DeploymentSettings, env: EnvironmentSettings) -> list[str]:
    """Combinations of the stack file's values and the environment's that Azure would
    accept but leave open."""
    out: list[str] = list(region_rejections(env.recovery, deployment.location))
    public = not env.security.enable_private_endpoints
    admits = deployment.allowed_ip_ranges or env.network.enable_nat_gateway
    if env.features.enable_service_bus and public and not admits:
        # Deny with no IP rule is enforced as Allow:
        # https://learn.microsoft.com/azure/service-bus-messaging/service-bus-ip-filtering
        out.append(
            "platform:allowedIpRanges is empty and network.enableNatGateway is false while "
            "Service Bus keeps public access: its firewall would have no IP rule, which Azure "
            "enforces as allow-all; allowed: at least one platform:allowedIpRanges entry, "
            "network.enableNatGateway = true (the egress address), or "
            "security.enablePrivateEndpoints = true"
        )
    if (
        env.features.enable_container_apps
        and env.container_apps.zone_redundant
        and deployment.location not in ZONE_REDUNDANT_REGIONS
    ):
        out.append(
            f"containerApps.zoneRedundant = true in {deployment.location}: the region has no "
            "availability zones, so Azure refuses a zone-redundant Container Apps environment; "
            "allowed: containerApps.zoneRedundant = false, or a region with zones ("
            + ", ".join(sorted(ZONE_REDUNDANT_REGIONS))
            + ")"
        )
    if deployment.custom_domain is not None and not env.features.enable_cdn:
        out.append(
            f"platform:customDomain = {deployment.custom_domain} with features.enableCdn = "
            f"false in {env.environment}: the frontend layer serves custom domains through "
            "Front Door (managed certificate, WAF); allowed: features.enableCdn = true, or "
            "unset platform:customDomain"
        )
    if deployment.custom_domain is not None and deployment.custom_domain.count(".") < 2:
        out.append(
            f"platform:customDomain = {deployment.custom_domain} is an apex domain: a CNAME "
            "cannot sit at a zone's apex; allowed: a subdomain such as "
            f"www.{deployment.custom_domain}"
        )
    if (
        env.frontend.static_web_app_location is None
        and deployment.location not in STATIC_WEB_APP_REGIONS
    ):
        out.append(
            f"platform:location = {deployment.location} with frontend.staticWebAppLocation "
            "unset: Static Web Apps (the SPA) are created only in "
            + ", ".join(sorted(STATIC_WEB_APP_REGIONS))
            + "; allowed: one of those as platform:location, or set "
            "frontend.staticWebAppLocation to one"
        )
    return out


def _decode(value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON strings."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(
    exc: ValidationError, stack_file: str, key_prefix: str, given: Mapping[str, Any]
) -> list[str]:
    lines = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "value_error" and not _is_leaf(given, error["loc"]):
            # Cross-field rules name their keys and values in the message itself.
            lines.append(f"{stack_file}: {key_prefix}{message}")
            continue
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(error["loc"][:-1])
            message = f"unknown key; allowed: {', '.join(allowed)}"
        value = json.dumps(error.get("input"), default=str)
        lines.append(f"{stack_file}: {key_prefix}{path} = {value}: {message}")
    return lines


def _allowed_keys(parent: tuple[int | str, ...]) -> list[str]:
    """The camelCase keys a settings object at `parent` accepts."""
    model: Any = EnvironmentSettings
    for part in parent:
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        annotation = fields[str(part)].annotation if str(part) in fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(f.alias or n for n, f in model.model_fields.items())


def _is_leaf(given: Mapping[str, Any], loc: tuple[int | str, ...]) -> bool:
    node: Any = given
    for part in loc:
        in_map = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list | tuple) and isinstance(part, int) and part < len(node)
        if not (in_map or in_list):
            return False
        node = node[part]
    return not isinstance(node, Mapping)


def read_stack_settings(stack: str) -> StackSettings:
    """Settings of the running stack, from the config the Pulumi engine handed the program.

    `pulumi up` passes stack config in PULUMI_CONFIG; the mock engine sets it in-process.
    Reading the whole map (not key by key) is what lets unknown keys be reported.
    """
    from pulumi.runtime import config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return load_stack_settings(stack, values)
