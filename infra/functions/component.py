"""The Functions layer: the workers on Flex Consumption, with identity-only host storage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import storage, web

from config.settings import SubnetName
from infra.core.placement import Placement
from infra.core.tags import layer_tags
from infra.etl.storage import add_storage_diagnostics, storage_network_rules
from infra.functions.app_settings import workers_app_settings
from infra.networking.private_endpoints import (
    PrivateEndpointSite,
    PrivateLink,
    add_private_endpoint,
)
from infra.observability.diagnostics import add_diagnostic_setting
from infra.security.managed_identity import WorkloadIdentity
from infra.security.rbac import BuiltInRole, assign_role

# Blob container OneDeploy uploads the workers' zip to; the app reads it with its identity.
DEPLOYMENT_CONTAINER = "app-package"
# Identity-based AzureWebJobsStorage: leases and blob triggers (blob), timers' schedule
# monitor and retries (queue, table). https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity
HOST_STORAGE_ROLES = (
    (BuiltInRole.STORAGE_BLOB_DATA_OWNER, "blob", "host leases, deployment package"),
    (BuiltInRole.STORAGE_QUEUE_DATA_CONTRIBUTOR, "queue", "host queues"),
    (BuiltInRole.STORAGE_TABLE_DATA_CONTRIBUTOR, "table", "timer and host state tables"),
)
HOST_SOFT_DELETE_DAYS = 7
HOST_PRIVATE_LINKS = (PrivateLink.BLOB, PrivateLink.QUEUE, PrivateLink.TABLE)


@dataclass(frozen=True)
class FunctionsArgs:
    """What the Functions layer needs from settings and from the layers before it."""

    placement: Placement
    # The workers' user-assigned identity: host storage, Service Bus, telemetry, deployment.
    identity: WorkloadIdentity
    subscription_id: pulumi.Input[str]
    # VNet integration subnet (delegated to Microsoft.App/environments by networking).
    subnet_id: pulumi.Input[str]
    # Public ranges let through the host storage firewall and to the deployment (SCM) site
    # where there is no private endpoint: operators' ranges and the NAT egress address.
    allowed_ip_ranges: Sequence[pulumi.Input[str]]
    private_endpoint_site: PrivateEndpointSite | None
    workspace_id: pulumi.Input[str]
    app_insights_connection_string: pulumi.Input[str]
    servicebus_namespace: pulumi.Input[str]
    # The messaging layer's entity-name settings (SERVICEBUS_ORDERS_QUEUE, ...).
    servicebus_settings: Mapping[str, pulumi.Input[str]]
    # The ETL layer's blob endpoint: where the ETL stages and archives FIRDS files.
    staging_blob_account_url: pulumi.Input[str]
    # The audit layer's account URL and WORM container: where audit records are appended.
    audit_blob_account_url: pulumi.Input[str]
    audit_container_name: pulumi.Input[str]
    # *_API_BASE_URL of the microservices (internal Container Apps FQDNs, Microservices.urls);
    # empty only where Container Apps are off, and the workers then have nothing to call.
    service_base_urls: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


def _cidr(address: pulumi.Input[str]) -> pulumi.Output[str]:
    """Access restrictions take CIDR notation: a bare address becomes a /32."""
    return pulumi.Output.from_input(address).apply(lambda v: v if "/" in v else f"{v}/32")


class Functions(pulumi.ComponentResource):
    """The workers' Function app: Flex Consumption, VNet-integrated, identities only."""

    app_id: pulumi.Output[str]
    """ARM id of the Function app."""
    app_name: pulumi.Output[str]
    """Azure name of the Function app: what scripts/deploy_functions.py deploys to."""
    plan_id: pulumi.Output[str]
    """ARM id of the Flex Consumption (FC1) plan."""
    host_storage_account_name: pulumi.Output[str]
    """Host storage (AzureWebJobsStorage__accountName) and the deployment container's account."""
    deployment_container_url: pulumi.Output[str]
    """https://<account>.blob.core.windows.net/app-package - where OneDeploy puts the zip."""
    app_setting_names: list[str]
    """Names of every app setting the stack sets on the app."""

    def __init__(
        self, name: str, args: FunctionsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:functions:Functions", name, None, opts)
        place = args.placement
        env, namer = place.env, place.namer
        tags = layer_tags(place.tags, "functions")
        private = args.private_endpoint_site is not None

        account = storage.StorageAccount(
            f"{name}-st",
            account_name=namer.unique_name("storage_account", place.name_suffix, role="func"),
            resource_group_name=place.resource_group_name,
            location=place.location,
            kind="StorageV2",
            sku=storage.SkuArgs(name="Standard_LRS"),
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            # Identity only: Flex reads the package and the host its state with Entra ID.
            # https://learn.microsoft.com/azure/azure-functions/storage-considerations#working-with-identity-based-connections
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            public_network_access="Disabled" if private else "Enabled",
            # Same-region traffic ignores IP rules: the app comes in by service endpoint.
            network_rule_set=storage_network_rules(
                private=private,
                allowed_ip_ranges=args.allowed_ip_ranges,
                allowed_subnet_ids=[args.subnet_id],
            ),
            tags=tags,
            # It holds the deployed package: kept from `pulumi destroy` where data is protected.
            opts=pulumi.ResourceOptions(parent=self, protect=env.security.protect_data),
        )
        # A deleted package or host blob stays restorable for a week.
        # https://learn.microsoft.com/azure/storage/blobs/soft-delete-blob-overview
        storage.BlobServiceProperties(
            f"{name}-st-blob",
            account_name=account.name,
            resource_group_name=place.resource_group_name,
            blob_services_name="default",
            delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=HOST_SOFT_DELETE_DAYS
            ),
            container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=HOST_SOFT_DELETE_DAYS
            ),
            opts=pulumi.ResourceOptions(parent=account),
        )
        container = storage.BlobContainer(
            f"{name}-st-package",
            account_name=account.name,
            resource_group_name=place.resource_group_name,
            container_name=DEPLOYMENT_CONTAINER,
            public_access=storage.PublicAccess.NONE,
            opts=pulumi.ResourceOptions(parent=account),
        )
        add_storage_diagnostics(
            f"{name}-st-diag",
            target_resource_id=account.id,
            workspace_id=args.workspace_id,
            parent=account,
            logs=False,
        )
        add_storage_diagnostics(
            f"{name}-st-blob-diag",
            target_resource_id=pulumi.Output.concat(account.id, "/blobServices/default"),
            workspace_id=args.workspace_id,
            parent=account,
            logs=True,
        )
        if args.private_endpoint_site is not None:
            for link in HOST_PRIVATE_LINKS:
                add_private_endpoint(
                    f"{name}-st-{link.value}",
                    args.private_endpoint_site,
                    service=link,
                    target_resource_id=account.id,
                    azure_name=namer.name("private_endpoint", role=f"func-{link.value}"),
                    subnet=SubnetName.DATA,
                    tags=tags,
                    parent=self,
                )
        grants = [
            assign_role(
                f"{name}-st-{service}-workers",
                role=role,
                scope=account.id,
                principal_id=args.identity.principal_id,
                subscription_id=args.subscription_id,
                parent=self,
                description=f"workers' Functions host: {why}",
            )
            for role, service, why in HOST_STORAGE_ROLES
        ]

        # https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#create-a-flex-consumption-app
        plan = web.AppServicePlan(
            f"{name}-plan",
            name=namer.name("app_service_plan", role="func"),
            resource_group_name=place.resource_group_name,
            location=place.location,
            kind="functionapp",
            reserved=True,  # Linux: Flex has no Windows
            sku=web.SkuDescriptionArgs(name="FC1", tier="FlexConsumption"),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

        blob_endpoint = account.primary_endpoints.apply(lambda e: e.blob)
        deployment_url = pulumi.Output.concat(blob_endpoint, DEPLOYMENT_CONTAINER)
        settings = workers_app_settings(
            environment=env.environment,
            storage_account_name=account.name,
            client_id=args.identity.client_id,
            servicebus_namespace=args.servicebus_namespace,
            entity_settings=args.servicebus_settings,
            app_insights_connection_string=args.app_insights_connection_string,
            staging_blob_account_url=args.staging_blob_account_url,
            audit_blob_account_url=args.audit_blob_account_url,
            audit_container_name=args.audit_container_name,
            service_base_urls=args.service_base_urls,
        )
        scale = env.functions
        app = web.WebApp(
            f"{name}-app",
            name=namer.unique_name("function_app", place.name_suffix, role="workers"),
            resource_group_name=place.resource_group_name,
            location=place.location,
            kind="functionapp,linux",
            server_farm_id=plan.id,
            identity=web.ManagedServiceIdentityArgs(
                type=web.ManagedServiceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[args.identity.id],
            ),
            https_only=True,
            # Outbound through the functions subnet (NAT egress, private endpoints).
            virtual_network_subnet_id=args.subnet_id,
            function_app_config=web.FunctionAppConfigArgs(
                deployment=web.FunctionsDeploymentArgs(
                    storage=web.FunctionsDeploymentStorageArgs(
                        type=web.FunctionsDeploymentStorageType.BLOB_CONTAINER,
                        value=deployment_url,
                        authentication=web.FunctionsDeploymentStorageAuthenticationArgs(
                            type=web.AuthenticationType.USER_ASSIGNED_IDENTITY,
                            user_assigned_identity_resource_id=args.identity.id,
                        ),
                    )
                ),
                runtime=web.FunctionsRuntimeArgs(
                    name=web.RuntimeName.PYTHON, version=scale.python_version
                ),
                scale_and_concurrency=web.FunctionsScaleAndConcurrencyArgs(
                    maximum_instance_count=scale.maximum_instance_count,
                    instance_memory_mb=scale.instance_memory_mb,
                    triggers=web.FunctionsScaleAndConcurrencyTriggersArgs(
                        http=web.FunctionsScaleAndConcurrencyTriggersHttpArgs(
                            per_instance_concurrency=scale.http_per_instance_concurrency
                        )
                    ),
                ),
            ),
            site_config=web.SiteConfigArgs(
                app_settings=[
                    web.NameValuePairArgs(name=key, value=value) for key, value in settings.items()
                ],
                min_tls_version=web.SupportedTlsVersions.SUPPORTED_TLS_VERSIONS_1_2,
                scm_min_tls_version=web.SupportedTlsVersions.SUPPORTED_TLS_VERSIONS_1_2,
                ftps_state=web.FtpsState.DISABLED,
                http20_enabled=True,
                # The workers have no HTTP triggers: nobody calls the app's own site.
                ip_security_restrictions_default_action=web.DefaultAction.DENY,
                # OneDeploy goes through the SCM site: only the operators' ranges reach it.
                scm_ip_security_restrictions_default_action=web.DefaultAction.DENY,
                scm_ip_security_restrictions=[
                    web.IpSecurityRestrictionArgs(
                        name=f"deploy-{index}",
                        action="Allow",
                        ip_address=_cidr(ip),
                        priority=100 + index,
                    )
                    for index, ip in enumerate(args.allowed_ip_ranges)
                ],
            ),
            tags=tags,
            # The host must reach its storage on first start.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[container, *grants]),
        )
        # Entra ID only on the publishing endpoints: no FTP or SCM basic-auth credentials.
        # https://learn.microsoft.com/azure/app-service/configure-basic-auth-disable
        web.WebAppFtpAllowed(
            f"{name}-app-ftp",
            name=app.name,
            resource_group_name=place.resource_group_name,
            allow=False,
            opts=pulumi.ResourceOptions(parent=app),
        )
        web.WebAppScmAllowed(
            f"{name}-app-scm",
            name=app.name,
            resource_group_name=place.resource_group_name,
            allow=False,
            opts=pulumi.ResourceOptions(parent=app),
        )
        # FunctionAppLogs and the app's metrics.
        add_diagnostic_setting(
            f"{name}-app-diag",
            target_resource_id=app.id,
            workspace_id=args.workspace_id,
            parent=app,
        )

        self.app_id = app.id
        self.app_name = app.name
        self.plan_id = plan.id
        self.host_storage_account_name = account.name
        self.deployment_container_url = deployment_url
        self.app_setting_names = sorted(settings)
        self.register_outputs(
            {
                "app_id": self.app_id,
                "app_name": self.app_name,
                "plan_id": self.plan_id,
                "host_storage_account_name": self.host_storage_account_name,
                "deployment_container_url": self.deployment_container_url,
                "app_setting_names": self.app_setting_names,
            }
        )
