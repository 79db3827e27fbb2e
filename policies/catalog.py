"""The field's catalogs per resource type: each Checkov check, PSRule rule and MCSB control that
applies to a type the program creates (or an upcoming layer will), implemented or not.

Sources, shipped beside this file so the pack needs neither Checkov nor the network:
- sources/checkov-azure.json: every Azure check of the installed Checkov package (ARM and
  Terraform resource checks and graph checks), written by sources/checkov_snapshot.py;
- sources/psrule-azure.json: PSRule for Azure's rule reference;
- MCSB below: https://learn.microsoft.com/security/benchmark/azure/overview

An entry line is `<id> = <rule>[, <rule>]` (implemented by those pack rules) or
`<id> ! <reason>` (not applicable, with why). tests/test_policies_catalog.py fails when a type
the stacks create has no entry, when a Checkov check or PSRule rule for a listed type is
missing, or when an entry names a rule that does not judge that type.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

SOURCES = Path(__file__).resolve().parent / "sources"
Source = Literal["Checkov", "PSRule", "MCSB", "WAF"]

MCSB: Mapping[str, str] = {
    "AM-1": "Track asset inventory and their risks",
    "AM-2": "Use only approved services",
    "BR-1": "Ensure regular automated backups",
    "BR-2": "Protect backup and recovery data",
    "DP-3": "Encrypt sensitive data in transit",
    "DP-4": "Enable data at rest encryption by default",
    "DP-5": "Use customer-managed key option in data at rest encryption when required",
    "DP-6": "Use a secure key management process",
    "DP-8": "Ensure security of key and certificate repository",
    "IM-1": "Use centralized identity and authentication system",
    "IR-2": "Preparation - setup incident notification",
    "IM-3": "Manage application identities securely and automatically",
    "IM-8": "Restrict the exposure of credential and secrets",
    "LT-1": "Enable threat detection capabilities",
    "LT-3": "Enable logging for security investigation",
    "LT-4": "Enable network logging for security investigation",
    "LT-6": "Configure log storage retention",
    "NS-1": "Establish network segmentation boundaries",
    "NS-2": "Secure cloud native services with network controls",
    "NS-3": "Deploy firewall at the edge of enterprise network",
    "NS-5": "Deploy DDOS protection",
    "NS-6": "Deploy web application firewall",
    "NS-8": "Detect and disable insecure services and protocols",
    "PA-1": "Separate and limit highly privileged/administrative users",
    "PA-7": "Follow just enough administration (least privilege) principle",
}

# Azure Well-Architected Framework checklist items, for what MCSB (a security benchmark) does
# not cover: reliability and safe roll-outs.
# https://learn.microsoft.com/azure/well-architected/reliability/checklist
# https://learn.microsoft.com/azure/well-architected/operational-excellence/checklist
WELL_ARCHITECTED: Mapping[str, str] = {
    "WAF-RE:07": "Strengthen resiliency with self-preservation and self-healing measures",
    "WAF-OE:11": "Define the workload's safe deployment practices",
}


@dataclass(frozen=True)
class Control:
    """One catalog item for one type: implemented by `rules`, or not applicable for `reason`."""

    id: str
    source: Source
    rules: tuple[str, ...] = ()
    reason: str = ""

    @property
    def implemented(self) -> bool:
        return bool(self.rules)


@dataclass(frozen=True)
class TypeEntry:
    """A resource type, where its catalog items come from, and each item's state."""

    type: str
    checkov: tuple[str, ...]
    psrule: tuple[str, ...]
    controls: tuple[Control, ...]
    upcoming: bool = False
    # Children or siblings that carry this type's setting (an SQL server's firewall rules),
    # whose rules may implement this type's controls.
    related: tuple[str, ...] = ()


def _source(control_id: str) -> Source:
    if control_id.startswith("CKV"):
        return "Checkov"
    if control_id.startswith("Azure."):
        return "PSRule"
    if control_id in MCSB:
        return "MCSB"
    if control_id in WELL_ARCHITECTED:
        return "WAF"
    raise ValueError(
        f"catalog id {control_id!r} is not a Checkov, PSRule, MCSB or Well-Architected id"
    )


def _parse(lines: str) -> tuple[Control, ...]:
    controls: list[Control] = []
    for line in _joined(lines):
        if " = " in line:
            control_id, _, rules = line.partition(" = ")
            names = tuple(r.strip() for r in rules.split(","))
            controls.append(Control(control_id.strip(), _source(control_id.strip()), names))
        elif " ! " in line:
            control_id, _, reason = line.partition(" ! ")
            controls.append(Control(control_id.strip(), _source(control_id.strip()), (), reason))
        else:
            raise ValueError(f"catalog line {line!r} is neither '<id> = rules' nor '<id> ! why'")
    return tuple(controls)


def _joined(lines: str) -> list[str]:
    """Entry lines, with indented continuation lines joined to the line above."""
    joined: list[str] = []
    for raw in textwrap.dedent(lines).splitlines():
        if not raw.strip():
            continue
        if raw[0].isspace() and joined:
            joined[-1] += " " + raw.strip()
        else:
            joined.append(raw.strip())
    return joined


def entry(
    token: str,
    lines: str,
    *,
    checkov: tuple[str, ...] = (),
    psrule: tuple[str, ...] = (),
    upcoming: bool = False,
    related: tuple[str, ...] = (),
) -> TypeEntry:
    return TypeEntry(
        f"azure-native:{token}",
        checkov,
        psrule,
        _parse(lines),
        upcoming,
        tuple(f"azure-native:{r}" for r in related),
    )


# Shared reasons.
NO_CMK = "platform-managed keys (MCSB DP-4 default); no regulatory need for customer keys here"
DEFENDER = "Defender for Cloud plans are subscription settings, outside this program"
SINGLE_REGION = (
    "compute runs in one region by design (seed 003); prod data keeps cross-region copies "
    "(config/recovery.py); zone redundancy is per-SKU"
)
CLASSIC_AFD = (
    "Front Door classic / CDN classic check; the platform uses Front Door Standard/Premium"
)
NAMING = "naming-caf-prefix"
TAGS = "tags-required"
REGIONS = "allowed-locations"
NO_NAME_RULE = "no CAF kind in infra/core/naming.py; Azure validates the name's charset"
NOT_CREATED = "the program creates none"

