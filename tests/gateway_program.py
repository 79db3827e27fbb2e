"""The gateway layer under the mock engine, on top of the real layers it depends on.

`__main__.py` deploys the gateway once the microservices layer gives it the services' URLs
(`deploy_gateway(backend_urls=microservices.urls)`); until then these tests give it literal
internal URLs, the shape `Microservices.urls` has.
"""

from __future__ import annotations

import functools

import pulumi

from config.images import SERVICE_NAMES, ServiceName
from config.settings import SubnetName, read_stack_settings
from infra.core import Core, CoreArgs, Namer, base_tags
from infra.gateway import Gateway, GatewayArgs
from infra.gateway.component import APP_INSIGHTS_SECRET
from infra.networking import Networking, NetworkingArgs
from infra.observability import Observability, ObservabilityArgs
from infra.security import Security, SecurityArgs, Workload, secret_values
from offline.engine import ProgramRun, load_stack_config, run_program

BACKEND_URLS: dict[ServiceName, str] = {
    s: f"https://ca-plat-{s}.internal.example.westus2.azurecontainerapps.io" for s in SERVICE_NAMES
}


def program() -> None:
    """Core, observability, networking, security, then the gateway (as __main__ orders them)."""
    settings = read_stack_settings(pulumi.get_stack())
    env, deployment = settings.env, settings.deployment
    namer = Namer(deployment.workload, env.environment, deployment.region_code)
    core = Core(
        "core",
        CoreArgs(
            location=deployment.location,
            namer=namer,
            tags=base_tags(settings, pulumi.get_project()),
        ),
    )
    place = core.placement(env)
    observability = Observability(
        "observability", ObservabilityArgs(placement=place, alert_emails=deployment.alert_emails)
    )
    networking = Networking(
        "networking", NetworkingArgs(placement=place, workspace_id=observability.workspace_id)
    )
    security = Security(
        "security",
        SecurityArgs(
            placement=place,
            allowed_ip_ranges=list(deployment.allowed_ip_ranges),
            private_endpoint_site=networking.private_endpoint_site,
            workspace_id=observability.workspace_id,
            app_insights_id=observability.app_insights_id,
            secret_values=secret_values(deployment),
            layer_secret_values={APP_INSIGHTS_SECRET: observability.app_insights_connection_string},
            allowed_subnet_ids=(
                []
                if env.security.enable_private_endpoints
                else [networking.subnet_ids[SubnetName.GATEWAY]]
            ),
        ),
    )
    gateway = Gateway(
        "gateway",
        GatewayArgs(
            placement=place,
            identity=security.identities[Workload.GATEWAY],
            subnet_id=networking.subnet_ids[SubnetName.GATEWAY],
            backend_urls=BACKEND_URLS,
            publisher_email=env.gateway.publisher_email or deployment.alert_emails[0],
            workspace_id=observability.workspace_id,
            app_insights_id=observability.app_insights_id,
            app_insights_secret_uri=security.secret_uris[APP_INSIGHTS_SECRET],
            alert_context=observability.alert_context,
            allowed_ip_ranges=deployment.allowed_ip_ranges,
        ),
    )
    pulumi.export("gateway_url", gateway.gateway_url)


def run_gateway(stack: str, **changes: object) -> ProgramRun:
    """The gateway program for a stack, with stack-file config changed as given."""
    config, secrets = load_stack_config(stack)
    config.update(changes)
    return run_program(stack, config=config, secret_keys=secrets, program=program)


@functools.cache
def gateway_run(stack: str) -> ProgramRun:
    """The gateway program for a stack file as it is, once per test process."""
    return run_gateway(stack)
