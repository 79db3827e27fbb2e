"""Azure Container Registry per environment: identity pulls only, private where the env is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerregistry

from config.images import BOOTSTRAP_IMAGE, BOOTSTRAP_PORT, SERVICE_NAMES, ServiceName
from config.settings import AcrSku, SubnetName, secondary_region
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.networking.private_endpoints import (
    PrivateEndpointSite,
    PrivateLink,
    add_private_endpoint,
)
from infra.observability.diagnostics import add_diagnostic_setting
from infra.security.managed_identity import Workload, WorkloadIdentity
from infra.security.rbac import BuiltInRole, assign_role

# The port each service's image listens on (services/*/Dockerfile EXPOSE).
SERVICE_PORT = 8000


@dataclass(frozen=True)
class ImageRef:
    """What a Container App runs: `<registry>/<service>@sha256:...`, or the bootstrap image."""

    image: pulumi.Input[str]
    port: int
    bootstrap: bool
    """True while no digest is configured: public MCR image, port 80, no health probes."""


def image_refs(
    login_server: pulumi.Input[str], digests: Mapping[ServiceName, str]
) -> dict[ServiceName, ImageRef]:
    """Each service's image from stack config; a service without a digest bootstraps."""
    refs: dict[ServiceName, ImageRef] = {}
    for service in SERVICE_NAMES:
        digest = digests.get(service)
        if digest is None:
            refs[service] = ImageRef(BOOTSTRAP_IMAGE, BOOTSTRAP_PORT, bootstrap=True)
        else:
            image = pulumi.Output.concat(login_server, "/", service, "@", digest)
            refs[service] = ImageRef(image, SERVICE_PORT, bootstrap=False)
    return refs


@dataclass(frozen=True)
class RegistryArgs:
    """What the registry needs: the placement, the identities that pull, where logs go."""

    placement: Placement
    identities: Mapping[Workload, WorkloadIdentity]
    subscription_id: pulumi.Input[str]
    private_endpoint_site: PrivateEndpointSite | None
    workspace_id: pulumi.Input[str]
    # Public ranges admitted by a Premium registry's firewall; Basic and Standard have none.
    allowed_ip_ranges: Sequence[pulumi.Input[str]]
    images: Mapping[ServiceName, str]
    """Digest per service (`platform:images`)."""


class Registry(pulumi.ComponentResource):
    """The registry, AcrPull for each service's identity, and the image each service runs."""

    registry_id: pulumi.Output[str]
    """ARM id of the registry (scope of the AcrPull grants)."""
    login_server: pulumi.Output[str]
    """<name>.azurecr.io: the server Container Apps pull from with their identity."""
    images: dict[ServiceName, ImageRef]
    """Per service: the digest reference, or the bootstrap image where none is configured."""
    bootstrapped: tuple[ServiceName, ...]
    """Services running the bootstrap image this deploy (exported so the plan says so)."""
    pull_grants: dict[ServiceName, pulumi.Resource]
    """Each service's AcrPull grant: its Container App is created after it, or the pull fails."""

    def __init__(
        self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:registry:Registry", name, None, opts)
        place = args.placement
        env = place.env
        tags = layer_tags(place.tags, "registry")
        sku = env.skus.container_registry
        private = env.security.enable_private_endpoints
        premium = sku is AcrSku.PREMIUM

        registry = containerregistry.Registry(
            f"{name}-acr",
            registry_name=place.namer.unique_name("container_registry", place.name_suffix),
            resource_group_name=place.resource_group_name,
            location=place.location,
            sku=containerregistry.SkuArgs(name=sku.value),
            # Pulls and pushes use Entra identities only.
            # https://learn.microsoft.com/azure/container-registry/container-registry-authentication
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access="Disabled" if private else "Enabled",
            # Network rules are Premium only; Basic and Standard are reachable with a token.
            # https://learn.microsoft.com/azure/container-registry/container-registry-access-selected-networks
            network_rule_set=(
                containerregistry.NetworkRuleSetArgs(
                    default_action=containerregistry.DefaultAction.DENY,
                    ip_rules=[
                        containerregistry.IPRuleArgs(i_p_address_or_range=ip, action="Allow")
                        for ip in args.allowed_ip_ranges
                    ],
                )
                if premium
                else None
            ),
            # Trusted services (ACR Tasks, Defender) still reach a locked-down registry.
            network_rule_bypass_options="AzureServices" if premium else None,
            zone_redundancy="Enabled" if premium and env.environment == "prod" else None,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        replica = secondary_region(env.recovery, place.location)
        if env.recovery.acr_geo_replication and replica is not None:
            # The same login server and digests served from the secondary region: a
            # redeploy there pulls what prod ran. Premium only (settings enforce it).
            # https://learn.microsoft.com/azure/container-registry/container-registry-geo-replication
            containerregistry.Replication(
                f"{name}-acr-replica",
                registry_name=registry.name,
                resource_group_name=place.resource_group_name,
                location=replica,
                replication_name=replica,
                region_endpoint_enabled=True,
                zone_redundancy="Enabled",
                tags=tags,
                opts=pulumi.ResourceOptions(parent=registry),
            )

        # Each service pulls its own image with its user-assigned identity (AcrPull, nothing
        # more), scoped to this registry. The workers run on Functions from a zip, not here.
        # https://learn.microsoft.com/azure/container-apps/managed-identity-image-pull
        self.pull_grants = {}
        for service in SERVICE_NAMES:
            identity = args.identities[Workload(service)]
            self.pull_grants[service] = assign_role(
                f"{name}-acrpull-{service}",
                role=BuiltInRole.ACR_PULL,
                scope=registry.id,
                principal_id=identity.principal_id,
                subscription_id=args.subscription_id,
                parent=self,
                description=f"{service} pulls its image from the registry",
            )

        # Repository and login events; https://learn.microsoft.com/azure/container-registry/monitor-container-registry-reference
        add_diagnostic_setting(
            f"{name}-acr-diag",
            target_resource_id=registry.id,
            workspace_id=args.workspace_id,
            parent=registry,
        )
        if args.private_endpoint_site is not None:
            add_private_endpoint(
                f"{name}-acr",
                args.private_endpoint_site,
                service=PrivateLink.CONTAINER_REGISTRY,
                target_resource_id=registry.id,
                azure_name=place.namer.name("private_endpoint", role="acr"),
                subnet=SubnetName.DATA,
                tags=tags,
                parent=self,
            )

        self.registry_id = registry.id
        self.login_server = registry.login_server
        self.images = image_refs(registry.login_server, args.images)
        self.bootstrapped = tuple(s for s, ref in self.images.items() if ref.bootstrap)
        self.register_outputs(
            {
                "registry_id": self.registry_id,
                "login_server": self.login_server,
                "images": {s: ref.image for s, ref in self.images.items()},
                "bootstrapped": list(self.bootstrapped),
            }
        )
