"""Composition root: stack settings -> layers in seed 003's deployment order -> exports."""

import pulumi

from config.settings import SettingsError, read_stack_settings
from infra.core import Core, CoreArgs, Namer, base_tags
from infra.networking import Networking, NetworkingArgs

try:
    settings = read_stack_settings(pulumi.get_stack())
except SettingsError as error:
    # RunError prints the message alone, without a traceback; nothing has been registered.
    raise pulumi.RunError(str(error)) from None

env = settings.env
deployment = settings.deployment
tags = base_tags(settings, pulumi.get_project())
namer = Namer(deployment.workload, env.environment, deployment.region_code)

# 1. Core: resource group, naming suffix.
core = Core("core", CoreArgs(location=deployment.location, namer=namer, tags=tags))

# 2. Networking: VNet, subnets and NSGs, NAT, private DNS; DDoS and firewall where set.
networking = Networking(
    "networking",
    NetworkingArgs(
        resource_group_name=core.resource_group_name,
        location=deployment.location,
        env=env,
        namer=namer,
        tags=tags,
    ),
)

pulumi.export("environment", env.environment)
pulumi.export("location", deployment.location)
pulumi.export("resource_group_name", core.resource_group_name)
pulumi.export("feature_flags", env.features.model_dump())
pulumi.export("vnet_id", networking.vnet_id)
if networking.egress_public_ip is not None:
    pulumi.export("egress_public_ip", networking.egress_public_ip)
