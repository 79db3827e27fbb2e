"""Composition root: stack settings -> layers in dependency order (seed 003) -> exports."""

import pulumi

from config.settings import SettingsError, SubnetName, read_stack_settings
from infra.audit import AuditTrail, AuditTrailArgs
from infra.core import Core, CoreArgs, Namer, base_tags
from infra.cosmos import Cosmos, CosmosArgs
from infra.database import Database, DatabaseArgs, SqlAdmin
from infra.etl import Etl, EtlArgs
from infra.frontend import Frontend, FrontendArgs
from infra.functions import Functions, FunctionsArgs
from infra.gateway import Gateway, GatewayArgs
from infra.gateway.component import APP_INSIGHTS_SECRET
from infra.messaging import Messaging, MessagingArgs
from infra.microservices import Microservices, MicroservicesArgs, base_url_setting
from infra.networking import Networking, NetworkingArgs
from infra.observability import Observability, ObservabilityArgs
from infra.redis import Redis, RedisArgs
from infra.registry import Registry, RegistryArgs
from infra.security import Security, SecurityArgs, Workload, secret_values

try:
    settings = read_stack_settings(pulumi.get_stack())
except SettingsError as error:
    # RunError prints the message alone, without a traceback; nothing has been registered.
    raise pulumi.RunError(str(error)) from None

env = settings.env
deployment = settings.deployment
# API Management requires a publisher e-mail (Azure mails it about the instance).
apim_publisher = env.gateway.publisher_email or next(iter(deployment.alert_emails), None)
if env.features.enable_api_management and apim_publisher is None:
    raise pulumi.RunError(
        f"Pulumi.{settings.stack}.yaml: API Management needs a publisher e-mail and none is "
        "set; allowed: platform:overrides.gateway.publisherEmail, or a platform:alertEmails "
        "entry (the first is used)"
    )
tags = base_tags(settings, pulumi.get_project())
namer = Namer(deployment.workload, env.environment, deployment.region_code)

# 1. Core: resource group, naming suffix.
core = Core("core", CoreArgs(location=deployment.location, namer=namer, tags=tags))
# Where every later layer goes: this group and location, these names, tags and settings.
place = core.placement(env)

# 2. Observability: the workspace every later layer sends diagnostics and alerts to. Seed 003
#    puts it after security; it comes first because every resource's logs need a destination.
observability = Observability(
    "observability",
    ObservabilityArgs(
        placement=place,
        alert_emails=deployment.alert_emails,
    ),
)

# 3. Networking: VNet, subnets and NSGs, NAT, private DNS; DDoS and firewall where set.
networking = Networking(
    "networking",
    NetworkingArgs(
        placement=place,
        workspace_id=observability.workspace_id,
    ),
)

# Operator ranges plus the platform's own egress address: what data services (Key Vault,
# SQL, storage, Cosmos DB, Service Bus) admit where they have no private endpoint.
public_allow_list: list[pulumi.Input[str]] = [
    *deployment.allowed_ip_ranges,
    *([networking.egress_public_ip] if networking.egress_public_ip is not None else []),
]

# 4. Security: Key Vault, workload identities and their grants, Front Door WAF policy.
security = Security(
    "security",
    SecurityArgs(
        placement=place,
        allowed_ip_ranges=public_allow_list,
        private_endpoint_site=networking.private_endpoint_site,
        workspace_id=observability.workspace_id,
        app_insights_id=observability.app_insights_id,
        secret_values=secret_values(deployment),
        # The gateway's Application Insights logger reads the connection string from the vault.
        layer_secret_values=(
            {APP_INSIGHTS_SECRET: observability.app_insights_connection_string}
            if env.features.enable_api_management
            else {}
        ),
        # The gateway reads its named values through the subnet's Key Vault service endpoint.
        allowed_subnet_ids=(
            [networking.subnet_ids[SubnetName.GATEWAY]]
            if env.features.enable_api_management and not env.security.enable_private_endpoints
            else []
        ),
    ),
)

# 5. Database: Azure SQL, Entra-only, private where the environment says so.
database = None
if env.features.enable_sql_database:
    database = Database(
        "database",
        DatabaseArgs(
            placement=place,
            tenant_id=security.tenant_id,
            admin=(
                SqlAdmin(deployment.sql_admin_login, deployment.sql_admin_object_id, "Group")
                if deployment.sql_admin_login and deployment.sql_admin_object_id
                else SqlAdmin("platform-deployer", security.deployer_object_id, None)
            ),
            allowed_ip_ranges=public_allow_list,
            identities=security.identities,
            private_endpoint_site=networking.private_endpoint_site,
            workspace_id=observability.workspace_id,
            alerts=observability.alert_context,
            alert_emails=deployment.alert_emails,
        ),
    )

