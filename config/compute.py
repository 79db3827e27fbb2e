"""The compute layers' settings: the workers' Functions app and the services' Container Apps."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from config.base import _Model
from config.images import SERVICE_NAMES, ServiceName


class FunctionsSettings(_Model):
    """Scale of the workers' Flex Consumption app (functionAppConfig.scaleAndConcurrency).

    Flex takes 40-1000 as the per-function-group instance ceiling and 512, 2048 or 4096 MB
    per instance; HTTP concurrency is per instance (the workers' Service Bus concurrency is
    in host.json). https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#set-instance-memory
    """

    maximum_instance_count: Annotated[int, Field(ge=40, le=1000)] = 40
    instance_memory_mb: Literal[512, 2048, 4096] = 2048
    http_per_instance_concurrency: Annotated[int, Field(ge=1, le=1000)] = 16
    python_version: Literal["3.10", "3.11", "3.12"] = "3.11"


# Container Apps on the Consumption workload profile: 0.25-4 vCPU in steps of 0.25, with
# twice as many GiB of memory as vCPUs. https://learn.microsoft.com/azure/container-apps/containers#allocations
CONSUMPTION_PROFILE = "Consumption"
CPU_TO_MEMORY_GI = 2.0
# Replica bounds of a Container App's scale block (0-1000 minimum, 1-1000 maximum).
# https://learn.microsoft.com/azure/container-apps/scale-app#scale-definition
MAX_REPLICAS = 1000
# Regions among config.base.AZURE_REGIONS with availability zones, where a zone-redundant
# environment can be created (and only when it is created).
# https://learn.microsoft.com/azure/reliability/regions-list
ZONE_REDUNDANT_REGIONS = frozenset(
    {
        "westus2",
        "westus3",
        "eastus",
        "eastus2",
        "centralus",
        "southcentralus",
        "canadacentral",
        "westeurope",
        "northeurope",
        "uksouth",
        "francecentral",
        "germanywestcentral",
        "swedencentral",
        "switzerlandnorth",
        "norwayeast",
        "italynorth",
        "polandcentral",
    }
)
# A revision's name: `<app>--<suffix>`, lower-case alphanumerics and hyphens.
# https://learn.microsoft.com/azure/container-apps/revisions#naming
RevisionName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}--[a-z0-9][a-z0-9-]{0,63}$")]


class ServiceCompute(_Model):
    """One service's Container App: size, replica range, HTTP concurrency per replica."""

    cpu: Annotated[float, Field(ge=0.25, le=4.0, multiple_of=0.25)] = 0.5
    memory_gi: Annotated[float, Field(ge=0.5, le=8.0, multiple_of=0.5)] = 1.0
    min_replicas: Annotated[int, Field(ge=0, le=MAX_REPLICAS)] = 1
    max_replicas: Annotated[int, Field(ge=1, le=MAX_REPLICAS)] = 5
    # KEDA's HTTP scaler: concurrent requests per replica before another replica starts.
    # https://learn.microsoft.com/azure/container-apps/scale-app#http
    concurrent_requests: Annotated[int, Field(ge=1, le=10000)] = 50
    workload_profile: Annotated[str, Field(min_length=1, max_length=64)] = CONSUMPTION_PROFILE

    @model_validator(mode="after")
    def _fits(self) -> Self:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"minReplicas = {self.min_replicas} is above maxReplicas = {self.max_replicas}; "
                "allowed: minReplicas <= maxReplicas"
            )
        if self.workload_profile == CONSUMPTION_PROFILE and (
            self.memory_gi != self.cpu * CPU_TO_MEMORY_GI
        ):
            raise ValueError(
                f"cpu = {self.cpu} with memoryGi = {self.memory_gi}: the Consumption profile "
                f"takes {CPU_TO_MEMORY_GI:g} GiB per vCPU; allowed: memoryGi = "
                f"{self.cpu * CPU_TO_MEMORY_GI:g}"
            )
        return self


class DedicatedProfile(_Model):
    """A dedicated workload profile the environment adds next to Consumption.

    https://learn.microsoft.com/azure/container-apps/workload-profiles-overview#profile-types
    """

    name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,14}$")]
    workload_profile_type: Literal["D4", "D8", "D16", "D32", "E4", "E8", "E16", "E32"]
    minimum_count: Annotated[int, Field(ge=0, le=100)] = 0
    maximum_count: Annotated[int, Field(ge=1, le=100)] = 3


class RevisionPin(_Model):
    """Traffic kept on a named revision during a roll-out; the latest revision gets the rest."""

    revision_name: RevisionName
    weight: Annotated[int, Field(ge=0, le=100)]


def _default_services() -> dict[ServiceName, ServiceCompute]:
    return {service: ServiceCompute() for service in SERVICE_NAMES}


class ContainerAppsSettings(_Model):
    """The Container Apps environment and each service's app.

    Revision mode is Multiple everywhere: a new revision takes 100% unless `traffic` pins a
    weight on a previous one. https://learn.microsoft.com/azure/container-apps/traffic-splitting
    """

    # Set only when the environment is created; needs a zonal region and an infrastructure
    # subnet. https://learn.microsoft.com/azure/reliability/reliability-azure-container-apps
    zone_redundant: bool = False
    dedicated_profile: DedicatedProfile | None = None
    services: dict[ServiceName, ServiceCompute] = Field(default_factory=_default_services)
    traffic: dict[ServiceName, RevisionPin] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        missing = [s for s in SERVICE_NAMES if s not in self.services]
        if missing:
            raise ValueError(
                f"containerApps.services is missing {', '.join(missing)}; "
                f"all of {', '.join(SERVICE_NAMES)} are required"
            )
        profiles = {CONSUMPTION_PROFILE}
        if self.dedicated_profile is not None:
            if self.dedicated_profile.name == CONSUMPTION_PROFILE:
                raise ValueError(
                    "containerApps.dedicatedProfile.name = Consumption: that name is the "
                    "environment's Consumption profile; allowed: any other name"
                )
            profiles.add(self.dedicated_profile.name)
        for service, compute in self.services.items():
            if compute.workload_profile not in profiles:
                raise ValueError(
                    f"containerApps.services.{service}.workloadProfile = "
                    f"{compute.workload_profile}: no such profile in the environment; "
                    f"allowed: {', '.join(sorted(profiles))}"
                )
            # Replicas spread over zones only when there are several of them.
            if self.zone_redundant and compute.min_replicas < 2:
                raise ValueError(
                    f"containerApps.services.{service}.minReplicas = {compute.min_replicas} "
                    "with containerApps.zoneRedundant = true: one replica lives in one zone and "
                    "is lost with it; allowed: minReplicas >= 2 (3 spreads over every zone)"
                )
        return self
