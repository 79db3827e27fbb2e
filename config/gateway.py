"""API Management: publisher, units, per-product limits, caching and the frontend's origin."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from config.base import Email, _Model

# https://learn.microsoft.com/azure/api-management/rate-limit-by-key-policy#attributes
# ("renewal-period ... Maximum allowed value: 300 seconds").
RATE_LIMIT_MAX_PERIOD_SECONDS = 300
# https://learn.microsoft.com/azure/api-management/quota-by-key-policy#attributes
# ("renewal-period ... Minimum period: 300 seconds"; 0, a lifetime quota, is not used here).
QUOTA_MIN_PERIOD_SECONDS = 300
# Units per tier: Developer runs one unit and cannot scale out; Standard v2 scales to 10,
# Premium v2 to 30, classic Premium to 12 per region (31 on request).
# https://learn.microsoft.com/azure/api-management/api-management-howto-autoscale
# https://learn.microsoft.com/azure/api-management/v2-service-tiers-overview
MAX_UNITS: dict[str, int] = {
    "Developer": 1,
    "Premium": 12,
    "StandardV2": 10,
    "PremiumV2": 30,
}
# An HTTPS origin as the browser sends it in `Origin`: scheme and host (and port), no path.
HTTPS_ORIGIN = r"^https://([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(:[0-9]{1,5})?$"


class ProductLimits(_Model):
    """What one subscription of a product may send: a burst limit and a longer quota.

    Both count per subscription key (`counter-key="@(context.Subscription.Id)"`).
    """

    rate_limit_calls: Annotated[int, Field(ge=1, le=1_000_000)]
    rate_limit_period_seconds: Annotated[int, Field(ge=1, le=RATE_LIMIT_MAX_PERIOD_SECONDS)] = 60
    quota_calls: Annotated[int, Field(ge=1, le=2_000_000_000)]
    quota_period_seconds: Annotated[int, Field(ge=QUOTA_MIN_PERIOD_SECONDS)] = 86_400


class GatewaySettings(_Model):
    """API Management's publisher, size, products' limits, caches and CORS."""

    # The service's publisherName and publisherEmail (both required by Azure, at most 100
    # characters). Unset e-mail: the stack's first platform:alertEmails entry.
    # https://learn.microsoft.com/azure/templates/microsoft.apimanagement/service
    publisher_name: Annotated[str, Field(min_length=1, max_length=100)] = "Platform team"
    publisher_email: Annotated[Email, Field(max_length=100)] | None = None
    capacity: Annotated[int, Field(ge=1, le=30)] = 1
    reference_data: ProductLimits = ProductLimits(rate_limit_calls=300, quota_calls=200_000)
    trading: ProductLimits = ProductLimits(rate_limit_calls=120, quota_calls=50_000)
    # How long the gateway serves an instrument lookup from its cache (cache-store duration).
    lookup_cache_seconds: Annotated[int, Field(ge=1, le=3600)] = 300
    # How long a users-api verdict on a set of basic credentials is reused. It bounds how long
    # a deactivated user or a changed password keeps working: minutes at most, by design.
    verdict_cache_seconds: Annotated[int, Field(ge=1, le=300)] = 60
    # The SPA's origin, the only one CORS admits; None: no browser frontend, no CORS policy.
    frontend_origin: Annotated[str, Field(pattern=HTTPS_ORIGIN, max_length=262)] | None = None
