"""The gateway layer: API Management in front of the internal services (seed 003, step 9)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import apimanagement, network

from config.images import SERVICE_NAMES, ServiceName
from config.settings import APIM_INJECTED_SKUS
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.gateway.openapi import load_document, published_document, query_parameters
from infra.gateway.policy_xml import (
    LookupCache,
    RouteGuard,
    api_policy,
    global_policy,
    product_policy,
)
from infra.observability.alerts import AlertContext, gateway_alerts
from infra.observability.diagnostics import add_diagnostic_setting
from infra.security.managed_identity import WorkloadIdentity

# Classic-tier custom properties that switch off TLS 1.0/1.1, SSL 3.0 (client and backend
# sides) and 3DES. v2 tiers offer none of these and take no such properties.
# https://learn.microsoft.com/azure/api-management/api-management-howto-manage-protocols-ciphers
LEGACY_PROTOCOLS_OFF: dict[str, str] = {
    **{
        f"Microsoft.WindowsAzure.ApiManagement.Gateway.Security.{side}Protocols.{version}": "false"
        for side in ("", "Backend.")
        for version in ("Tls10", "Tls11", "Ssl30")
    },
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Ciphers.TripleDes168": "false",
}
# Common contract: callers present their key in this header.
SUBSCRIPTION_KEY_HEADER = "Ocp-Apim-Subscription-Key"
# The named value the logger's credentials refer to as {{...}}.
APP_INSIGHTS_NAMED_VALUE = "appinsights-connection-string"
APP_INSIGHTS_SECRET = "appinsights-connection-string"  # noqa: S105 - a Key Vault secret's name
# Requests sampled into Application Insights; the gateway's own logs keep every request.
TELEMETRY_SAMPLING_PERCENT = {"dev": 100.0, "qa": 100.0, "staging": 100.0, "prod": 25.0}


@dataclass(frozen=True)
class ProductSpec:
    """One API Management product: which APIs, what limits, which guards."""

    id: str
    display_name: str
    description: str
    apis: tuple[ServiceName, ...]
    limits_field: str
    """GatewaySettings field holding the product's ProductLimits."""
    read_only: bool = False
    guards: tuple[RouteGuard, ...] = ()


# Seed 003's API gateway products. Reference data is lookups only; trading is the order flow,
# settlements and the caller's own record in users-api (its admin routes are not offered).
PRODUCTS: tuple[ProductSpec, ...] = (
    ProductSpec(
        id="reference-data",
        display_name="Reference data",
        description="Instrument lookups (ISIN, CFI, LEI, MIC), read-only.",
        apis=("products",),
        limits_field="reference_data",
        read_only=True,
    ),
    ProductSpec(
        id="trading",
        display_name="Trading",
        description="Orders, settlements and the caller's own user record.",
        apis=("orders", "payments", "users"),
        limits_field="trading",
        guards=(RouteGuard(api_path="users", route="/v1/me"),),
    ),
)
# APIs whose GET responses the gateway caches (issue 14: product lookups).
CACHED_APIS: frozenset[ServiceName] = frozenset({"products"})


def _render_api_policy(
    authenticate_base_url: str,
    *,
    backend_id: str,
    verdict_cache_seconds: int,
    lookup_cache: LookupCache | None,
) -> str:
    """api_policy with users-api's URL once it is known (a plain string render)."""
    return api_policy(
        backend_id=backend_id,
        authenticate_base_url=authenticate_base_url,
        verdict_cache_seconds=verdict_cache_seconds,
        lookup_cache=lookup_cache,
    )


@dataclass(frozen=True)
class GatewayArgs:
    """What the gateway needs from settings and from the layers before it."""

    placement: Placement
    identity: WorkloadIdentity
    """The gateway's user-assigned identity (Key Vault named values, App Insights)."""
    subnet_id: pulumi.Input[str]
    """The gateway subnet: injected (classic) or outbound-integrated (v2)."""
    backend_urls: Mapping[ServiceName, pulumi.Input[str]]
    """`https://<internal fqdn>` of each service (Microservices.urls)."""
    publisher_email: str
    workspace_id: pulumi.Input[str]
    app_insights_id: pulumi.Input[str]
    app_insights_secret_uri: pulumi.Input[str]
    """Key Vault URI of the connection string, readable by `identity` (secrets table)."""
    alert_context: AlertContext
    allowed_ip_ranges: Sequence[str] = ()
    """platform:allowedIpRanges: the only callers the ip-filter admits, when set."""
    # The SPA's origin (the frontend layer's URL): the one origin CORS admits. The setting
    # gateway.frontendOrigin, when set, takes precedence (a custom origin known in advance).
    frontend_origin: pulumi.Input[str] | None = None
    documents: Mapping[ServiceName, dict[str, object]] = field(default_factory=dict)
    """OpenAPI documents by service; services/<svc>/openapi.json where not given."""


