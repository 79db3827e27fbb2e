"""The SPA's Static Web App; Front Door Standard/Premium in front of it where enable_cdn is on.

The SPA's build is not linked to a repository: the pipeline builds services/web and uploads
dist/ with the app's deployment token (`swa deploy` or Azure/static-web-apps-deploy with
`skip_app_build`), README "Frontend". Front Door is the only way in where it exists: the
app's staticwebapp.config.json admits only requests carrying this profile's X-Azure-FDID
(`forwarding_gateway`, rendered into the build by services/web/swa-config.ts).
https://learn.microsoft.com/azure/static-web-apps/front-door-manual
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import cdn, dns, web

from config.settings import COMPRESSED_CONTENT_TYPES, DnsZoneRef, StaticWebAppSku
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.observability.diagnostics import add_diagnostic_setting

# Names inside the profile (unique per profile, 1-50 letters, digits and hyphens).
ORIGIN_GROUP_NAME = "spa"
ORIGIN_NAME = "static-web-app"
SPA_ROUTE_NAME = "spa"
ASSETS_ROUTE_NAME = "assets"
SECURITY_POLICY_NAME = "waf"
# Front Door's health probe every 100 s (its default) with HEAD, cheapest on the origin:
# https://learn.microsoft.com/azure/frontdoor/health-probes
PROBE_INTERVAL_SECONDS = 100
# The TXT record Front Door reads to validate a custom domain's ownership:
# https://learn.microsoft.com/azure/frontdoor/standard-premium/how-to-add-custom-domain
VALIDATION_RECORD_PREFIX = "_dnsauth"


@dataclass(frozen=True)
class FrontendArgs:
    """What the frontend needs: the placement, the WAF policy, where logs go, the domain."""

    placement: Placement
    waf_policy_id: pulumi.Input[str] | None
    """The security layer's Front Door WAF policy; required where enable_cdn is on."""
    workspace_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    custom_domain: str | None
    """platform:customDomain, e.g. trade.example.com."""
    dns_zone: DnsZoneRef | None
    """An existing zone for the records; None creates the parent domain's zone here."""


def forwarding_gateway(
    front_door_id: pulumi.Input[str], hosts: list[pulumi.Input[str]]
) -> pulumi.Output[dict[str, object]]:
    """The staticwebapp.config.json sections that lock the app to one Front Door profile."""
    return pulumi.Output.all(front_door_id, *hosts).apply(
        lambda values: {
            "networking": {"allowedIpRanges": ["AzureFrontDoor.Backend"]},
            "forwardingGateway": {
                "requiredHeaders": {"X-Azure-FDID": values[0]},
                "allowedForwardedHosts": list(values[1:]),
            },
        }
    )


def zone_of(custom_domain: str, zone: DnsZoneRef | None) -> tuple[str, str]:
    """(zone name, record name relative to it); the parent domain when no zone is given."""
    zone_name = zone.name if zone is not None else custom_domain.split(".", 1)[1]
    return zone_name, custom_domain.removesuffix("." + zone_name)


