"""Typical time Azure takes to create each resource type, for the first-deploy critical path.

Minutes from the `pulumi up` request to the resource being ready, on a first create.
`basis` says where a figure comes from:

- "documented": Microsoft Learn states it (the source link)
- "assumption": a typical figure for the type (the source link describes the resource);
                replace it with a measured one after the first real deploy
                (`pulumi up --stack <env>` prints each resource's duration)

A type missing here is an error in the critical path, never a silent zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Basis = Literal["documented", "assumption"]

_APIM = "https://learn.microsoft.com/azure/api-management/get-started-create-service-instance"
_APIM_V2 = "https://learn.microsoft.com/azure/api-management/v2-service-tiers-overview"
_FIREWALL = "https://learn.microsoft.com/azure/firewall/tutorial-firewall-deploy-portal"
_REDIS = "https://learn.microsoft.com/azure/redis/quickstart-create-managed-redis"
_SQL = "https://learn.microsoft.com/azure/azure-sql/database/single-database-create-quickstart"
_SERVICE_BUS = (
    "https://learn.microsoft.com/azure/service-bus-messaging/service-bus-premium-messaging"
)
_COSMOS = "https://learn.microsoft.com/azure/cosmos-db/nosql/quickstart-portal"
_CONTAINER_APPS = "https://learn.microsoft.com/azure/container-apps/vnet-custom"
_PRIVATE_ENDPOINT = "https://learn.microsoft.com/azure/private-link/create-private-endpoint-portal"
_ARM = "https://learn.microsoft.com/azure/azure-resource-manager/management/overview"
_RBAC = "https://learn.microsoft.com/azure/role-based-access-control/troubleshooting"
_DDOS = "https://learn.microsoft.com/azure/ddos-protection/manage-ddos-protection"
_FRONT_DOOR = "https://learn.microsoft.com/azure/frontdoor/create-front-door-portal"
_FRONT_DOOR_DOMAIN = (
    "https://learn.microsoft.com/azure/frontdoor/standard-premium/how-to-add-custom-domain"
)
_FLEX = "https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to"


@dataclass(frozen=True)
class CreateTime:
    """Typical minutes to create one resource of a type."""

    minutes: float
    source: str
    basis: Basis = "assumption"
    note: str = ""


def _quick(minutes: float = 0.25) -> CreateTime:
    """Control-plane objects ARM creates in seconds."""
    return CreateTime(minutes, _ARM)


CREATE_MINUTES: dict[str, CreateTime] = {
    "random:index/randomString:RandomString": CreateTime(0.0, _ARM, note="computed locally"),
    "azure-native:resources:ResourceGroup": _quick(0.1),
    # A setting written on the SQL server (generic resource: no typed azure-native resource).
    "azure-native:resources:Resource:Microsoft.Sql/servers/connectionPolicies": _quick(0.25),
    # Networking
    "azure-native:network:VirtualNetwork": _quick(0.5),
    "azure-native:network:Subnet": _quick(0.3),
    "azure-native:network:NetworkSecurityGroup": _quick(0.3),
    "azure-native:network:RouteTable": _quick(0.3),
    "azure-native:network:PublicIPAddress": _quick(0.3),
    "azure-native:network:NatGateway": _quick(1.0),
    "azure-native:network:DdosProtectionPlan": CreateTime(1.0, _DDOS),
    "azure-native:network:FirewallPolicy": _quick(1.0),
    "azure-native:network:FirewallPolicyRuleCollectionGroup": CreateTime(
        2.0, _FIREWALL, note="updates the policy and every firewall using it"
    ),
    "azure-native:network:AzureFirewall": CreateTime(10.0, _FIREWALL),
    "azure-native:network:PrivateEndpoint": CreateTime(1.5, _PRIVATE_ENDPOINT),
    "azure-native:network:PrivateDnsZoneGroup": _quick(0.5),
    "azure-native:privatedns:PrivateZone": _quick(1.0),
    "azure-native:privatedns:VirtualNetworkLink": _quick(1.0),
    # A record set in a private zone: one PUT, created once the zone and its target exist.
    "azure-native:privatedns:PrivateRecordSet": _quick(0.25),
    # Observability
    "azure-native:operationalinsights:Workspace": _quick(1.0),
    "azure-native:applicationinsights:Component": _quick(0.5),
    "azure-native:applicationinsights:Workbook": _quick(0.2),
    "azure-native:monitor:ActionGroup": _quick(0.3),
    "azure-native:monitor:DiagnosticSetting": _quick(0.3),
    "azure-native:monitor:MetricAlert": _quick(0.5),
    "azure-native:monitor:ScheduledQueryRule": _quick(0.5),
    "azure-native:consumption:Budget": _quick(0.2),
    # Security
    "azure-native:keyvault:Vault": _quick(0.5),
    "azure-native:keyvault:Secret": _quick(0.2),
    "azure-native:managedidentity:UserAssignedIdentity": _quick(0.2),
    "azure-native:authorization:RoleAssignment": CreateTime(
        0.3, _RBAC, note="takes effect up to 10 minutes later; the create itself is quick"
    ),
    "azure-native:authorization:ManagementLockByScope": _quick(0.2),
    "azure-native:frontdoor:Policy": _quick(0.5),
    # Database
    "azure-native:sql:Server": CreateTime(3.0, _SQL),
    "azure-native:sql:Database": CreateTime(3.0, _SQL),
    "azure-native:sql:FirewallRule": _quick(0.3),
    "azure-native:sql:BackupShortTermRetentionPolicy": _quick(0.5),
    "azure-native:sql:LongTermRetentionPolicy": _quick(0.5),
    "azure-native:sql:ServerBlobAuditingPolicy": _quick(0.5),
    "azure-native:sql:ServerSecurityAlertPolicy": _quick(0.5),
    "azure-native:sql:SqlVulnerabilityAssessmentsSetting": _quick(0.5),
    # Creating the group seeds each database's geo-secondary on the partner: minutes for a
    # new, nearly empty database, longer the larger it is.
    "azure-native:sql:FailoverGroup": CreateTime(
        5.0,
        "https://learn.microsoft.com/azure/azure-sql/database/failover-group-configure-sql-db",
        note="includes seeding an empty database's geo-secondary",
    ),
    # Messaging
    "azure-native:servicebus:Namespace": CreateTime(1.0, _SERVICE_BUS),
    "azure-native:servicebus:Queue": _quick(0.2),
    "azure-native:servicebus:Topic": _quick(0.2),
    "azure-native:servicebus:Subscription": _quick(0.2),
    "azure-native:servicebus:DefaultRule": _quick(0.2),
    "azure-native:servicebus:NamespaceNetworkRuleSet": CreateTime(
        0.5, _ARM, note="a PUT on the namespace's networkRuleSets/default"
    ),
    # Storage and ETL
    "azure-native:storage:StorageAccount": _quick(0.5),
    "azure-native:storage:BlobServiceProperties": _quick(0.1),
    "azure-native:storage:BlobContainer": _quick(0.1),
    "azure-native:storage:ManagementPolicy": _quick(0.2),
    "azure-native:datafactory:Factory": _quick(0.5),
    # Optional stores
    "azure-native:redisenterprise:RedisEnterprise": CreateTime(10.0, _REDIS),
    "azure-native:redisenterprise:Database": CreateTime(3.0, _REDIS),
    "azure-native:redisenterprise:AccessPolicyAssignment": CreateTime(
        1.0, _REDIS, note="Azure applies these one at a time per database"
    ),
    "azure-native:cosmosdb:DatabaseAccount": CreateTime(6.0, _COSMOS),
    "azure-native:cosmosdb:SqlResourceSqlDatabase": _quick(0.5),
    "azure-native:cosmosdb:SqlResourceSqlContainer": _quick(0.5),
    "azure-native:cosmosdb:SqlResourceSqlRoleAssignment": _quick(0.5),
    # Gateway. The service's children are calls to its management API, seconds each once
    # the service is active; an API import parses its OpenAPI document.
    "azure-native:apimanagement:Api": CreateTime(0.5, _APIM, note="imports the OpenAPI document"),
    "azure-native:apimanagement:ApiPolicy": _quick(0.25),
    "azure-native:apimanagement:Backend": _quick(0.25),
    "azure-native:apimanagement:Diagnostic": _quick(0.25),
    "azure-native:apimanagement:Logger": _quick(0.25),
    "azure-native:apimanagement:NamedValue": CreateTime(
        0.5, _APIM, note="the service fetches the Key Vault secret with its identity"
    ),
    "azure-native:apimanagement:Policy": _quick(0.25),
    "azure-native:apimanagement:Product": _quick(0.25),
    "azure-native:apimanagement:ProductApi": _quick(0.25),
    "azure-native:apimanagement:ProductPolicy": _quick(0.25),
    # Layers still to come: compute, frontend.
    "azure-native:apimanagement:ApiManagementService": CreateTime(
        40.0,
        _APIM,
        "documented",
        "classic tiers: 30-40 minutes to create and activate; v2 tiers: see SKU_CREATE_MINUTES",
    ),
    "azure-native:containerregistry:Registry": _quick(1.0),
    "azure-native:containerregistry:Replication": CreateTime(
        3.0,
        "https://learn.microsoft.com/azure/container-registry/container-registry-geo-replication",
        note="the replica region's endpoint; images then sync in the background",
    ),
    "azure-native:app:ManagedEnvironment": CreateTime(10.0, _CONTAINER_APPS),
    "azure-native:app:ContainerApp": CreateTime(2.0, _CONTAINER_APPS),
    "azure-native:web:AppServicePlan": CreateTime(1.0, _FLEX),
    # A Flex app with VNet integration: the site, its integration and functionAppConfig.
    "azure-native:web:WebApp": CreateTime(2.0, _FLEX),
    # Publishing credentials policies: one PUT each on the site's basicPublishingCredentials.
    "azure-native:web:WebAppFtpAllowed": _quick(0.25),
    "azure-native:web:WebAppScmAllowed": _quick(0.25),
    "azure-native:web:StaticSite": _quick(1.0),
    "azure-native:cdn:Profile": CreateTime(2.0, _FRONT_DOOR),
    "azure-native:cdn:AFDEndpoint": CreateTime(2.0, _FRONT_DOOR),
    "azure-native:cdn:AFDOriginGroup": _quick(0.5),
    "azure-native:cdn:AFDOrigin": _quick(0.5),
    # Routes and security policies are pushed to every edge before the create returns.
    "azure-native:cdn:Route": CreateTime(1.0, _FRONT_DOOR, note="propagates to the edge"),
    "azure-native:cdn:SecurityPolicy": CreateTime(1.0, _FRONT_DOOR, note="propagates to the edge"),
    # The create returns once the domain is registered; the managed certificate follows
    # validation of the TXT record, minutes to hours later, without blocking the deploy.
    "azure-native:cdn:AFDCustomDomain": CreateTime(
        2.0, _FRONT_DOOR_DOMAIN, note="certificate issued after DNS validation, asynchronously"
    ),
    "azure-native:dns:Zone": _quick(0.5),
    "azure-native:dns:RecordSet": _quick(0.2),
}

# Where the SKU changes the time by an order of magnitude: (type, sku name) -> time.
SKU_CREATE_MINUTES: dict[tuple[str, str], CreateTime] = {
    ("azure-native:servicebus:Namespace", "Premium"): CreateTime(
        5.0, _SERVICE_BUS, note="dedicated messaging units are allocated"
    ),
    ("azure-native:apimanagement:ApiManagementService", "BasicV2"): CreateTime(
        5.0, _APIM_V2, "documented", "v2 tiers deploy in minutes"
    ),
    ("azure-native:apimanagement:ApiManagementService", "StandardV2"): CreateTime(
        5.0, _APIM_V2, "documented", "v2 tiers deploy in minutes"
    ),
    ("azure-native:apimanagement:ApiManagementService", "PremiumV2"): CreateTime(
        5.0, _APIM_V2, "documented", "v2 tiers deploy in minutes"
    ),
    ("azure-native:apimanagement:ApiManagementService", "Consumption"): CreateTime(
        2.0, _APIM_V2, "assumption"
    ),
}


def create_time(type_token: str, sku_name: str | None) -> CreateTime:
    """Typical create time of a resource, by type and SKU; a clear error when unknown."""
    if sku_name is not None and (type_token, sku_name) in SKU_CREATE_MINUTES:
        return SKU_CREATE_MINUTES[(type_token, sku_name)]
    try:
        return CREATE_MINUTES[type_token]
    except KeyError:
        raise KeyError(
            f"no create time for {type_token}; add it to CREATE_MINUTES in "
            "offline/create_times.py with its source"
        ) from None
