"""Azure SQL logical server: Entra-only authentication, auditing, Defender, network access."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import resources, sql

# Microsoft.Sql/servers/connectionPolicies: azure-native v3 has no sql.ServerConnectionPolicy
# (pulumi/pulumi-azure-native#1573), so the policy is written through the provider's generic
# ARM resource at the API version that first shipped it as stable.
# https://learn.microsoft.com/azure/templates/microsoft.sql/2021-11-01/servers/connectionpolicies
CONNECTION_POLICY_API_VERSION = "2021-11-01"


@dataclass(frozen=True)
class SqlAdmin:
    """The server's Microsoft Entra administrator (no SQL login exists at all)."""

    login: pulumi.Input[str]
    object_id: pulumi.Input[str]
    # "Group", "User" or "Application"; None lets Azure resolve it (the deploying identity).
    principal_type: str | None


def create_sql_server(
    name: str,
    *,
    azure_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    location: str,
    tenant_id: pulumi.Input[str],
    admin: SqlAdmin,
    private: bool,
    protect: bool,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> sql.Server:
    """Entra-only auth is fixed at creation: there is no administrator password to leak.

    https://learn.microsoft.com/azure/azure-sql/database/authentication-azure-ad-only-authentication
    """
    return sql.Server(
        f"{name}-sql",
        server_name=azure_name,
        resource_group_name=resource_group_name,
        location=location,
        version="12.0",
        minimal_tls_version="1.2",
        public_network_access="Disabled" if private else "Enabled",
        # The server itself never calls out (auditing goes through Azure Monitor).
        restrict_outbound_network_access="Enabled",
        administrators=sql.ServerExternalAdministratorArgs(
            administrator_type="ActiveDirectory",
            azure_ad_only_authentication=True,
            login=admin.login,
            sid=admin.object_id,
            principal_type=admin.principal_type,
            tenant_id=tenant_id,
        ),
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )


def add_firewall_rules(
    name: str,
    *,
    server: sql.Server,
    resource_group_name: pulumi.Input[str],
    allowed: Sequence[pulumi.Input[str]],
) -> list[sql.FirewallRule]:
    """Where there is no private endpoint: only the listed ranges (operators, NAT egress)."""
    rules = []
    for index, entry in enumerate(allowed):
        bounds = pulumi.Output.from_input(entry).apply(_bounds)
        rules.append(
            sql.FirewallRule(
                f"{name}-sql-fw-{index}",
                firewall_rule_name=f"allowed-{index}",
                server_name=server.name,
                resource_group_name=resource_group_name,
                start_ip_address=bounds.apply(lambda b: b[0]),
                end_ip_address=bounds.apply(lambda b: b[1]),
                opts=pulumi.ResourceOptions(parent=server),
            )
        )
    return rules


def _bounds(cidr_or_ip: str) -> tuple[str, str]:
    network = ipaddress.IPv4Network(cidr_or_ip, strict=False)
    return str(network[0]), str(network[-1])


def add_auditing_and_defender(
    name: str,
    *,
    server: sql.Server,
    resource_group_name: pulumi.Input[str],
    defender: bool,
    alert_emails: Sequence[str],
) -> None:
    """Audit to Azure Monitor (the master database's diagnostic setting carries the events);
    Defender for SQL where the environment has it."""
    sql.ServerBlobAuditingPolicy(
        f"{name}-sql-audit",
        blob_auditing_policy_name="default",
        server_name=server.name,
        resource_group_name=resource_group_name,
        state=sql.BlobAuditingPolicyState.ENABLED,
        # https://learn.microsoft.com/azure/azure-sql/database/auditing-setup#audit-to-log-analytics-destination
        is_azure_monitor_target_enabled=True,
        audit_actions_and_groups=[
            "SUCCESSFUL_DATABASE_AUTHENTICATION_GROUP",
            "FAILED_DATABASE_AUTHENTICATION_GROUP",
            "BATCH_COMPLETED_GROUP",
        ],
        opts=pulumi.ResourceOptions(parent=server),
    )
    if not defender:
        return
    alert_policy = sql.ServerSecurityAlertPolicy(
        f"{name}-sql-defender",
        security_alert_policy_name="Default",
        server_name=server.name,
        resource_group_name=resource_group_name,
        state=sql.SecurityAlertsPolicyState.ENABLED,
        email_account_admins=True,
        email_addresses=list(alert_emails),
        opts=pulumi.ResourceOptions(parent=server),
    )
    sql.SqlVulnerabilityAssessmentsSetting(
        f"{name}-sql-va",
        vulnerability_assessment_name="default",
        server_name=server.name,
        resource_group_name=resource_group_name,
        state=sql.SqlVulnerabilityAssessmentState.ENABLED,
        # Vulnerability assessment refuses to start before Defender for SQL is on
        # (VulnerabilityAssessmentADSIsDisabled, Azure/azure-quickstart-templates#6355).
        opts=pulumi.ResourceOptions(parent=server, depends_on=[alert_policy]),
    )


def set_connection_policy(
    name: str,
    *,
    server: sql.Server,
    resource_group_name: pulumi.Input[str],
    policy: str,
) -> resources.Resource:
    """The server's connection policy, explicit rather than Azure's `Default`.

    `Default` means Redirect from inside Azure and Proxy from outside, and through a private
    endpoint Proxy: what the NSG must open would depend on where a client sits. The data
    subnet's NSG opens exactly what this policy needs (infra/networking/nsg.py, sql_ports).
    https://learn.microsoft.com/azure/azure-sql/database/connectivity-architecture#connection-policy
    """
    return resources.Resource(
        f"{name}-sql-connection-policy",
        resource_provider_namespace="Microsoft.Sql",
        parent_resource_path=pulumi.Output.concat("servers/", server.name),
        resource_type="connectionPolicies",
        # The only name the API takes.
        resource_name_="default",
        resource_group_name=resource_group_name,
        api_version=CONNECTION_POLICY_API_VERSION,
        properties={"connectionType": policy},
        # The API has no DELETE: the policy goes with its server.
        opts=pulumi.ResourceOptions(parent=server, retain_on_delete=True),
    )