class Gateway(pulumi.ComponentResource):
    """API Management: one API per service, two products, the policies, logs and alerts."""

    service_name: pulumi.Output[str]
    """Azure name of the API Management service."""
    gateway_url: pulumi.Output[str]
    """https://<service>.azure-api.net: where clients call `/<service>/v1/...`."""
    api_ids: dict[ServiceName, pulumi.Output[str]]
    """ARM id of each published API."""
    product_ids: dict[str, pulumi.Output[str]]
    """ARM id of each product, by product id."""

    def __init__(
        self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:gateway:Gateway", name, None, opts)
        place = args.placement
        env = place.env
        settings = env.gateway
        sku = env.skus.api_management
        injected = sku in APIM_INJECTED_SKUS
        tags = layer_tags(place.tags, "gateway")
        missing = sorted(set(SERVICE_NAMES) - set(args.backend_urls))
        if missing:
            raise ValueError(
                f"gateway: no backend URL for {', '.join(missing)}; backend_urls needs every "
                f"service ({', '.join(SERVICE_NAMES)})"
            )
        service_name = place.namer.unique_name("api_management", place.name_suffix)

        public_ip = None
        if injected:
            # stv2 injection takes a Standard static public IPv4 with a DNS label, in the
            # service's region and subscription.
            # https://learn.microsoft.com/azure/api-management/virtual-network-injection-resources
            public_ip = network.PublicIPAddress(
                f"{name}-pip",
                public_ip_address_name=place.namer.name("public_ip", role="apim"),
                resource_group_name=place.resource_group_name,
                location=place.location,
                sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
                public_ip_allocation_method="Static",
                public_ip_address_version="IPv4",
                dns_settings=network.PublicIPAddressDnsSettingsArgs(
                    domain_name_label=service_name.apply(str.lower)
                ),
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )

        service = apimanagement.ApiManagementService(
            f"{name}-apim",
            service_name=service_name,
            resource_group_name=place.resource_group_name,
            location=place.location,
            sku=apimanagement.ApiManagementServiceSkuPropertiesArgs(
                name=sku.value, capacity=settings.capacity
            ),
            publisher_name=settings.publisher_name,
            publisher_email=args.publisher_email,
            identity=apimanagement.ApiManagementServiceIdentityArgs(
                type="UserAssigned",
                user_assigned_identities=pulumi.Output.from_input(args.identity.id).apply(
                    lambda identity_id: {identity_id: apimanagement.UserIdentityPropertiesArgs()}
                ),
            ),
            custom_properties=dict(LEGACY_PROTOCOLS_OFF) if injected else None,
            # Classic: injected in External mode (public gateway, backends through the VNet).
            # v2: outbound VNet integration through the delegated subnet, public gateway.
            # https://learn.microsoft.com/azure/api-management/integrate-vnet-outbound
            virtual_network_type="External",
            virtual_network_configuration=apimanagement.VirtualNetworkConfigurationArgs(
                subnet_resource_id=args.subnet_id
            ),
            public_ip_address_id=public_ip.id if public_ip is not None else None,
            public_network_access="Enabled",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        rg, apim = place.resource_group_name, service.name

        def child(resource: pulumi.Resource | None = None) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(
                parent=self, depends_on=[resource] if resource is not None else None
            )

        # Gateway request logs into ApiManagementGatewayLogs (the 5xx alert queries it).
        add_diagnostic_setting(
            f"{name}-apim-diag",
            target_resource_id=service.id,
            workspace_id=args.workspace_id,
            log_analytics_destination_type="Dedicated",
            parent=self,
        )
        gateway_alerts(
            f"{name}-alert",
            context=args.alert_context,
            apim_id=service.id,
            parent=self,
            tags=tags,
        )

        # Every secret the gateway uses is a Key Vault reference read with its identity.
        # https://learn.microsoft.com/azure/api-management/api-management-howto-properties
        connection_string = apimanagement.NamedValue(
            f"{name}-nv-appinsights",
            named_value_id=APP_INSIGHTS_NAMED_VALUE,
            display_name=APP_INSIGHTS_NAMED_VALUE,
            secret=True,
            key_vault=apimanagement.KeyVaultContractCreatePropertiesArgs(
                secret_identifier=args.app_insights_secret_uri,
                identity_client_id=args.identity.client_id,
            ),
            resource_group_name=rg,
            service_name=apim,
            opts=child(),
        )
        # App Insights takes Entra-authenticated telemetry only: the connection string names
        # the component, the identity (Monitoring Metrics Publisher on it) authenticates.
        # https://learn.microsoft.com/azure/api-management/api-management-howto-app-insights
        logger = apimanagement.Logger(
            f"{name}-logger",
            logger_id="appinsights",
            logger_type="applicationInsights",
            description="Application Insights, with the gateway's managed identity",
            resource_id=args.app_insights_id,
            credentials={
                "connectionString": "{{" + APP_INSIGHTS_NAMED_VALUE + "}}",
                "identityClientId": args.identity.client_id,
            },
            is_buffered=True,
            resource_group_name=rg,
            service_name=apim,
            opts=child(connection_string),
        )
        apimanagement.Diagnostic(
            f"{name}-diagnostic",
            diagnostic_id="applicationinsights",
            logger_id=logger.id,
            always_log="allErrors",
            http_correlation_protocol="W3C",
            verbosity="information",
            # No client IPs, headers or bodies: Authorization carries passwords.
            log_client_ip=False,
            sampling=apimanagement.SamplingSettingsArgs(
                sampling_type="fixed", percentage=TELEMETRY_SAMPLING_PERCENT[env.environment]
            ),
            metrics=True,
            resource_group_name=rg,
            service_name=apim,
            opts=child(),
        )

        documents = {
            service_key: published_document(
                dict(args.documents[service_key])
                if service_key in args.documents
                else load_document(service_key)
            )
            for service_key in SERVICE_NAMES
        }
        request_headers = sorted(
            {
                str(p["name"])
                for document in documents.values()
                for item in document["paths"].values()
                for operation in item.values()
                if isinstance(operation, dict)
                for p in operation.get("parameters") or []
                if p.get("in") == "header"
            }
        )
        apimanagement.Policy(
            f"{name}-policy",
            policy_id="policy",
            format="xml",
            value=pulumi.Output.from_input(settings.frontend_origin or args.frontend_origin).apply(
                lambda origin: global_policy(
                    allowed_ip_ranges=list(args.allowed_ip_ranges),
                    frontend_origin=origin,
                    request_headers=request_headers,
                )
            ),
            resource_group_name=rg,
            service_name=apim,
            opts=child(),
        )

        self.api_ids = {}
        apis: dict[ServiceName, apimanagement.Api] = {}
        users_url = args.backend_urls["users"]
        for service_key in SERVICE_NAMES:
            document = documents[service_key]
            info = document.get("info") or {}
            backend = apimanagement.Backend(
                f"{name}-backend-{service_key}",
                backend_id=service_key,
                title=f"{service_key}-api",
                description=f"{service_key}-api's internal Container App",
                url=args.backend_urls[service_key],
                protocol="http",
                tls=apimanagement.BackendTlsPropertiesArgs(
                    validate_certificate_chain=True, validate_certificate_name=True
                ),
                resource_group_name=rg,
                service_name=apim,
                opts=child(),
            )
            api = apimanagement.Api(
                f"{name}-api-{service_key}",
                api_id=service_key,
                path=service_key,
                display_name=str(info.get("title") or service_key),
                description=str(info.get("description") or ""),
                api_type="http",
                format="openapi+json",
                value=json.dumps(document, sort_keys=True),
                protocols=["https"],
                subscription_required=True,
                subscription_key_parameter_names=apimanagement.SubscriptionKeyParameterNamesContractArgs(
                    header=SUBSCRIPTION_KEY_HEADER, query="subscription-key"
                ),
                resource_group_name=rg,
                service_name=apim,
                opts=child(),
            )
            cache = (
                LookupCache(settings.lookup_cache_seconds, tuple(query_parameters(document)))
                if service_key in CACHED_APIS
                else None
            )
            apimanagement.ApiPolicy(
                f"{name}-api-{service_key}-policy",
                api_id=api.name,
                policy_id="policy",
                format="xml",
                value=pulumi.Output.from_input(users_url).apply(
                    functools.partial(
                        _render_api_policy,
                        backend_id=service_key,
                        verdict_cache_seconds=settings.verdict_cache_seconds,
                        lookup_cache=cache,
                    )
                ),
                resource_group_name=rg,
                service_name=apim,
                # The policy names the backend by id: it must exist first.
                opts=child(backend),
            )
            apis[service_key] = api
            self.api_ids[service_key] = api.id

        self.product_ids = {}
        keyed_quota = injected
        for spec in PRODUCTS:
            product = apimanagement.Product(
                f"{name}-product-{spec.id}",
                product_id=spec.id,
                display_name=spec.display_name,
                description=spec.description,
                subscription_required=True,
                approval_required=True,
                state=apimanagement.ProductState.PUBLISHED,
                resource_group_name=rg,
                service_name=apim,
                opts=child(),
            )
            for service_key in spec.apis:
                apimanagement.ProductApi(
                    f"{name}-product-{spec.id}-{service_key}",
                    product_id=product.name,
                    api_id=apis[service_key].name,
                    resource_group_name=rg,
                    service_name=apim,
                    opts=child(),
                )
            apimanagement.ProductPolicy(
                f"{name}-product-{spec.id}-policy",
                product_id=product.name,
                policy_id="policy",
                format="xml",
                value=product_policy(
                    limits=getattr(settings, spec.limits_field),
                    keyed_quota=keyed_quota,
                    read_only=spec.read_only,
                    guards=spec.guards,
                ),
                resource_group_name=rg,
                service_name=apim,
                opts=child(),
            )
            self.product_ids[spec.id] = product.id

        self.service_name = service.name
        self.gateway_url = service.gateway_url
        self.register_outputs(
            {
                "service_name": self.service_name,
                "gateway_url": self.gateway_url,
                "api_ids": self.api_ids,
                "product_ids": self.product_ids,
            }
        )
