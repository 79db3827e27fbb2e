"""App Service and Functions apps: HTTPS, no FTP, TLS 1.2, managed identity, VNet integration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core import (
    Finding,
    ResourceRule,
    RuleContext,
    expect,
    expect_identity,
    expect_present,
)

WEB_APP = "azure-native:web:WebApp"


def https_only(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Redirect HTTP to HTTPS; Azure's default is false, so unset fails."""
    return expect(props, "httpsOnly", [True], "plain HTTP exposes requests and tokens")


def ftp_disabled(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """No FTP at all: code ships with OneDeploy, so even FTPS is an unused credentialed door."""
    return expect(
        props,
        "siteConfig.ftpsState",
        ["Disabled"],
        "deployments use OneDeploy with Entra ID; FtpsOnly still allows basic-auth FTP",
    )


def minimum_tls(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    return expect(props, "siteConfig.minTlsVersion", ["1.2", "1.3"], "TLS 1.0 and 1.1 are retired")


def managed_identity(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    return expect_identity(
        props, "apps reach Service Bus, SQL, storage and Key Vault as themselves"
    )


def vnet_integration(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Outbound through the VNet, so private endpoints and the NAT gateway are on the path."""
    return expect_present(
        props,
        "virtualNetworkSubnetId",
        "without VNet integration the app cannot reach private endpoints",
    )


RULES = (
    ResourceRule(
        name="web-https-only",
        description="Web and function apps accept HTTPS only.",
        resource_types=(WEB_APP,),
        control="CKV_AZURE_14 / CKV_AZURE_70",
        check=https_only,
    ),
    ResourceRule(
        name="web-ftp-disabled",
        description="Web and function apps disable FTP and FTPS (ftpsState Disabled).",
        resource_types=(WEB_APP,),
        control="CKV_AZURE_78",
        check=ftp_disabled,
    ),
    ResourceRule(
        name="web-min-tls",
        description="Web and function apps require TLS 1.2 or later.",
        resource_types=(WEB_APP,),
        control="CKV_AZURE_15 / CKV_AZURE_145",
        check=minimum_tls,
    ),
    ResourceRule(
        name="web-managed-identity",
        description="Web and function apps have a managed identity.",
        resource_types=(WEB_APP,),
        control="CKV_AZURE_71",
        check=managed_identity,
    ),
    ResourceRule(
        name="web-vnet-integration",
        description="Web and function apps are integrated with a VNet subnet.",
        resource_types=(WEB_APP,),
        control="MCSB NS-2",
        check=vnet_integration,
    ),
)