CATALOG: tuple[TypeEntry, ...] = (
    entry(
        "resources:ResourceGroup",
        f"""
        Azure.Group.Name = {NAMING}
        Azure.Group.Naming = {NAMING}
        Azure.Group.RequiredTags = {TAGS}
        Azure.Resource.AllowedRegions = {REGIONS}
        Azure.Resource.UseTags = {TAGS}
        Azure.Resource.RequiredTags = {TAGS}
        AM-1 = {TAGS}
        AM-2 = {REGIONS}
        """,
        psrule=("Azure.Group.", "Azure.Resource."),
    ),
    entry(
        "network:VirtualNetwork",
        f"""
        CKV_AZURE_182 ! Azure-provided DNS with private DNS zones; custom DNS servers are not used
        CKV_AZURE_183 ! Azure-provided DNS (168.63.129.16) is regional; no custom DNS servers
        Azure.VNET.Name = {NAMING}
        Azure.VNET.Naming = {NAMING}
        Azure.VNET.SubnetName = {NAMING}
        Azure.VNET.SubnetNaming = {NAMING}
        Azure.VNET.UseNSGs = subnet-nsg-required
        Azure.VNET.LocalDNS ! Azure-provided DNS; no custom DNS servers to place
        Azure.VNET.SingleDNS ! Azure-provided DNS is redundant by itself
        Azure.VNET.PeerState ! no VNet peering in this platform
        Azure.VNET.BastionSubnet ! no GatewaySubnet (no VPN/ExpressRoute gateway)
        Azure.VNET.FirewallSubnet ! firewall is a per-environment flag (config/); egress
            otherwise leaves through the NAT gateway
        Azure.VNET.FirewallSubnetNAT ! the firewall subnet already takes the NAT gateway
            (infra/networking)
        Azure.VNET.PrivateSubnet ! no virtual machines; subnets set defaultOutboundAccess false in
            infra/networking
        NS-1 = subnet-nsg-required
        """,
        checkov=("Microsoft.Network/virtualNetworks", "azurerm_virtual_network"),
        psrule=("Azure.VNET.",),
    ),
    entry(
        "network:Subnet",
        f"""
        CKV2_AZURE_31 = subnet-nsg-required
        Azure.VNET.UseNSGs = subnet-nsg-required
        Azure.VNET.SubnetName = {NAMING}
        NS-1 = subnet-nsg-required
        """,
        checkov=("azurerm_subnet",),
    ),
    entry(
        "network:NetworkSecurityGroup",
        f"""
        CKV_AZURE_9 = nsg-no-internet-management-ports
        CKV_AZURE_10 = nsg-no-internet-management-ports
        CKV_AZURE_77 = nsg-internet-inbound-gateway-only
        CKV_AZURE_160 = nsg-internet-inbound-gateway-only
        Azure.NSG.AnyInboundSource = nsg-internet-inbound-gateway-only
        Azure.NSG.LateralTraversal = nsg-outbound-restricted
        Azure.NSG.Associated ! every NSG is created for one subnet and attached to it
            (infra/networking)
        Azure.NSG.DenyAllInbound ! the final deny-all is intended; AzureLoadBalancer is allowed
            explicitly above it (DESIGN.md)
        Azure.NSG.AKSRules ! the platform runs no AKS cluster
        Azure.NSG.Name = {NAMING}
        Azure.NSG.Naming = {NAMING}
        NS-1 = nsg-internet-inbound-gateway-only, nsg-outbound-restricted
        LT-4 = diagnostic-settings-required
        """,
        checkov=(
            "Microsoft.Network/networkSecurityGroups",
            "Microsoft.Network/networkSecurityGroups/securityRules",
            "azurerm_network_security_group",
            "azurerm_network_security_rule",
        ),
        psrule=("Azure.NSG.",),
    ),
    entry(
        "network:SecurityRule",
        """
        CKV_AZURE_9 = nsg-no-internet-management-ports
        CKV_AZURE_10 = nsg-no-internet-management-ports
        CKV_AZURE_77 = nsg-internet-inbound-gateway-only
        CKV_AZURE_160 = nsg-internet-inbound-gateway-only
        NS-1 = nsg-internet-inbound-gateway-only, nsg-outbound-restricted
        """,
        checkov=("azurerm_network_security_rule",),
        upcoming=True,
    ),
    entry(
        "network:AzureFirewall",
        f"""
        CKV_AZURE_216 = firewall-threat-intel-deny
        CKV_AZURE_219 = firewall-uses-policy
        Azure.Firewall.Mode = firewall-threat-intel-deny
        Azure.Firewall.Name = {NAMING}
        Azure.Firewall.AvailabilityZone ! {SINGLE_REGION}
        NS-3 = firewall-uses-policy, firewall-no-any-to-any
        LT-4 = diagnostic-settings-required
        """,
        checkov=("Microsoft.Network/azureFirewalls", "azurerm_firewall"),
        psrule=("Azure.Firewall.",),
        related=("network:FirewallPolicyRuleCollectionGroup",),
    ),
    entry(
        "network:FirewallPolicy",
        f"""
        CKV_AZURE_220 ! IDPS needs the Premium firewall SKU; the platform runs Standard (cost, seed
            003)
        Azure.Firewall.PolicyMode = firewall-threat-intel-deny
        Azure.Firewall.PolicyName = {NAMING}
        LT-1 = firewall-threat-intel-deny
        """,
        checkov=("azurerm_firewall_policy",),
    ),
    entry(
        "network:FirewallPolicyRuleCollectionGroup",
        """
        NS-3 = firewall-no-any-to-any
        """,
    ),
    entry(
        "network:PublicIPAddress",
        f"""
        Azure.PublicIP.Name = {NAMING}
        Azure.PublicIP.Naming = {NAMING}
        Azure.PublicIP.DNSLabel ! no DNS label is set; the addresses serve the NAT gateway and
            firewall
        Azure.PublicIP.IsAttached ! each address is created for the NAT gateway or the firewall
            that uses it
        Azure.PublicIP.MigrateStandard ! infra/networking creates Standard SKU addresses only
        Azure.PublicIP.StandardSKU ! infra/networking creates Standard SKU addresses only
        Azure.PublicIP.AvailabilityZone ! {SINGLE_REGION}
        """,
        psrule=("Azure.PublicIP.",),
    ),
    entry(
        "network:NatGateway",
        f"""
        NS-3 ! the NAT gateway only translates; filtering is the firewall's and the NSGs'
        Azure.Resource.AllowedRegions = {REGIONS}
        """,
    ),
    entry(
        "network:RouteTable",
        f"""
        Azure.Route.Name = {NAMING}
        Azure.Route.Naming = {NAMING}
        """,
        psrule=("Azure.Route.",),
    ),
    entry(
        "network:PrivateEndpoint",
        f"""
        Azure.PrivateEndpoint.Name = {NAMING}
        NS-2 = private-endpoints-required
        """,
        psrule=("Azure.PrivateEndpoint.",),
    ),
    entry(
        "network:PrivateDnsZoneGroup",
        """
        NS-2 ! DNS registration of a private endpoint; the endpoint itself is checked
        """,
    ),
    entry(
        "network:DdosProtectionPlan",
        f"""
        NS-5 ! DDoS protection is a per-environment flag validated by config/
        Azure.Resource.UseTags = {TAGS}
        """,
    ),
    entry(
        "privatedns:PrivateZone",
        """
        NS-2 ! name resolution for private endpoints; nothing to secure beyond tags
        """,
    ),
    entry(
        "privatedns:PrivateRecordSet",
        """
        NS-2 ! the Container Apps environment's wildcard A record to its internal static IP
        """,
    ),
    entry(
        "privatedns:VirtualNetworkLink",
        """
        NS-2 ! links the zones to the one VNet; registration is off
        """,
    ),
    entry(
        "keyvault:Vault",
        f"""
        CKV_AZURE_42 = keyvault-soft-delete-retention
        CKV_AZURE_109 = public-access-default-deny
        CKV_AZURE_110 = keyvault-purge-protection
        CKV_AZURE_111 = keyvault-soft-delete-retention
        CKV_AZURE_189 = keyvault-no-public-network
        CKV2_AZURE_32 = private-endpoints-required
        Azure.KeyVault.AccessPolicy = keyvault-rbac-authorization
        Azure.KeyVault.RBAC = keyvault-rbac-authorization
        Azure.KeyVault.Firewall = public-access-default-deny
        Azure.KeyVault.Logs = diagnostic-settings-required
        Azure.KeyVault.Name = {NAMING}
        Azure.KeyVault.PurgeProtect = keyvault-purge-protection
        Azure.KeyVault.SoftDelete = keyvault-soft-delete-retention
        DP-8 = keyvault-rbac-authorization, keyvault-purge-protection
        NS-2 = keyvault-no-public-network, private-endpoints-required
        LT-3 = diagnostic-settings-required
        BR-2 = prod-data-protected
        """,
        checkov=("Microsoft.KeyVault/vaults", "azurerm_key_vault"),
        psrule=("Azure.KeyVault.",),
    ),
    entry(
        "keyvault:Secret",
        """
        CKV_AZURE_41 = keyvault-secret-key-expiry
        CKV_AZURE_114 = keyvault-secret-content-type
        Azure.KeyVault.SecretName ! secret names come from the settings' secret table; Azure
            validates the charset
        IM-8 = keyvault-secret-key-expiry
        """,
        checkov=("Microsoft.KeyVault/vaults/secrets", "azurerm_key_vault_secret"),
        upcoming=True,
    ),
    entry(
        "keyvault:Key",
        """
        CKV_AZURE_40 = keyvault-secret-key-expiry
        CKV_AZURE_112 ! HSM-backed keys need Key Vault Premium; no keys are held for CMK
            (platform-managed keys)
        Azure.KeyVault.AutoRotationPolicy = keyvault-key-rotation
        Azure.KeyVault.KeyName ! no keys are created today; Azure validates the charset
        DP-6 = keyvault-key-rotation
        """,
        checkov=("Microsoft.KeyVault/vaults/keys", "azurerm_key_vault_key"),
        upcoming=True,
    ),
    entry(
        "managedidentity:UserAssignedIdentity",
        f"""
        Azure.Identity.UserAssignedName = {NAMING}
        IM-3 = web-managed-identity, containerapp-identity-registry-pull
        """,
        psrule=("Azure.Identity.",),
        related=("web:WebApp", "app:ContainerApp"),
    ),
    entry(
        "authorization:RoleAssignment",
        """
        CKV_AZURE_39 ! the program defines no custom roles; it assigns built-in roles only
        Azure.RBAC.LimitOwner = rbac-no-privileged-workload-roles
        Azure.RBAC.UseGroups = rbac-groups-not-users
        Azure.RBAC.UseRGDelegation = rbac-narrow-scope
        Azure.RBAC.LimitMGDelegation = rbac-narrow-scope
        Azure.RBAC.CoAdministrator ! classic co-administrators are a subscription setting, outside
            the program
        Azure.RBAC.PIM ! eligible (PIM) assignments for people are made in Entra ID, not by the
            stack
        PA-1 = rbac-no-privileged-workload-roles
        PA-7 = rbac-narrow-scope, rbac-no-privileged-workload-roles
        """,
        checkov=("Microsoft.Authorization/roleDefinitions", "azurerm_role_definition"),
        psrule=("Azure.RBAC.",),
    ),
    entry(
        "authorization:ManagementLockByScope",
        """
        BR-2 = prod-data-protected
        """,
        related=("sql:Server", "sql:Database", "storage:StorageAccount", "keyvault:Vault"),
    ),
    entry(
        "operationalinsights:Workspace",
        f"""
        Azure.Log.Name = {NAMING}
        Azure.Log.Naming = {NAMING}
        Azure.Log.Replication ! workspace replication is a cross-region feature; {SINGLE_REGION}
        Azure.Log.ReplicaLocation ! no workspace replica ({SINGLE_REGION})
        LT-6 = loganalytics-retention
        Azure.Resource.UseTags = {TAGS}
        """,
        psrule=("Azure.Log.",),
    ),
    entry(
        "applicationinsights:Component",
        f"""
        Azure.AppInsights.Name = {NAMING}
        Azure.AppInsights.Workspace = appinsights-workspace-based
        Azure.AppInsights.Naming = {NAMING}
        Azure.AppInsights.LocalAuth = appinsights-local-auth-disabled
        IM-1 = appinsights-local-auth-disabled
        LT-3 = appinsights-workspace-based
        """,
        psrule=("Azure.AppInsights.",),
    ),
    entry(
        "applicationinsights:Workbook",
        """
        LT-3 ! a dashboard over the workspace; holds no data of its own
        """,
    ),
    entry(
        "monitor:ActionGroup",
        """
        Azure.Monitor.ServiceHealth ! Service Health alerts are a subscription setting, outside the
            program
        IR-2 ! alert routing; e-mail receivers come from stack config
        """,
        psrule=("Azure.Monitor.",),
    ),
    entry(
        "monitor:MetricAlert",
        """
        Azure.Alert.MetricAutoMitigate ! the alert layer sets autoMitigate; no security control
        Azure.Alert.HighFrequencyQuery ! applies to scheduled query rules, not metric alerts
        """,
        psrule=("Azure.Alert.",),
    ),
    entry(
        "monitor:ScheduledQueryRule",
        """
        Azure.Alert.HighFrequencyQuery ! evaluation frequency is the alert layer's choice; no
            security control
        """,
        upcoming=True,
    ),
    entry(
        "monitor:DiagnosticSetting",
        """
        LT-3 = diagnostic-settings-required
        LT-4 = diagnostic-settings-required
        """,
    ),
    entry(
        "consumption:Budget",
        """
        AM-1 ! cost control; notifications go to the stack's alert e-mails
        """,
    ),
    entry(
        "sql:Server",
        f"""
        CKV2_AZURE_2 ! vulnerability assessment uses the express configuration
            (sql:SqlVulnerabilityAssessmentsSetting), which needs no storage account
        CKV2_AZURE_3 ! express vulnerability assessment scans on its own schedule
        CKV2_AZURE_4 ! express vulnerability assessment reports through Defender for Cloud
        CKV2_AZURE_5 ! express vulnerability assessment reports through Defender for Cloud
        CKV2_AZURE_6 = sql-firewall-rules-narrow
        CKV2_AZURE_7 = sql-entra-only-auth
        CKV2_AZURE_13 ! the database layer creates sql:ServerSecurityAlertPolicy for every server
        CKV2_AZURE_27 = sql-entra-only-auth
        CKV2_AZURE_45 = private-endpoints-required
        CKV_AZURE_11 = sql-firewall-rules-narrow
        CKV_AZURE_23 = sql-auditing-enabled
        CKV_AZURE_24 ! audit logs go to Log Analytics, retained per environment
            (loganalytics-retention)
        CKV_AZURE_52 = sql-min-tls
        CKV_AZURE_113 = sql-no-public-network
        Azure.SQL.AAD = sql-entra-only-auth
        Azure.SQL.AADOnly = sql-entra-only-auth
        Azure.SQL.AllowAzureAccess = sql-firewall-rules-narrow
        Azure.SQL.Auditing = sql-auditing-enabled
        Azure.SQL.DefenderCloud ! {DEFENDER}
        Azure.SQL.FirewallIPRange = sql-firewall-rules-narrow
        Azure.SQL.FirewallRuleCount ! rules come from the stack's allowed ranges, validated by
            config/
        Azure.SQL.MinTLS = sql-min-tls
        Azure.SQL.ServerName = {NAMING}
        Azure.SQL.ServerNaming = {NAMING}
        Azure.SQL.ElasticPoolNaming ! the platform creates no elastic pools
        Azure.SQL.JobAgentNaming ! the platform creates no elastic job agents
        Azure.SQL.StretchDBNaming ! Stretch Database is SQL Server on-premises, not Azure SQL
        Azure.SQL.FGName ! failover group names come from infra/core/naming.py (sql_server rule,
            role fog); Azure validates the DNS name
        Azure.SQL.VAScan ! the database layer enables express vulnerability assessment
            (sql:SqlVulnerabilityAssessmentsSetting)
        IM-1 = sql-entra-only-auth
        NS-2 = sql-no-public-network, private-endpoints-required
        DP-3 = sql-min-tls
        LT-3 = sql-auditing-enabled
        BR-2 = prod-data-protected
        """,
        checkov=("Microsoft.Sql/servers", "azurerm_mssql_server", "azurerm_sql_server"),
        psrule=("Azure.SQL.",),
        related=("sql:FirewallRule",),
    ),
    entry(
        "sql:Database",
        f"""
        CKV2_AZURE_25 ! TDE with service-managed keys is on by default for every Azure SQL database
            and cannot be turned off through this API
        CKV_AZURE_23 = sql-auditing-enabled
        CKV_AZURE_25 ! threat detection is the server's sql:ServerSecurityAlertPolicy (all types by
            default)
        CKV_AZURE_26 ! alerts go through Defender for Cloud to the subscription's security contacts
        CKV_AZURE_27 ! alerts go through Defender for Cloud to the subscription's security contacts
        CKV_AZURE_224 ! ledger tables are an application choice; no regulatory need recorded
        CKV_AZURE_229 ! {SINGLE_REGION}
        Azure.SQL.DBName = {NAMING}
        Azure.SQL.DatabaseNaming = {NAMING}
        Azure.SQL.TDE ! TDE is on by default and cannot be disabled for Azure SQL Database
        Azure.SQL.MaintenanceWindow ! serverless/General Purpose databases use the default window
        LT-3 = diagnostic-settings-required
        BR-1 ! backups are the database layer's BackupShortTermRetentionPolicy /
            LongTermRetentionPolicy
        BR-2 = prod-data-protected
        """,
        checkov=("Microsoft.Sql/servers/databases", "azurerm_mssql_database"),
        related=("sql:Server",),
    ),
    entry(
        "sql:FailoverGroup",
        """
        BR-1 = sql-failover-group-complete, prod-cross-region-copies
        """,
        related=("sql:Server", "sql:Database"),
    ),
    entry(
        "sql:FirewallRule",
        """
        CKV_AZURE_11 = sql-firewall-rules-narrow
        CKV2_AZURE_6 = sql-firewall-rules-narrow
        CKV2_AZURE_34 = sql-firewall-rules-narrow
        NS-2 = sql-firewall-rules-narrow
        """,
        checkov=("azurerm_sql_firewall_rule",),
    ),
    entry(
        "sql:ServerAzureADOnlyAuthentication",
        """
        IM-1 = sql-entra-only-auth
        """,
        upcoming=True,
    ),
    entry(
        "sql:ServerBlobAuditingPolicy",
        """
        CKV_AZURE_23 = sql-auditing-enabled
        CKV_AZURE_24 ! audit logs go to Log Analytics, retained per environment
            (loganalytics-retention)
        CKV_AZURE_156 = sql-auditing-enabled
        LT-3 = sql-auditing-enabled
        """,
        checkov=("azurerm_mssql_server_extended_auditing_policy",),
    ),
    entry(
        "sql:ServerSecurityAlertPolicy",
        """
        CKV2_AZURE_13 ! the database layer creates this policy with state Enabled for every server
        CKV_AZURE_25 ! no disabledAlerts are set, so all threat types are on
        CKV_AZURE_26 ! alerts go through Defender for Cloud to the subscription's security contacts
        CKV_AZURE_27 ! alerts go through Defender for Cloud to the subscription's security contacts
        CKV2_AZURE_2 ! vulnerability assessment uses the express configuration (no storage account)
        CKV2_AZURE_3 ! express vulnerability assessment scans on its own schedule
        CKV2_AZURE_4 ! express vulnerability assessment reports through Defender for Cloud
        CKV2_AZURE_5 ! express vulnerability assessment reports through Defender for Cloud
        LT-1 ! threat detection is on; Defender plans are subscription settings
        """,
        checkov=(
            "azurerm_mssql_server_security_alert_policy",
            "azurerm_mssql_server_vulnerability_assessment",
        ),
    ),
    entry(
        # Written through the generic resource: azure-native v3 has no typed resource for it.
        "resources:Resource:Microsoft.Sql/servers/connectionPolicies",
        """
        NS-2 ! an explicit policy (settings database.connectionPolicy) whose ports the data
          subnet's NSG opens exactly (infra/networking/nsg.py sql_ports; tested in
          tests/test_sql_connection.py)
        """,
    ),
    entry(
        "sql:SqlVulnerabilityAssessmentsSetting",
        """
        LT-1 ! express vulnerability assessment, on for every server in the database layer
        """,
    ),
    entry(
        "sql:BackupShortTermRetentionPolicy",
        """
        BR-1 ! point-in-time restore days are validated per SKU by config/ (DESIGN.md)
        """,
    ),
    entry(
        "sql:LongTermRetentionPolicy",
        """
        BR-1 ! long-term retention is set per environment by config/
        """,
    ),
    entry(
        "servicebus:Namespace",
        f"""
        CKV_AZURE_199 ! infrastructure (double) encryption needs Premium at creation;
            platform-managed keys suffice here
        CKV_AZURE_201 ! {NO_CMK}
        CKV_AZURE_202 ! the namespace calls nothing itself; clients use managed identities
            (servicebus-local-auth-disabled)
        CKV_AZURE_203 = servicebus-local-auth-disabled
        CKV_AZURE_204 = servicebus-no-public-network
        CKV_AZURE_205 = servicebus-min-tls
        Azure.ServiceBus.AuditLogs = diagnostic-settings-required
        Azure.ServiceBus.DisableLocalAuth = servicebus-local-auth-disabled
        Azure.ServiceBus.MinTLS = servicebus-min-tls
        Azure.ServiceBus.GeoReplica = servicebus-geo-replicated
        Azure.ServiceBus.Usage ! every entity comes from the messaging layer's entity table and has
            a consumer
        NS-2 = servicebus-no-public-network, servicebus-network-rule-set, servicebus-sku,
            private-endpoints-required
        IM-1 = servicebus-local-auth-disabled
        DP-3 = servicebus-min-tls
        LT-3 = diagnostic-settings-required
        """,
        checkov=("azurerm_servicebus_namespace",),
        psrule=("Azure.ServiceBus.",),
    ),
    entry(
        "servicebus:NamespaceNetworkRuleSet",
        """
        NS-2 = servicebus-network-rule-set
        """,
    ),
    entry(
        "servicebus:Queue",
        """
        PA-7 = rbac-narrow-scope
        """,
        related=("authorization:RoleAssignment",),
    ),
    entry(
        "servicebus:Topic",
        """
        PA-7 = rbac-narrow-scope
        """,
        related=("authorization:RoleAssignment",),
    ),
    entry(
        "servicebus:Subscription",
        """
        PA-7 = rbac-narrow-scope
        """,
        related=("authorization:RoleAssignment",),
    ),
    entry(
        "servicebus:DefaultRule",
        """
        PA-7 ! a subscription filter; no security setting
        """,
    ),
    entry(
        "storage:StorageAccount",
        f"""
        CKV2_AZURE_1 ! {NO_CMK}
        CKV2_AZURE_8 ! activity logs go to Log Analytics, not to a storage container
        CKV2_AZURE_20 ! the ETL account has no table service in use; blob logs go through the
            blobServices diagnostic setting
        CKV2_AZURE_21 ! classic storage analytics logging is superseded by diagnostic settings (etl
            blob service diagnostic setting)
        CKV2_AZURE_33 = private-endpoints-required
        CKV2_AZURE_38 = storage-blob-soft-delete
        CKV2_AZURE_40 = storage-no-shared-key
        CKV2_AZURE_41 ! shared key is disabled (storage-no-shared-key), so no account SAS can be
            signed
        CKV2_AZURE_47 = storage-no-public-blob-access
        CKV2_AZURE_50 ! no Machine Learning workspace
        CKV_AZURE_3 = storage-https-only
        CKV_AZURE_33 ! no queue service in use; classic analytics logging is superseded by
            diagnostic settings
        CKV_AZURE_35 = public-access-default-deny
        CKV_AZURE_36 ! bypass AzureServices is set in infra/etl; only Microsoft services with RBAC
            can use it
        CKV_AZURE_43 = {NAMING}
        CKV_AZURE_44 = storage-min-tls
        CKV_AZURE_59 = public-access-default-deny, storage-no-public-blob-access
        CKV_AZURE_190 = storage-no-public-blob-access
        CKV_AZURE_206 ! replication is a per-environment SKU (config/); staging's
            redundancy is issue 10's
        CKV_AZURE_244 ! SFTP and local users are not enabled (no isLocalUserEnabled/isSftpEnabled)
        Azure.Storage.BlobPublicAccess = storage-no-public-blob-access
        Azure.Storage.BlobAccessType = storage-container-private
        Azure.Storage.ContainerSoftDelete = storage-soft-delete-days
        Azure.Storage.SoftDelete = storage-blob-soft-delete, storage-soft-delete-days
        Azure.Storage.FileShareSoftDelete ! no file shares
        Azure.Storage.Firewall = public-access-default-deny
        Azure.Storage.MinTLS = storage-min-tls
        Azure.Storage.SecureTransfer = storage-https-only
        Azure.Storage.Name = {NAMING}
        Azure.Storage.Naming = {NAMING}
        Azure.Storage.LocalAuth = storage-no-shared-key
        Azure.Storage.UseReplication ! replication is a per-environment SKU (config/)
        Azure.Storage.DefenderCloud ! {DEFENDER}
        Azure.Storage.Defender.DataScan ! {DEFENDER}
        Azure.Storage.Defender.MalwareScan ! {DEFENDER}
        NS-2 = private-endpoints-required, public-access-default-deny
        IM-1 = storage-no-shared-key
        DP-3 = storage-https-only, storage-min-tls
        LT-3 = diagnostic-settings-required
        LT-6 = audit-store-immutable
        BR-2 = prod-data-protected, audit-store-immutable
        """,
        checkov=(
            "Microsoft.Storage/storageAccounts",
            "azurerm_storage_account",
            "azurerm_storage_account_network_rules",
        ),
        psrule=("Azure.Storage.",),
        related=("storage:BlobContainer", "storage:BlobServiceProperties"),
    ),
    entry(
        "storage:BlobServiceProperties",
        """
        CKV2_AZURE_38 = storage-blob-soft-delete
        Azure.Storage.SoftDelete = storage-soft-delete-days
        Azure.Storage.ContainerSoftDelete = storage-soft-delete-days
        BR-1 = storage-soft-delete-days
        """,
    ),
    entry(
        "storage:BlobContainer",
        """
        CKV_AZURE_34 = storage-container-private
        CKV2_AZURE_8 ! no container stores activity logs
        CKV2_AZURE_21 ! blob request logs come from the blob service's diagnostic setting
        Azure.Storage.BlobAccessType = storage-container-private
        PA-7 = rbac-narrow-scope
        """,
        checkov=(
            "Microsoft.Storage/storageAccounts/blobServices/containers",
            "azurerm_storage_container",
            "blobServices/containers",
        ),
        related=("authorization:RoleAssignment",),
    ),
    entry(
        "storage:ManagementPolicy",
        """
        BR-1 ! lifecycle tiering of ETL data; tier minimum days are issue 10's (offline checks)
        """,
    ),
    entry(
        "datafactory:Factory",
        f"""
        CKV2_AZURE_15 ! {NO_CMK}
        CKV_AZURE_103 ! pipelines are deployed from this repository by the stack, not authored in
            the factory UI
        CKV_AZURE_104 = datafactory-no-public-network
        Azure.DataFactory.Version ! azure-native factories are always V2
        IM-3 = datafactory-managed-identity
        NS-2 = datafactory-no-public-network
        LT-3 = diagnostic-settings-required
        """,
        checkov=("Microsoft.DataFactory/factories", "azurerm_data_factory"),
        psrule=("Azure.DataFactory.",),
    ),
    entry(
        "redisenterprise:RedisEnterprise",
        f"""
        CKV_AZURE_89 = redis-no-public-network
        CKV_AZURE_91 = redis-encrypted-client-protocol
        CKV_AZURE_148 ! Azure Managed Redis accepts TLS 1.2+ only (1.0/1.1 are obsolete in the API)
        CKV_AZURE_230 ! highAvailability is set per environment by config/
        Azure.Redis.PublicNetworkAccess = redis-no-public-network
        Azure.Redis.MinTLS ! Azure Managed Redis accepts TLS 1.2+ only
        Azure.Redis.AvailabilityZone ! classic Premium-tier rule; Azure Managed Redis HA is per
            environment
        Azure.Redis.FirewallIPRange ! Azure Managed Redis has no IP firewall; private endpoints in
            staging/prod
        Azure.Redis.FirewallRuleCount ! Azure Managed Redis has no IP firewall rules
        Azure.Redis.MaxMemoryReserved ! classic-tier memory setting; not offered by Azure Managed
            Redis
        Azure.Redis.MinSKU ! classic C-family SKUs; Azure Managed Redis SKUs are set per environment
        Azure.Redis.Version ! Azure Managed Redis runs the current Redis version
        Azure.Redis.Naming ! classic Azure Cache for Redis; the platform deploys Azure Managed Redis
        Azure.RedisEnterprise.Naming = {NAMING}
        Azure.RedisEnterprise.MinTLS ! TLS 1.0/1.1 are obsolete in the API; only 1.2+ is accepted
        Azure.RedisEnterprise.Zones ! zone redundancy follows highAvailability, set per environment
        NS-2 = redis-no-public-network, private-endpoints-required
        """,
        checkov=("Microsoft.Cache/redis", "azurerm_redis_cache"),
        psrule=("Azure.Redis.", "Azure.RedisEnterprise."),
        related=("redisenterprise:Database",),
    ),
    entry(
        "redisenterprise:Database",
        """
        CKV_AZURE_91 = redis-encrypted-client-protocol
        Azure.Redis.NonSslPort = redis-encrypted-client-protocol
        Azure.Redis.EntraID = redis-access-keys-disabled
        Azure.Redis.LocalAuth = redis-access-keys-disabled
        DP-3 = redis-encrypted-client-protocol
        IM-1 = redis-access-keys-disabled
        """,
    ),
    entry(
        "redisenterprise:AccessPolicyAssignment",
        """
        PA-7 ! assigns the built-in default access policy to one workload identity
        """,
    ),
    entry(
        "cosmosdb:DatabaseAccount",
        f"""
        CKV_AZURE_99 = cosmos-public-access-firewall
        CKV_AZURE_100 ! {NO_CMK}
        CKV_AZURE_101 = cosmos-no-public-network
        CKV_AZURE_132 = cosmos-metadata-write-entra-only
        CKV_AZURE_140 = cosmos-local-auth-disabled
        Azure.Cosmos.AccountName = {NAMING}
        Azure.Cosmos.NoSQLNaming = {NAMING}
        Azure.Cosmos.CassandraNaming ! the account is NoSQL (GlobalDocumentDB)
        Azure.Cosmos.GremlinNaming ! the account is NoSQL (GlobalDocumentDB)
        Azure.Cosmos.MongoNaming ! the account is NoSQL (GlobalDocumentDB)
        Azure.Cosmos.PostgreSQLNaming ! the account is NoSQL (GlobalDocumentDB)
        Azure.Cosmos.TableNaming ! the account is NoSQL (GlobalDocumentDB)
        Azure.Cosmos.DatabaseNaming ! database names come from the optional-stores layer's table;
            infra/core/naming.py has no CAF kind for databases
        Azure.Cosmos.DisableLocalAuth = cosmos-local-auth-disabled
        Azure.Cosmos.DisableMetadataWrite = cosmos-metadata-write-entra-only
        Azure.Cosmos.MinTLS = cosmos-min-tls
        Azure.Cosmos.PublicAccess = cosmos-no-public-network
        Azure.Cosmos.DefenderCloud ! {DEFENDER}
        Azure.Cosmos.SLA ! serverless capacity is chosen per environment (cost); no free tier is
            used
        Azure.Cosmos.ContinuousBackup ! backup policy is the optional-stores layer's
            per-environment setting
        NS-2 = cosmos-no-public-network, cosmos-public-access-firewall, private-endpoints-required
        IM-1 = cosmos-local-auth-disabled
        DP-3 = cosmos-min-tls
        LT-3 = diagnostic-settings-required
        """,
        checkov=(
            "Microsoft.DocumentDB/databaseAccounts",
            "Microsoft.DocumentDb/databaseAccounts",
            "azurerm_cosmosdb_account",
        ),
        psrule=("Azure.Cosmos.",),
    ),
    entry(
        "cosmosdb:SqlResourceSqlDatabase",
        """
        DP-4 ! encrypted at rest by the account
        """,
    ),
    entry(
        "cosmosdb:SqlResourceSqlContainer",
        """
        DP-4 ! encrypted at rest by the account
        """,
    ),
    entry(
        "cosmosdb:SqlResourceSqlRoleAssignment",
        """
        PA-7 ! data-plane role for one workload identity, created by the optional-stores layer
        """,
    ),
    entry(
        "frontdoor:Policy",
        f"""
        CKV_AZURE_123 = frontdoor-waf-mode
        CKV_AZURE_133 = frontdoor-waf-managed-rules
        Azure.FrontDoor.WAF.Enabled = frontdoor-waf-mode
        Azure.FrontDoor.WAF.Mode = frontdoor-waf-mode
        Azure.FrontDoor.WAF.Name = {NAMING}
        Azure.FrontDoorWAF.Enabled = frontdoor-waf-mode
        Azure.FrontDoorWAF.PreventionMode = frontdoor-waf-mode
        Azure.FrontDoorWAF.RuleGroups = frontdoor-waf-managed-rules
        Azure.FrontDoorWAF.Exclusions ! no exclusions are configured; a new one is a reviewed
            change to the security layer
        NS-6 = frontdoor-waf-mode, frontdoor-waf-managed-rules, frontdoor-endpoint-waf
        """,
        checkov=(
            "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies",
            "Microsoft.Network/frontdoorWebApplicationFirewallPolicies",
            "azurerm_frontdoor_firewall_policy",
        ),
        psrule=("Azure.FrontDoorWAF.",),
        related=("cdn:SecurityPolicy",),
    ),
    # ---- the frontend layer (infra/frontend) -----------------------------------------------
    entry(
        "cdn:Profile",
        f"""
        Azure.CDN.UseFrontDoor ! the profile is Front Door Standard/Premium by design (DESIGN.md)
        Azure.FrontDoor.Logs = diagnostic-settings-required
        Azure.FrontDoor.ManagedIdentity ! origins are public Container Apps/Static Web Apps
            endpoints behind the WAF; no Key Vault certificates
        Azure.FrontDoor.Name = {NAMING}
        Azure.FrontDoor.MinTLS ! classic Front Door rule; custom domains are checked by
            frontdoor-custom-domain-tls
        Azure.FrontDoor.State ! classic Front Door rule
        Azure.FrontDoor.Probe ! origin health probes are the frontend layer's routing setting, not
            a security control
        Azure.FrontDoor.ProbeMethod ! origin health probes are the frontend layer's routing setting
        Azure.FrontDoor.ProbePath ! origin health probes are the frontend layer's routing setting
        Azure.FrontDoor.UseCaching ! caching is a performance setting of the frontend layer
        LT-3 = diagnostic-settings-required
        """,
        psrule=("Azure.FrontDoor.", "Azure.CDN."),
    ),
    entry(
        "cdn:AFDEndpoint",
        f"""
        CKV_AZURE_121 = frontdoor-endpoint-waf
        CKV_AZURE_197 ! {CLASSIC_AFD}; routes are checked by frontdoor-route-https
        CKV_AZURE_198 ! {CLASSIC_AFD}; routes are checked by frontdoor-route-https
        Azure.FrontDoor.UseWAF = frontdoor-endpoint-waf
        Azure.CDN.EndpointName = {NAMING}
        NS-6 = frontdoor-endpoint-waf
        """,
        checkov=("Microsoft.Network/frontDoors", "azurerm_frontdoor", "azurerm_cdn_endpoint"),
    ),
    entry(
        "cdn:Route",
        """
        Azure.CDN.HTTP = frontdoor-route-https
        DP-3 = frontdoor-route-https
        """,
    ),
    entry(
        "cdn:AFDCustomDomain",
        """
        CKV_AZURE_200 = frontdoor-custom-domain-tls
        Azure.CDN.MinTLS = frontdoor-custom-domain-tls
        DP-3 = frontdoor-custom-domain-tls
        NS-6 = frontdoor-endpoint-waf
        """,
        checkov=("azurerm_cdn_endpoint_custom_domain",),
    ),
    entry(
        "cdn:SecurityPolicy",
        """
        NS-6 = frontdoor-endpoint-waf, frontdoor-attached-waf-prevention
        """,
    ),
    entry(
        "containerregistry:Replication",
        """
        CKV_AZURE_233 ! the registry layer creates every replica with zoneRedundancy Enabled;
            no rule checks it yet
        Azure.ACR.GeoReplica = acr-replica-endpoint-enabled, prod-cross-region-copies
        BR-1 = prod-cross-region-copies
        """,
        checkov=("Microsoft.ContainerRegistry/registries/replications",),
        related=("containerregistry:Registry",),
    ),
    entry(
        "containerregistry:Registry",
        f"""
        CKV_AZURE_137 = acr-admin-user-disabled
        CKV_AZURE_138 = acr-no-anonymous-pull
        CKV_AZURE_139 = public-access-default-deny
        CKV_AZURE_163 ! image scanning is Defender for Containers, a subscription plan
        CKV_AZURE_164 ! images are promoted by digest from CI (DESIGN.md); content trust is
            deprecated by Azure
        CKV_AZURE_165 = prod-cross-region-copies
        CKV_AZURE_166 ! quarantine is a preview feature; CI promotes scanned digests
        CKV_AZURE_167 ! retention of untagged manifests is a Premium housekeeping setting, not a
            control
        CKV_AZURE_233 ! {SINGLE_REGION}
        CKV_AZURE_237 ! dedicated data endpoints matter with a firewall allow-list; egress allows
            *.azurecr.io
        Azure.ACR.AdminUser = acr-admin-user-disabled
        Azure.ACR.AnonymousAccess = acr-no-anonymous-pull
        Azure.ACR.Firewall = public-access-default-deny
        Azure.ACR.Name = {NAMING}
        Azure.ACR.Naming = {NAMING}
        Azure.ACR.ExportPolicy ! artifact export is a Premium setting the gateway layer does not
            enable; no rule checks exportPolicy yet
        Azure.ACR.ReplicaLocation ! {SINGLE_REGION}
        Azure.ACR.ContainerScan ! {DEFENDER}
        Azure.ACR.ImageHealth ! {DEFENDER}
        Azure.ACR.ContentTrust ! images are promoted by digest from CI (DESIGN.md)
        Azure.ACR.Quarantine ! preview feature; CI promotes scanned digests
        Azure.ACR.GeoReplica = prod-cross-region-copies
        Azure.ACR.MinSku ! SKU per environment; Premium where private endpoints are required
            (DESIGN.md)
        Azure.ACR.Retention ! housekeeping, not a security control
        Azure.ACR.SoftDelete ! preview feature
        Azure.ACR.Usage ! housekeeping, not a security control
        IM-1 = acr-admin-user-disabled
        NS-2 = private-endpoints-required, public-access-default-deny
        LT-3 = diagnostic-settings-required
        """,
        checkov=("Microsoft.ContainerRegistry/registries", "azurerm_container_registry"),
        psrule=("Azure.ACR.",),
        upcoming=True,
    ),
    entry(
        "app:ManagedEnvironment",
        f"""
        Azure.ContainerApp.PublicAccess = containerapp-environment-internal
        Azure.ContainerApp.AvailabilityZone ! zone redundancy is the containerApps.zoneRedundant
            setting (prod), validated against the region's zones at start-up
        Azure.ContainerApp.EnvNaming = {NAMING}
        NS-2 = containerapp-environment-internal
        LT-3 = containerapp-environment-logs, diagnostic-settings-required
        """,
        related=("app:ContainerApp",),
    ),
    entry(
        "app:ContainerApp",
        f"""
        Azure.ContainerApp.ExternalIngress = containerapp-internal-ingress
        Azure.ContainerApp.Insecure = containerapp-no-insecure-ingress
        Azure.ContainerApp.ManagedIdentity = containerapp-identity-registry-pull
        Azure.ContainerApp.Name = {NAMING}
        Azure.ContainerApp.Naming = {NAMING}
        Azure.ContainerApp.JobNaming ! the platform runs no Container Apps jobs
        Azure.ContainerApp.RestrictIngress = containerapp-ingress-ip-restrictions
        Azure.ContainerApp.APIVersion ! azure-native v3 uses a current API version
        Azure.ContainerApp.DisableAffinity ! the services are stateless and do not set
            stickySessions
        Azure.ContainerApp.MinReplicas ! replica counts are per-environment scale settings
            (containerApps.services); dev and qa scale to zero by design
        Azure.ContainerApp.Storage ! the services keep state in SQL, Service Bus and blob storage
        IM-3 = containerapp-identity-registry-pull
        IM-8 = containerapp-no-inline-secrets
        NS-2 = containerapp-internal-ingress, containerapp-ingress-ip-restrictions
        DP-3 = containerapp-no-insecure-ingress
        WAF-RE:07 = containerapp-health-probes
        WAF-OE:11 = containerapp-revision-mode
        """,
        psrule=("Azure.ContainerApp.",),
    ),
    entry(
        "web:WebApp",
        """
        CKV_AZURE_13 ! the Functions app has no interactive users; HTTP triggers are internal to
            the VNet
        CKV_AZURE_14 = web-https-only
        CKV_AZURE_15 = web-min-tls
        CKV_AZURE_16 ! Easy Auth is for interactive apps; the Functions app is called from inside
            the VNet
        CKV_AZURE_17 ! no client-certificate callers; internal triggers only
        CKV_AZURE_18 ! Flex Consumption serves HTTP/2 by default; not a security control
        CKV_AZURE_56 ! see CKV_AZURE_13: no interactive callers
        CKV_AZURE_57 ! no CORS configured; the SPA calls API Management, not the Functions app
        CKV_AZURE_62 ! one region by design; access restrictions come from VNet integration and NSGs
        CKV_AZURE_63 ! HTTP logs go to Log Analytics through the diagnostic setting
        CKV_AZURE_65 ! detailed error pages are an App Service (Windows) diagnostic; Application
            Insights traces instead
        CKV_AZURE_66 ! failed request tracing is an IIS feature; Application Insights traces instead
        CKV_AZURE_67 ! Flex Consumption serves HTTP/2 by default; not a security control
        CKV_AZURE_70 = web-https-only
        CKV_AZURE_71 = web-managed-identity
        CKV_AZURE_72 ! remote debugging is not offered on Linux Flex Consumption
        CKV_AZURE_78 = web-ftp-disabled
        CKV_AZURE_80 ! the platform runs Python, not .NET Framework
        CKV_AZURE_81 ! the platform runs Python, not PHP
        CKV_AZURE_82 ! the Python version is pinned by the functions layer's runtime settings
        CKV_AZURE_83 ! the platform runs Python, not Java
        CKV_AZURE_88 ! Flex Consumption deploys from a blob container (OneDeploy), not Azure Files
        CKV_AZURE_145 = web-min-tls
        CKV_AZURE_153 = web-https-only
        CKV_AZURE_155 ! remote debugging is not offered on Linux Flex Consumption
        CKV_AZURE_159 ! built-in logging is superseded by Application Insights
        CKV_AZURE_212 ! Flex Consumption scales per execution; instance counts do not apply
        CKV_AZURE_213 ! health checks are the services' /health endpoints behind Container Apps;
            Flex has no health check setting
        CKV_AZURE_214 ! always-on is not available on Flex Consumption
        CKV_AZURE_221 ! public network access stays on for OneDeploy to the SCM site; the main
            site denies every caller and SCM admits only the stack's allowed ranges
        CKV_AZURE_222 ! as CKV_AZURE_221
        Azure.AppService.UseHTTPS = web-https-only
        Azure.AppService.MinTLS = web-min-tls
        Azure.AppService.ManagedIdentity = web-managed-identity
        Azure.AppService.WebSecureFtp = web-ftp-disabled
        Azure.AppService.RemoteDebug ! not offered on Linux Flex Consumption
        Azure.AppService.AlwaysOn ! not available on Flex Consumption
        Azure.AppService.ARRAffinity ! the Functions app is stateless
        Azure.AppService.HTTP2 ! not a security control
        Azure.AppService.NETVersion ! Python runtime
        Azure.AppService.NodeJsVersion ! Python runtime
        Azure.AppService.PHPVersion ! Python runtime
        Azure.AppService.WebProbe ! Flex Consumption has no health check setting
        Azure.AppService.WebProbePath ! Flex Consumption has no health check setting
        IM-1 = web-basic-auth-publishing-disabled
        IM-3 = web-managed-identity, web-flex-deployment-identity
        IM-8 = web-settings-no-keys, web-flex-deployment-identity
        NS-2 = web-vnet-integration
        DP-3 = web-https-only, web-min-tls
        AM-2 = web-flex-no-deprecated-settings
        LT-3 = diagnostic-settings-required
        """,
        checkov=(
            "Microsoft.Web/sites",
            "Microsoft.Web/sites/config",
            "azurerm_linux_function_app",
            "azurerm_linux_web_app",
            "azurerm_function_app",
            "azurerm_app_service",
        ),
        psrule=("Azure.AppService.",),
        upcoming=True,
    ),
    entry(
        "web:WebAppSlot",
        """
        CKV_AZURE_67 ! not a security control
        CKV_AZURE_70 = web-https-only
        CKV_AZURE_72 ! remote debugging is not offered on Linux Flex Consumption
        CKV_AZURE_145 = web-min-tls
        CKV_AZURE_153 = web-https-only
        CKV_AZURE_154 = web-min-tls
        CKV_AZURE_155 ! remote debugging is not offered on Linux Flex Consumption
        CKV_AZURE_159 ! built-in logging is superseded by Application Insights
        CKV_AZURE_212 ! Flex Consumption scales per execution
        CKV_AZURE_213 ! Flex Consumption has no health check setting
        CKV_AZURE_221 ! as for the app (CKV_AZURE_221 on web:WebApp)
        CKV_AZURE_222 ! as for the app
        IM-3 = web-managed-identity
        IM-8 = web-settings-no-keys
        NS-2 = web-vnet-integration
        """,
        checkov=(
            "Microsoft.Web/sites/slots",
            "azurerm_linux_function_app_slot",
            "azurerm_linux_web_app_slot",
            "azurerm_app_service_slot",
            "azurerm_function_app_slot",
        ),
        upcoming=True,
    ),
    entry(
        "web:WebAppFtpAllowed",
        """
        IM-1 = web-basic-auth-publishing-disabled
        """,
        upcoming=True,
    ),
    entry(
        "web:WebAppScmAllowed",
        """
        IM-1 = web-basic-auth-publishing-disabled
        """,
        upcoming=True,
    ),
    entry(
        "web:WebAppApplicationSettings",
        """
        IM-8 = web-settings-no-keys
        """,
        upcoming=True,
    ),
    entry(
        "web:WebAppSwiftVirtualNetworkConnection",
        """
        NS-2 = web-vnet-integration
        """,
        upcoming=True,
    ),
    entry(
        "web:AppServicePlan",
        f"""
        CKV_AZURE_211 ! Flex Consumption (FC1) is the production plan by design (DESIGN.md)
        CKV_AZURE_212 ! Flex Consumption scales per execution; instance counts do not apply
        CKV_AZURE_225 ! {SINGLE_REGION}
        Azure.AppService.MinPlan ! Flex Consumption by design (DESIGN.md)
        Azure.AppService.PlanInstanceCount ! Flex Consumption scales per execution
        Azure.AppService.AvailabilityZone ! {SINGLE_REGION}
        NS-2 = web-functions-plan-vnet-capable
        """,
        checkov=("Microsoft.Web/serverfarms", "azurerm_service_plan"),
        upcoming=True,
    ),
    entry(
        "web:StaticSite",
        f"""
        DP-3 ! Static Web Apps serve HTTPS only and redirect HTTP; nothing to configure
        NS-6 = frontdoor-endpoint-waf, static-web-app-behind-front-door
        NS-2 = static-web-app-behind-front-door
        Azure.Resource.UseTags = {TAGS}
        """,
        related=("cdn:AFDEndpoint", "cdn:AFDOrigin"),
    ),
    entry(
        "cdn:AFDOriginGroup",
        """
        Azure.FrontDoor.Probe ! the origin group probes the app over HTTPS with HEAD every 100 s
            (infra/frontend); a routing setting, not a security control
        """,
    ),
    entry(
        "cdn:AFDOrigin",
        """
        DP-3 = frontdoor-origin-certificate-check
        NS-2 = static-web-app-behind-front-door
        """,
    ),
    entry(
        "dns:Zone",
        f"""
        Azure.Resource.UseTags = {TAGS}
        AM-1 ! a public zone only when platform:customDomain is set and platform:dnsZone is not;
            its records are the custom domain's CNAME and validation TXT
        """,
    ),
    entry(
        "dns:RecordSet",
        """
        AM-1 ! the custom domain's CNAME to the Front Door endpoint and its _dnsauth TXT record,
            written by infra/frontend from Front Door's own values
        """,
    ),
    entry(
        "apimanagement:ApiManagementService",
        f"""
        CKV_AZURE_107 ! VNet mode follows the tier (DESIGN.md): classic Developer/Premium injected,
            Standard v2 integrated; validated by config/
        CKV_AZURE_152 ! callers authenticate with subscription keys and basic credentials checked
            against users-api (DESIGN.md), not client certificates
        CKV_AZURE_173 = apim-legacy-protocols-disabled
        CKV_AZURE_174 ! API Management is the platform's only public entry point (DESIGN.md)
        Azure.APIM.Protocols = apim-legacy-protocols-disabled
        Azure.APIM.Ciphers = apim-legacy-protocols-disabled
        Azure.APIM.ManagedIdentity = apim-managed-identity
        Azure.APIM.Name = {NAMING}
        Azure.APIM.HTTPEndpoint = apim-api-https-only
        Azure.APIM.DefenderCloud ! {DEFENDER}
        Azure.APIM.MinAPIVersion ! azure-native v3 calls a current API version
        Azure.APIM.AvailabilityZone ! {SINGLE_REGION}
        Azure.APIM.MultiRegion ! {SINGLE_REGION}
        Azure.APIM.MultiRegionGateway ! {SINGLE_REGION}
        Azure.APIM.CertificateExpiry ! custom domain certificates are Front Door managed
            certificates
        Azure.APIM.SampleProducts ! the gateway layer creates its own products; samples are not
            created through ARM
        Azure.APIM.PolicyBase ! policy XML structure is the gateway layer's; <base/> kept in each
            section is reviewed there
        IM-3 = apim-managed-identity
        DP-3 = apim-legacy-protocols-disabled
        LT-3 = diagnostic-settings-required
        NS-2 = apim-vnet-shape
        """,
        checkov=("Microsoft.ApiManagement/service", "azurerm_api_management"),
        psrule=("Azure.APIM.",),
        upcoming=True,
        related=("apimanagement:Api",),
    ),
    entry(
        "apimanagement:Api",
        """
        Azure.APIM.HTTPEndpoint = apim-api-https-only
        Azure.APIM.APIDescriptors ! display names and descriptions are documentation, not a control
        IM-1 = apim-api-subscription-required
        DP-3 = apim-api-https-only
        """,
        upcoming=True,
    ),
    entry(
        "apimanagement:Backend",
        """
        CKV_AZURE_215 = apim-backend-https
        Azure.APIM.HTTPBackend = apim-backend-https
        DP-3 = apim-backend-https
        """,
        checkov=("azurerm_api_management_backend",),
        upcoming=True,
    ),
    entry(
        "apimanagement:NamedValue",
        """
        Azure.APIM.EncryptValues = apim-named-values-key-vault
        IM-8 = apim-named-values-key-vault
        """,
        upcoming=True,
    ),
    entry(
        "apimanagement:Subscription",
        """
        PA-7 = apim-subscription-scoped
        """,
        upcoming=True,
    ),
    entry(
        "apimanagement:Product",
        """
        Azure.APIM.ProductSubscription = apim-product-closed
        Azure.APIM.ProductApproval = apim-product-closed
        Azure.APIM.ProductDescriptors ! documentation, not a control
        Azure.APIM.ProductTerms ! internal products; terms of use are not a security control
        IM-1 = apim-product-closed
        """,
        upcoming=True,
    ),
    entry(
        "apimanagement:Policy",
        """
        Azure.APIM.CORSPolicy = apim-cors-no-wildcard
        """,
        upcoming=True,
    ),
    entry(
        "apimanagement:ApiPolicy",
        """
        Azure.APIM.CORSPolicy = apim-cors-no-wildcard
        IM-1 = apim-api-policy-basic-auth
        """,
        upcoming=True,
    ),
    entry(
        "apimanagement:ProductPolicy",
        """
        Azure.APIM.CORSPolicy = apim-cors-no-wildcard
        NS-5 = apim-product-policy-limits
        """,
        upcoming=True,
    ),
    entry(
        "apimanagement:ProductApi",
        """
        IM-1 ! a link from a product to an API: the product's subscription rules apply to it
        """,
        upcoming=True,
    ),
    entry(
        "apimanagement:Logger",
        """
        IM-3 = apim-logger-managed-identity
        IM-8 = apim-logger-managed-identity
        """,
        upcoming=True,
    ),
    entry(
        "apimanagement:Diagnostic",
        """
        IM-8 = apim-diagnostic-no-credentials
        LT-3 ! the diagnostic is the gateway's request log to Application Insights itself
        """,
        upcoming=True,
    ),
)