# 6. Messaging: Service Bus queues and topics, Entra-only, private where the environment says.
messaging = None
if env.features.enable_service_bus:
    messaging = Messaging(
        "messaging",
        MessagingArgs(
            placement=place,
            identities=security.identities,
            subscription_id=security.subscription_id,
            private_endpoint_site=networking.private_endpoint_site,
            workspace_id=observability.workspace_id,
            alert_context=observability.alert_context,
            allowed_ip_ranges=public_allow_list,
        ),
    )

# 7. ETL: staging blob storage for the workers' files; Data Factory where flagged (dev).
etl = Etl(
    "etl",
    EtlArgs(
        placement=place,
        allowed_ip_ranges=public_allow_list,
        # Same-region storage ignores IP rules: the workloads come in by service endpoint.
        allowed_subnet_ids=(
            []
            if env.security.enable_private_endpoints
            else [
                networking.subnet_ids[SubnetName.FUNCTIONS],
                networking.subnet_ids[SubnetName.APP],
            ]
        ),
        identities=security.identities,
        subscription_id=security.subscription_id,
        private_endpoint_site=networking.private_endpoint_site,
        workspace_id=observability.workspace_id,
    ),
)

# 8. Audit: the immutable (WORM) store of audit records, written by the workers alone; the
#    workers get its URL and container from here (AUDIT_BLOB_ACCOUNT_URL, AUDIT_BLOB_CONTAINER).
audit = AuditTrail(
    "audit",
    AuditTrailArgs(
        placement=place,
        allowed_ip_ranges=public_allow_list,
        allowed_subnet_ids=(
            []
            if env.security.enable_private_endpoints
            else [networking.subnet_ids[SubnetName.FUNCTIONS]]
        ),
        identities=security.identities,
        subscription_id=security.subscription_id,
        private_endpoint_site=networking.private_endpoint_site,
        workspace_id=observability.workspace_id,
    ),
)
pulumi.export("audit_account_url", audit.account_url)
pulumi.export("audit_container_name", audit.container_name)

# 9. Optional stores, by feature flag: Azure Managed Redis (dev, prod), Cosmos DB (dev).
redis = None
if env.features.enable_redis:
    redis = Redis(
        "redis",
        RedisArgs(
            placement=place,
            identities=security.identities,
            private_endpoint_site=networking.private_endpoint_site,
            workspace_id=observability.workspace_id,
        ),
    )
cosmos = None
if env.features.enable_cosmos_db:
    cosmos = Cosmos(
        "cosmos",
        CosmosArgs(
            placement=place,
            allowed_ip_ranges=public_allow_list,
            identities=security.identities,
            private_endpoint_site=networking.private_endpoint_site,
            workspace_id=observability.workspace_id,
        ),
    )

# 10. Registry: ACR pulled by the services' identities, and the image each one runs (a digest
#     from platform:images, or the documented bootstrap image before CI has pushed one).
registry = None
if env.features.enable_container_apps:
    registry = Registry(
        "registry",
        RegistryArgs(
            placement=place,
            identities=security.identities,
            subscription_id=security.subscription_id,
            private_endpoint_site=networking.private_endpoint_site,
            workspace_id=observability.workspace_id,
            allowed_ip_ranges=public_allow_list,
            images=deployment.images,
        ),
    )

# 11. Microservices: the internal Container Apps environment, its private DNS zone, and the
#     four services, each set from the layers above. The settings validator requires SQL and
#     Service Bus with them (the services refuse to start in Azure without).
microservices = None
if registry is not None and database is not None and messaging is not None:
    microservices = Microservices(
        "microservices",
        MicroservicesArgs(
            placement=place,
            identities=security.identities,
            subnet_id=networking.subnet_ids[SubnetName.APP],
            vnet_id=networking.vnet_id,
            workspace_id=observability.workspace_id,
            alert_context=observability.alert_context,
            registry_server=registry.login_server,
            images=registry.images,
            pull_grants=registry.pull_grants,
            app_insights_connection_string=observability.app_insights_connection_string,
            sql_server_fqdn=database.listener_fqdn,  # follows a failover group
            sql_database_name=database.database_name,
            servicebus_namespace=messaging.fully_qualified_namespace,
            servicebus_namespace_name=messaging.namespace_name,
            servicebus_settings=messaging.app_settings,
            secret_uris=security.secret_uris,
        ),
    )
    pulumi.export("microservice_urls", microservices.urls)
    pulumi.export("container_apps_default_domain", microservices.default_domain)
    pulumi.export("container_apps_static_ip", microservices.static_ip)

