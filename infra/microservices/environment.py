"""The Container Apps environment: workload profiles, internal, in the app subnet, and its DNS."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import app, privatedns

from config.settings import CONSUMPTION_PROFILE, ContainerAppsSettings
from infra.core.placement import Placement
from infra.observability.diagnostics import add_diagnostic_setting

# The record every app name resolves through: <app>.<default domain> -> the static IP.
WILDCARD_RECORD = "*"
DNS_TTL_SECONDS = 300


def workload_profiles(settings: ContainerAppsSettings) -> list[app.WorkloadProfileArgs]:
    """Consumption always; a dedicated profile where the settings add one.

    https://learn.microsoft.com/azure/container-apps/workload-profiles-overview
    """
    profiles = [
        app.WorkloadProfileArgs(name=CONSUMPTION_PROFILE, workload_profile_type=CONSUMPTION_PROFILE)
    ]
    dedicated = settings.dedicated_profile
    if dedicated is not None:
        profiles.append(
            app.WorkloadProfileArgs(
                name=dedicated.name,
                workload_profile_type=dedicated.workload_profile_type,
                minimum_count=dedicated.minimum_count,
                maximum_count=dedicated.maximum_count,
            )
        )
    return profiles


@dataclass(frozen=True)
class AppEnvironment:
    """What the apps and the layer's outputs need of the environment."""

    id: pulumi.Output[str]
    default_domain: pulumi.Output[str]
    static_ip: pulumi.Output[str]
    dns_zone_id: pulumi.Output[str]


def create_environment(
    name: str,
    *,
    placement: Placement,
    tags: Mapping[str, str],
    subnet_id: pulumi.Input[str],
    vnet_id: pulumi.Input[str],
    workspace_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> AppEnvironment:
    """The environment, its logs to the workspace, and the private zone of its domain."""
    settings = placement.env.container_apps
    environment = app.ManagedEnvironment(
        f"{name}-env",
        environment_name=placement.namer.name("container_apps_environment"),
        resource_group_name=placement.resource_group_name,
        location=placement.location,
        workload_profiles=workload_profiles(settings),
        # Internal: the environment's only address is the internal load balancer's in the
        # app subnet (delegated to Microsoft.App/environments by the networking layer).
        # https://learn.microsoft.com/azure/container-apps/networking#accessibility-level
        vnet_configuration=app.VnetConfigurationArgs(
            infrastructure_subnet_id=subnet_id, internal=True
        ),
        zone_redundant=settings.zone_redundant,
        # Logs go through Azure Monitor diagnostic settings below, so the workspace's shared
        # key never enters the environment's configuration (or Pulumi state).
        # https://learn.microsoft.com/azure/container-apps/log-options#azure-monitor
        app_logs_configuration=app.AppLogsConfigurationArgs(destination="azure-monitor"),
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    # Console and system logs land in resource-specific tables (ContainerAppConsoleLogs, ...).
    add_diagnostic_setting(
        f"{name}-env-diag",
        target_resource_id=environment.id,
        workspace_id=workspace_id,
        parent=environment,
        log_analytics_destination_type="Dedicated",
    )

    # An internal environment's domain resolves nowhere until a private zone of that name,
    # with a wildcard to the environment's static IP, is linked to the VNet.
    # https://learn.microsoft.com/azure/container-apps/vnet-custom-internal#configure-the-private-dns
    zone = privatedns.PrivateZone(
        f"{name}-dns",
        private_zone_name=environment.default_domain,
        resource_group_name=placement.resource_group_name,
        location="global",
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=environment),
    )
    privatedns.PrivateRecordSet(
        f"{name}-dns-wildcard",
        private_zone_name=zone.name,
        resource_group_name=placement.resource_group_name,
        record_type="A",
        relative_record_set_name=WILDCARD_RECORD,
        ttl=DNS_TTL_SECONDS,
        a_records=[privatedns.ARecordArgs(ipv4_address=environment.static_ip)],
        opts=pulumi.ResourceOptions(parent=zone),
    )
    privatedns.VirtualNetworkLink(
        f"{name}-dns-link",
        private_zone_name=zone.name,
        resource_group_name=placement.resource_group_name,
        virtual_network_link_name="link-container-apps",
        location="global",
        registration_enabled=False,
        virtual_network=privatedns.SubResourceArgs(id=vnet_id),
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=zone),
    )
    return AppEnvironment(
        id=environment.id,
        default_domain=environment.default_domain,
        static_ip=environment.static_ip,
        dns_zone_id=zone.id,
    )