class Frontend(pulumi.ComponentResource):
    """Static Web App; where enable_cdn is on, Front Door with routes, WAF and custom domain."""

    static_web_app_name: pulumi.Output[str]
    """The app the pipeline deploys dist/ to (`swa deploy --app-name`)."""
    default_hostname: pulumi.Output[str]
    """<name>.azurestaticapps.net: Front Door's origin, or the public host without it."""
    url: pulumi.Output[str]
    """Where people open the SPA: the custom domain, Front Door's endpoint, or the app."""
    front_door_id: pulumi.Output[str] | None
    """The profile's X-Azure-FDID, which the app's config requires where Front Door is on."""
    endpoint_host_name: pulumi.Output[str] | None
    """<endpoint>-<hash>.z01.azurefd.net."""
    forwarding_gateway: pulumi.Output[dict[str, object]] | None
    """The SWA config sections the pipeline renders into the build (see module doc)."""
    name_servers: pulumi.Output[list[str]] | None
    """Name servers of the zone this layer created, for the registrar's delegation."""

    def __init__(
        self, name: str, args: FrontendArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:frontend:Frontend", name, None, opts)
        place = args.placement
        env = place.env
        settings = env.frontend
        tags = layer_tags(place.tags, "frontend")
        sku = settings.static_web_app_sku

        site = web.StaticSite(
            f"{name}-swa",
            name=place.namer.name("static_web_app"),
            resource_group_name=place.resource_group_name,
            location=settings.static_web_app_location or place.location,
            sku=web.SkuDescriptionArgs(name=sku.value, tier=sku.value),
            # Preview environments get their own public host names; the pipeline deploys
            # the production environment only.
            staging_environment_policy=web.StagingEnvironmentPolicy.DISABLED,
            allow_config_file_updates=True,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.static_web_app_name = site.name
        self.default_hostname = site.default_hostname
        self.url = pulumi.Output.concat("https://", site.default_hostname)
        self.front_door_id = None
        self.endpoint_host_name = None
        self.forwarding_gateway = None
        self.name_servers = None

        if env.features.enable_cdn:
            if args.waf_policy_id is None:
                raise ValueError("enable_cdn is on but the security layer made no WAF policy")
            if sku is not StaticWebAppSku.STANDARD:
                raise ValueError(f"Front Door's X-Azure-FDID lock needs Standard, not {sku}")
            self._front_door(name, args, site, tags)

        self.register_outputs(
            {
                "static_web_app_name": self.static_web_app_name,
                "default_hostname": self.default_hostname,
                "url": self.url,
                "front_door_id": self.front_door_id,
                "endpoint_host_name": self.endpoint_host_name,
                "forwarding_gateway": self.forwarding_gateway,
                "name_servers": self.name_servers,
            }
        )

    def _front_door(
        self, name: str, args: FrontendArgs, site: web.StaticSite, tags: dict[str, str]
    ) -> None:
        place = args.placement
        env = place.env
        settings = env.frontend
        rg = place.resource_group_name
        child = pulumi.ResourceOptions(parent=self)

        profile = cdn.Profile(
            f"{name}-afd",
            profile_name=place.namer.name("front_door"),
            resource_group_name=rg,
            location="Global",
            sku=cdn.SkuArgs(name=env.skus.front_door.value),
            origin_response_timeout_seconds=60,
            tags=tags,
            opts=child,
        )
        # Access and WAF logs: https://learn.microsoft.com/azure/frontdoor/monitor-front-door
        add_diagnostic_setting(
            f"{name}-afd-diag",
            target_resource_id=profile.id,
            workspace_id=args.workspace_id,
            parent=profile,
        )
        endpoint = cdn.AFDEndpoint(
            f"{name}-afd-endpoint",
            endpoint_name=place.namer.unique_name("front_door_endpoint", place.name_suffix),
            profile_name=profile.name,
            resource_group_name=rg,
            location="Global",
            enabled_state="Enabled",
            tags=tags,
            opts=child,
        )
        group = cdn.AFDOriginGroup(
            f"{name}-afd-origins",
            origin_group_name=ORIGIN_GROUP_NAME,
            profile_name=profile.name,
            resource_group_name=rg,
            health_probe_settings=cdn.HealthProbeParametersArgs(
                probe_path="/",
                probe_protocol=cdn.ProbeProtocol.HTTPS,
                probe_request_type=cdn.HealthProbeRequestType.HEAD,
                probe_interval_in_seconds=PROBE_INTERVAL_SECONDS,
            ),
            load_balancing_settings=cdn.LoadBalancingSettingsParametersArgs(
                sample_size=4, successful_samples_required=3, additional_latency_in_milliseconds=50
            ),
            session_affinity_state="Disabled",
            opts=child,
        )
        origin = cdn.AFDOrigin(
            f"{name}-afd-origin",
            origin_name=ORIGIN_NAME,
            origin_group_name=group.name,
            profile_name=profile.name,
            resource_group_name=rg,
            # The app's default host as origin and host header: SWA routes by host name.
            host_name=site.default_hostname,
            origin_host_header=site.default_hostname,
            http_port=80,
            https_port=443,
            priority=1,
            weight=1000,
            enforce_certificate_name_check=True,
            enabled_state="Enabled",
            opts=child,
        )

        domain = None
        if args.custom_domain is not None:
            domain = self._custom_domain(name, args, profile, endpoint, tags)
        domains = [cdn.ActivatedResourceReferenceArgs(id=domain.id)] if domain else None

        def route(role: str, route_name: str, patterns: list[str], cached: bool) -> cdn.Route:
            return cdn.Route(
                f"{name}-afd-route-{role}",
                route_name=route_name,
                endpoint_name=endpoint.name,
                profile_name=profile.name,
                resource_group_name=rg,
                origin_group=cdn.ResourceReferenceArgs(id=group.id),
                custom_domains=domains,
                patterns_to_match=patterns,
                supported_protocols=["Http", "Https"],
                # HTTP is answered with a redirect, and Front Door talks HTTPS to the app.
                https_redirect="Enabled",
                forwarding_protocol="HttpsOnly",
                link_to_default_domain="Enabled",
                # Hashed bundles are cached at the edge and compressed (compression works
                # only on cached routes); everything else goes to the app each time, so a
                # new deploy's index.html is seen at once.
                # https://learn.microsoft.com/azure/frontdoor/front-door-caching
                cache_configuration=(
                    cdn.AfdRouteCacheConfigurationArgs(
                        query_string_caching_behavior="IgnoreQueryString",
                        compression_settings=cdn.CompressionSettingsArgs(
                            is_compression_enabled=True,
                            content_types_to_compress=list(COMPRESSED_CONTENT_TYPES),
                        ),
                    )
                    if cached
                    else None
                ),
                enabled_state="Enabled",
                # A route needs its origin to exist before it can be linked.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[origin]),
            )

        route("spa", SPA_ROUTE_NAME, ["/*"], cached=False)
        route("assets", ASSETS_ROUTE_NAME, list(settings.cached_path_patterns), cached=True)

        # The security layer's WAF policy inspects every request to the endpoint and domain.
        associated = [cdn.ActivatedResourceReferenceArgs(id=endpoint.id)]
        if domain is not None:
            associated.append(cdn.ActivatedResourceReferenceArgs(id=domain.id))
        cdn.SecurityPolicy(
            f"{name}-afd-waf",
            security_policy_name=SECURITY_POLICY_NAME,
            profile_name=profile.name,
            resource_group_name=rg,
            parameters=cdn.SecurityPolicyWebApplicationFirewallParametersArgs(
                type="WebApplicationFirewall",
                waf_policy=cdn.ResourceReferenceArgs(id=args.waf_policy_id),
                associations=[
                    cdn.SecurityPolicyWebApplicationFirewallAssociationArgs(
                        domains=associated, patterns_to_match=["/*"]
                    )
                ],
            ),
            opts=child,
        )

        hosts: list[pulumi.Input[str]] = [endpoint.host_name]
        if args.custom_domain is not None:
            hosts.append(args.custom_domain)
            self.url = pulumi.Output.from_input(f"https://{args.custom_domain}")
        else:
            self.url = pulumi.Output.concat("https://", endpoint.host_name)
        self.front_door_id = profile.front_door_id
        self.endpoint_host_name = endpoint.host_name
        self.forwarding_gateway = forwarding_gateway(profile.front_door_id, hosts)

    def _custom_domain(
        self,
        name: str,
        args: FrontendArgs,
        profile: cdn.Profile,
        endpoint: cdn.AFDEndpoint,
        tags: dict[str, str],
    ) -> cdn.AFDCustomDomain:
        place = args.placement
        assert args.custom_domain is not None
        zone_name, record = zone_of(args.custom_domain, args.dns_zone)
        ttl = place.env.frontend.dns_ttl_seconds
        zone_id: pulumi.Input[str]
        if args.dns_zone is not None:
            zone_rg: pulumi.Input[str] = args.dns_zone.resource_group_name
            zone_id = pulumi.Output.format(
                "/subscriptions/{0}/resourceGroups/{1}/providers/Microsoft.Network/dnszones/{2}",
                args.subscription_id,
                args.dns_zone.resource_group_name,
                zone_name,
            )
        else:
            zone = dns.Zone(
                f"{name}-dns-zone",
                zone_name=zone_name,
                resource_group_name=place.resource_group_name,
                location="global",
                zone_type=dns.ZoneType.PUBLIC,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            zone_rg, zone_id = place.resource_group_name, zone.id
            self.name_servers = zone.name_servers.apply(list)

        domain = cdn.AFDCustomDomain(
            f"{name}-afd-domain",
            custom_domain_name=args.custom_domain.replace(".", "-"),
            host_name=args.custom_domain,
            profile_name=profile.name,
            resource_group_name=place.resource_group_name,
            azure_dns_zone=cdn.ResourceReferenceArgs(id=zone_id),
            # Front Door issues and renews the certificate once the TXT record validates.
            tls_settings=cdn.AFDDomainHttpsParametersArgs(
                certificate_type="ManagedCertificate",
                minimum_tls_version=cdn.AfdMinimumTlsVersion.TLS12,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        dns.RecordSet(
            f"{name}-dns-validation",
            record_type="TXT",
            relative_record_set_name=f"{VALIDATION_RECORD_PREFIX}.{record}",
            zone_name=zone_name,
            resource_group_name=zone_rg,
            ttl=ttl,
            txt_records=[
                dns.TxtRecordArgs(
                    value=[domain.validation_properties.apply(lambda v: v.validation_token or "")]
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        dns.RecordSet(
            f"{name}-dns-cname",
            record_type="CNAME",
            relative_record_set_name=record,
            zone_name=zone_name,
            resource_group_name=zone_rg,
            ttl=ttl,
            cname_record=dns.CnameRecordArgs(cname=endpoint.host_name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return domain