# Types with no Azure control at all (provider-only resources).
NOT_AZURE: Mapping[str, str] = {
    "random:index/randomString:RandomString": "a pulumi-random value (name suffix); creates no "
    "Azure resource",
}

CATALOG_BY_TYPE: Mapping[str, TypeEntry] = {e.type: e for e in CATALOG}
if len(CATALOG_BY_TYPE) != len(CATALOG):
    raise RuntimeError("a resource type appears twice in the catalog")


@cache
def checkov_checks() -> Mapping[str, Mapping[str, object]]:
    """The Checkov snapshot: id -> {name, resources}."""
    data = json.loads((SOURCES / "checkov-azure.json").read_text())
    checks: dict[str, Mapping[str, object]] = data["checks"]
    return checks


@cache
def checkov_version() -> str:
    return str(json.loads((SOURCES / "checkov-azure.json").read_text())["version"])


@cache
def psrule_rules() -> Mapping[str, str]:
    """The PSRule snapshot: rule name -> synopsis."""
    rules: dict[str, str] = json.loads((SOURCES / "psrule-azure.json").read_text())["rules"]
    return rules


def title(control: Control) -> str:
    """The catalog's own wording of a control."""
    if control.source == "Checkov":
        found = checkov_checks().get(control.id)
        return str(found["name"]) if found else ""
    if control.source == "PSRule":
        return psrule_rules().get(control.id, "")
    if control.source == "WAF":
        return WELL_ARCHITECTED.get(control.id, "")
    return MCSB.get(control.id, "")
