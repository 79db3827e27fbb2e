"""The microservices layer: the Container Apps environment and one app per service."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from config.images import SERVICE_NAMES, ServiceName
from config.settings import EnvironmentSettings, SubnetName
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.microservices.container_app import CallerRange, ServiceApp, ServiceAppArgs
from infra.microservices.environment import create_environment
from infra.microservices.services import SERVICES, PlatformInputs, service_settings
from infra.networking.nsg import ACCESS_MATRIX
from infra.networking.subnets import apim_mode
from infra.observability.alerts import AlertContext
from infra.registry import ImageRef
from infra.security.managed_identity import Workload, WorkloadIdentity


def ingress_callers(env: EnvironmentSettings) -> list[CallerRange]:
    """The subnets the access matrix lets reach the app subnet: the same ones, and only those,
    get through each app's ingress IP restrictions (the NSG and the ingress agree)."""
    mode = apim_mode(env)
    callers: list[CallerRange] = []
    for flow in ACCESS_MATRIX:
        if flow.destination is not SubnetName.APP or mode not in flow.apim_modes:
            continue
        if not isinstance(flow.source, SubnetName):
            continue  # service tags (the load balancer's probes) are not callers
        callers.append(
            CallerRange(
                name=f"allow-{flow.source.value}",
                cidr=env.network.subnets[flow.source],
                description=flow.description,
            )
        )
    return callers


@dataclass(frozen=True)
class MicroservicesArgs:
    """What the services need from the layers before them."""

    placement: Placement
    identities: Mapping[Workload, WorkloadIdentity]
    # The app subnet (delegated to Microsoft.App/environments) and the VNet its zone links to.
    subnet_id: pulumi.Input[str]
    vnet_id: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
    alert_context: AlertContext
    registry_server: pulumi.Input[str]
    images: Mapping[ServiceName, ImageRef]
    pull_grants: Mapping[ServiceName, pulumi.Resource]
    app_insights_connection_string: pulumi.Input[str]
    sql_server_fqdn: pulumi.Input[str]
    sql_database_name: pulumi.Input[str]
    servicebus_namespace: pulumi.Input[str]
    servicebus_namespace_name: pulumi.Input[str]
    servicebus_settings: Mapping[str, pulumi.Input[str]]
    # The security layer's Key Vault secret URIs, by secret name.
    secret_uris: Mapping[str, pulumi.Input[str]]


class Microservices(pulumi.ComponentResource):
    """Internal Container Apps environment, its private DNS, and the four services."""

    environment_id: pulumi.Output[str]
    """ARM id of the Container Apps environment."""
    default_domain: pulumi.Output[str]
    """The environment's domain; its private DNS zone has the same name."""
    static_ip: pulumi.Output[str]
    """The internal load balancer's address in the app subnet (the zone's wildcard record)."""
    urls: dict[ServiceName, pulumi.Output[str]]
    """https://<app>.<default domain> of each service: what the gateway and workers call."""
    app_ids: dict[ServiceName, pulumi.Output[str]]
    """ARM id of each service's Container App."""
    setting_names: dict[ServiceName, list[str]]
    """Names of the environment variables the stack sets on each app (settings contract)."""

    def __init__(
        self, name: str, args: MicroservicesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:microservices:Microservices", name, None, opts)
        place = dataclasses.replace(
            args.placement, tags=layer_tags(args.placement.tags, "microservices")
        )
        env = place.env
        environment = create_environment(
            name,
            placement=place,
            tags=place.tags,
            subnet_id=args.subnet_id,
            vnet_id=args.vnet_id,
            workspace_id=args.workspace_id,
            parent=self,
        )
        # Names are known before the apps exist, so a caller's URL needs no app to wait for.
        app_names = {s: place.namer.name("container_app", role=s) for s in SERVICE_NAMES}
        self.urls = {
            s: pulumi.Output.concat("https://", app_names[s], ".", environment.default_domain)
            for s in SERVICE_NAMES
        }
        platform = PlatformInputs(
            environment=env.environment,
            app_insights_connection_string=args.app_insights_connection_string,
            sql_server_fqdn=args.sql_server_fqdn,
            sql_database_name=args.sql_database_name,
            servicebus_namespace=args.servicebus_namespace,
            servicebus_settings=args.servicebus_settings,
            urls=self.urls,
            gateway_subnet_cidr=env.network.subnets[SubnetName.GATEWAY],
            personal_data_retention_days=env.audit.personal_data_retention_days,
        )
        callers = ingress_callers(env)
        self.app_ids = {}
        self.setting_names = {}
        for service in SERVICE_NAMES:
            spec = SERVICES[service]
            identity = args.identities[Workload(service)]
            settings = service_settings(spec, platform, client_id=identity.client_id)
            missing = sorted(set(spec.secrets.values()) - set(args.secret_uris))
            if missing:
                raise ValueError(
                    f"{service} reads Key Vault secrets {missing} that this stack does not "
                    "store; set their values in the stack file (infra/security/secrets.py)"
                )
            service_app = ServiceApp(
                f"{name}-{service}",
                ServiceAppArgs(
                    placement=place,
                    spec=spec,
                    app_name=app_names[service],
                    compute=env.container_apps.services[service],
                    image=args.images[service],
                    environment_id=environment.id,
                    identity=identity,
                    registry_server=args.registry_server,
                    settings=settings,
                    secret_uris={
                        var: args.secret_uris[secret] for var, secret in spec.secrets.items()
                    },
                    callers=callers,
                    alert_context=args.alert_context,
                    servicebus_namespace_name=args.servicebus_namespace_name,
                    traffic_pin=env.container_apps.traffic.get(service),
                    depends_on=[args.pull_grants[service]],
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.app_ids[service] = service_app.app_id
            self.setting_names[service] = sorted([*settings, *spec.secrets])

        self.environment_id = environment.id
        self.default_domain = environment.default_domain
        self.static_ip = environment.static_ip
        self.register_outputs(
            {
                "environment_id": self.environment_id,
                "default_domain": self.default_domain,
                "static_ip": self.static_ip,
                "urls": self.urls,
                "app_ids": self.app_ids,
                "setting_names": self.setting_names,
            }
        )
