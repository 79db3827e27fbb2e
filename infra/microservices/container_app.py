"""One service as a Container App: the reusable component each row of the services table uses."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import app

from config.settings import RevisionPin, ServiceCompute
from infra.core.placement import Placement
from infra.microservices.scale import http_scale_rule, servicebus_scale_rule
from infra.microservices.services import LIVENESS_PATH, READINESS_PATH, ServiceSpec
from infra.observability.alerts import AlertContext, container_app_alerts
from infra.registry import ImageRef
from infra.security.managed_identity import WorkloadIdentity

# Container Apps secret names: lower-case alphanumerics, '-' and '.'.
# https://learn.microsoft.com/azure/container-apps/manage-secrets
SECRET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,252}$")

# Probe timings, within Container Apps' bounds (period 1-240 s, timeout 1-240 s, failure
# threshold 1-10, initial delay 0-60 s). Startup allows 5 + 10 x 5 = 55 s before the replica
# is restarted; liveness restarts a hung replica after 3 x 10 s; readiness takes a replica
# whose database or bus is unreachable out of rotation without restarting it.
# https://learn.microsoft.com/azure/container-apps/health-probes
PROBES: tuple[tuple[app.Type, str, int, int, int, int], ...] = (
    # type, path, initial delay, period, timeout, failure threshold
    (app.Type.STARTUP, LIVENESS_PATH, 5, 5, 3, 10),
    (app.Type.LIVENESS, LIVENESS_PATH, 0, 10, 3, 3),
    (app.Type.READINESS, READINESS_PATH, 0, 10, 5, 3),
)


@dataclass(frozen=True)
class CallerRange:
    """A subnet admitted by the app's ingress IP restrictions."""

    name: str
    cidr: str
    description: str


@dataclass(frozen=True)
class ServiceAppArgs:
    """What one service's app needs: its row, its size, its image, identity and settings."""

    placement: Placement
    spec: ServiceSpec
    app_name: str
    compute: ServiceCompute
    image: ImageRef
    environment_id: pulumi.Input[str]
    identity: WorkloadIdentity
    registry_server: pulumi.Input[str]
    settings: Mapping[str, pulumi.Input[str]]
    # Key Vault secret URI per env var, read by the app's identity at secret scope.
    secret_uris: Mapping[str, pulumi.Input[str]]
    callers: Sequence[CallerRange]
    alert_context: AlertContext
    servicebus_namespace_name: pulumi.Input[str] | None = None
    traffic_pin: RevisionPin | None = None
    # The AcrPull grant (and anything else) the first revision's pull waits for.
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


def traffic_weights(pin: RevisionPin | None) -> list[app.TrafficWeightArgs]:
    """Latest revision 100%, or the pinned revision's weight and the latest the rest."""
    if pin is None:
        return [app.TrafficWeightArgs(latest_revision=True, weight=100)]
    weights = [app.TrafficWeightArgs(revision_name=pin.revision_name, weight=pin.weight)]
    if pin.weight < 100:
        weights.append(app.TrafficWeightArgs(latest_revision=True, weight=100 - pin.weight))
    return weights


def secret_references(
    secret_uris: Mapping[str, pulumi.Input[str]], identity_id: pulumi.Input[str]
) -> tuple[list[app.SecretArgs], list[app.EnvironmentVarArgs]]:
    """Key Vault references read with the app's identity, and the env vars that use them.

    No value ever sits in the app's configuration (or in Pulumi state).
    https://learn.microsoft.com/azure/container-apps/manage-secrets#reference-secret-from-key-vault
    """
    secrets: list[app.SecretArgs] = []
    env: list[app.EnvironmentVarArgs] = []
    for env_var, uri in sorted(secret_uris.items()):
        name = env_var.lower().replace("_", "-")
        if not SECRET_NAME.match(name):
            raise ValueError(
                f"env var {env_var!r} makes secret name {name!r}, which Container Apps "
                "refuses; allowed: lower-case letters, digits, '-' and '.'"
            )
        secrets.append(app.SecretArgs(name=name, key_vault_url=uri, identity=identity_id))
        env.append(app.EnvironmentVarArgs(name=env_var, secret_ref=name))
    return secrets, env


def probes(port: int) -> list[app.ContainerAppProbeArgs]:
    """Startup, liveness and readiness probes on the services' health routes."""
    return [
        app.ContainerAppProbeArgs(
            type=kind,
            http_get=app.ContainerAppProbeHttpGetArgs(path=path, port=port, scheme=app.Scheme.HTTP),
            initial_delay_seconds=delay,
            period_seconds=period,
            timeout_seconds=timeout,
            failure_threshold=failures,
        )
        for kind, path, delay, period, timeout, failures in PROBES
    ]