# 12. Functions: the workers on Flex Consumption (code follows by OneDeploy:
#     scripts/deploy_functions.py). The settings validator requires Service Bus with them.
functions = None
if env.features.enable_functions and messaging is not None:
    functions = Functions(
        "functions",
        FunctionsArgs(
            placement=place,
            identity=security.identities[Workload.WORKERS],
            subscription_id=security.subscription_id,
            subnet_id=networking.subnet_ids[SubnetName.FUNCTIONS],
            allowed_ip_ranges=public_allow_list,
            private_endpoint_site=networking.private_endpoint_site,
            workspace_id=observability.workspace_id,
            app_insights_connection_string=observability.app_insights_connection_string,
            servicebus_namespace=messaging.fully_qualified_namespace,
            servicebus_settings=messaging.app_settings,
            staging_blob_account_url=etl.blob_endpoint,
            audit_blob_account_url=audit.account_url,
            audit_container_name=audit.container_name,
            # The workers call the services at their internal Container Apps URLs.
            service_base_urls=(
                {base_url_setting(s): url for s, url in microservices.urls.items()}
                if microservices is not None
                else {}
            ),
        ),
    )
    pulumi.export("functions_app_name", functions.app_name)
    pulumi.export("functions_deployment_container_url", functions.deployment_container_url)


# 13. Frontend: the SPA's Static Web App (the pipeline uploads its build), and where the CDN
#     flag is on, Front Door with the security layer's WAF, locked to this profile's FDID.
frontend = Frontend(
    "frontend",
    FrontendArgs(
        placement=place,
        waf_policy_id=security.waf_policy_id,
        workspace_id=observability.workspace_id,
        subscription_id=security.subscription_id,
        custom_domain=deployment.custom_domain,
        dns_zone=deployment.dns_zone,
    ),
)
pulumi.export("static_web_app_name", frontend.static_web_app_name)
pulumi.export("static_web_app_default_hostname", frontend.default_hostname)
pulumi.export("spa_url", frontend.url)
if frontend.front_door_id is not None:
    pulumi.export("front_door_id", frontend.front_door_id)
    pulumi.export("front_door_endpoint_host_name", frontend.endpoint_host_name)
    pulumi.export("static_web_app_forwarding_gateway", frontend.forwarding_gateway)
if frontend.name_servers is not None:
    pulumi.export("dns_name_servers", frontend.name_servers)

# 14. Gateway: API Management in front of the services' internal URLs, where the flag is on
#     (not qa). Classic Developer takes 30-45 minutes; nothing else waits for it.
gateway = None
if env.features.enable_api_management and microservices is not None:
    gateway = Gateway(
        "gateway",
        GatewayArgs(
            placement=place,
            identity=security.identities[Workload.GATEWAY],
            subnet_id=networking.subnet_ids[SubnetName.GATEWAY],
            backend_urls=microservices.urls,
            publisher_email=apim_publisher or "",
            workspace_id=observability.workspace_id,
            app_insights_id=observability.app_insights_id,
            app_insights_secret_uri=security.secret_uris[APP_INSIGHTS_SECRET],
            alert_context=observability.alert_context,
            allowed_ip_ranges=deployment.allowed_ip_ranges,
            # CORS admits the SPA's origin alone.
            frontend_origin=frontend.url,
        ),
    )
if gateway is not None:
    pulumi.export("gateway_url", gateway.gateway_url)
    pulumi.export("apim_service_name", gateway.service_name)

pulumi.export("environment", env.environment)
pulumi.export("location", deployment.location)
pulumi.export("resource_group_name", core.resource_group_name)
pulumi.export("feature_flags", env.features.model_dump())
pulumi.export("vnet_id", networking.vnet_id)
pulumi.export("log_analytics_workspace_id", observability.workspace_id)
pulumi.export("key_vault_uri", security.key_vault_uri)
if database is not None:
    pulumi.export("sql_server_fqdn", database.server_fqdn)
    # The name clients use: the failover group's listener in prod, else the server.
    pulumi.export("sql_listener_fqdn", database.listener_fqdn)
    pulumi.export("sql_database_name", database.database_name)
    pulumi.export("database_identities", database.database_identities)
if messaging is not None:
    pulumi.export("servicebus_fully_qualified_namespace", messaging.fully_qualified_namespace)
    pulumi.export("servicebus_app_settings", messaging.app_settings)
pulumi.export("etl_storage_account_name", etl.storage_account_name)
pulumi.export("etl_blob_endpoint", etl.blob_endpoint)
if redis is not None:
    pulumi.export("redis_host_name", redis.host_name)
    pulumi.export("redis_port", redis.port)
if cosmos is not None:
    pulumi.export("cosmos_endpoint", cosmos.endpoint)
pulumi.export(
    "workload_client_ids",
    {workload.value: identity.client_id for workload, identity in security.identities.items()},
)
if networking.egress_public_ip is not None:
    pulumi.export("egress_public_ip", networking.egress_public_ip)
if registry is not None:
    pulumi.export("acr_login_server", registry.login_server)
    pulumi.export("images", {service: ref.image for service, ref in registry.images.items()})
    # Services still on the bootstrap image: set platform:images.<service> and deploy again.
    pulumi.export("bootstrapped_images", list(registry.bootstrapped))
