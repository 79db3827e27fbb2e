"""The frontend layer's settings: the SPA's Static Web App tier and Front Door's caching."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, get_args

from pydantic import Field

from config.base import DomainName, _Model


class StaticWebAppSku(StrEnum):
    """Static Web Apps hosting plans; Standard is the one that honours `forwardingGateway`
    (the X-Azure-FDID lock) and takes an SLA.
    https://learn.microsoft.com/azure/static-web-apps/plans"""

    FREE = "Free"
    STANDARD = "Standard"


# Regions that host Static Web Apps' management plane (the content itself is served from
# Azure's global edge): https://learn.microsoft.com/azure/static-web-apps/overview
StaticWebAppRegion = Literal["westus2", "centralus", "eastus2", "westeurope", "eastasia"]
STATIC_WEB_APP_REGIONS: frozenset[str] = frozenset(get_args(StaticWebAppRegion))

# File types Front Door compresses on the static-asset route (it compresses only the types
# listed, between 1 KB and 8 MB): https://learn.microsoft.com/azure/frontdoor/standard-premium/how-to-compression
COMPRESSED_CONTENT_TYPES = (
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "font/woff2",
)


class FrontendSettings(_Model):
    """Tier of the SPA's Static Web App and how Front Door caches it where the CDN is on."""

    static_web_app_sku: StaticWebAppSku
    # Unset: the stack's location, which must then be one of STATIC_WEB_APP_REGIONS.
    static_web_app_location: StaticWebAppRegion | None = None
    # Paths Front Door caches: Vite's hashed bundles never change under one name, so they
    # are safe to cache; index.html and staticwebapp.config.json go to the origin each time.
    cached_path_patterns: Annotated[
        tuple[Annotated[str, Field(pattern=r"^/[A-Za-z0-9._/-]*\*?$", max_length=260)], ...],
        # A route takes at most 25 patterns to match:
        # https://learn.microsoft.com/azure/frontdoor/front-door-routing-limits
        Field(min_length=1, max_length=25),
    ] = ("/assets/*",)
    # Front Door's DNS TTL for the records it asks for; Azure DNS accepts 1-2147483647 seconds
    # (https://learn.microsoft.com/azure/dns/dns-zones-records#time-to-live).
    dns_ttl_seconds: Annotated[int, Field(ge=1, le=2_147_483_647)] = 3600


class DnsZoneRef(_Model):
    """An existing Azure DNS zone that takes the custom domain's records (platform:dnsZone)."""

    name: DomainName
    resource_group_name: Annotated[str, Field(pattern=r"^[-\w._()]{1,90}$")]