class ServiceApp(pulumi.ComponentResource):
    """A service's Container App: reachable in the VNet only, from its callers' subnets."""

    app_id: pulumi.Output[str]
    """ARM id of the Container App."""
    app_name: pulumi.Output[str]
    """Azure name of the Container App."""
    latest_revision_fqdn: pulumi.Output[str]
    """FQDN of the latest revision (for checking a roll-out before shifting traffic)."""

    def __init__(
        self, name: str, args: ServiceAppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:microservices:ServiceApp", name, None, opts)
        place, spec, compute, image = args.placement, args.spec, args.compute, args.image
        identity = args.identity
        overlap = sorted(set(args.settings) & set(args.secret_uris))
        if overlap:
            raise ValueError(f"{spec.name}: {overlap} are set both as values and as secrets")
        secrets, secret_env = secret_references(args.secret_uris, identity.id)
        env = [
            app.EnvironmentVarArgs(name=key, value=value)
            for key, value in sorted(args.settings.items())
        ] + secret_env
        rules = [http_scale_rule(compute.concurrent_requests)]
        if spec.consumes:
            if args.servicebus_namespace_name is None:
                raise ValueError(f"{spec.name} consumes Service Bus entities, but has no namespace")
            rules += [
                servicebus_scale_rule(
                    consumer,
                    namespace_name=args.servicebus_namespace_name,
                    identity_id=identity.id,
                )
                for consumer in spec.consumes
            ]

        container_app = app.ContainerApp(
            f"{name}-app",
            container_app_name=args.app_name,
            resource_group_name=place.resource_group_name,
            location=place.location,
            managed_environment_id=args.environment_id,
            workload_profile_name=compute.workload_profile,
            identity=app.ManagedServiceIdentityArgs(
                type=app.ManagedServiceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[identity.id],
            ),
            configuration=app.ConfigurationArgs(
                # Several revisions at once, so a new one can take part of the traffic first.
                # https://learn.microsoft.com/azure/container-apps/revisions#revision-modes
                active_revisions_mode=app.ActiveRevisionsMode.MULTIPLE,
                ingress=app.IngressArgs(
                    # In an internal environment, "external" means the VNet (through the
                    # environment's internal load balancer), never the Internet: there is no
                    # public IP. `external=False` would admit only apps of the same
                    # environment, and the gateway and the workers are in other subnets.
                    # https://learn.microsoft.com/azure/container-apps/ingress-overview#external-and-internal-ingress
                    external=True,
                    allow_insecure=False,
                    target_port=image.port,
                    transport=app.IngressTransportMethod.HTTP,
                    # Allow rules only: everything else is denied.
                    # https://learn.microsoft.com/azure/container-apps/ip-restrictions
                    ip_security_restrictions=[
                        app.IpSecurityRestrictionRuleArgs(
                            name=caller.name,
                            action=app.Action.ALLOW,
                            ip_address_range=caller.cidr,
                            description=caller.description,
                        )
                        for caller in args.callers
                    ],
                    traffic=traffic_weights(args.traffic_pin),
                ),
                # Pulled with the service's identity (AcrPull from the registry layer).
                # https://learn.microsoft.com/azure/container-apps/managed-identity-image-pull
                registries=[
                    app.RegistryCredentialsArgs(server=args.registry_server, identity=identity.id)
                ],
                secrets=secrets or None,
            ),
            template=app.TemplateArgs(
                containers=[
                    app.ContainerArgs(
                        name=spec.name,
                        image=image.image,
                        resources=app.ContainerResourcesArgs(
                            cpu=compute.cpu, memory=f"{compute.memory_gi:g}Gi"
                        ),
                        env=env,
                        # The bootstrap image has no health routes (config/images.py).
                        probes=None if image.bootstrap else probes(image.port),
                    )
                ],
                scale=app.ScaleArgs(
                    min_replicas=compute.min_replicas,
                    max_replicas=compute.max_replicas,
                    rules=rules,
                ),
            ),
            tags=dict(place.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        container_app_alerts(
            f"{name}-alert",
            context=args.alert_context,
            container_app_id=container_app.id,
            parent=self,
            tags=place.tags,
        )

        self.app_id = container_app.id
        self.app_name = container_app.name
        self.latest_revision_fqdn = container_app.latest_revision_fqdn
        self.register_outputs(
            {
                "app_id": self.app_id,
                "app_name": self.app_name,
                "latest_revision_fqdn": self.latest_revision_fqdn,
            }
        )
