"""Frontend layer: the SPA's Static Web App and, where the CDN is on, Front Door with the WAF."""

from infra.frontend.component import Frontend, FrontendArgs, forwarding_gateway

__all__ = ["Frontend", "FrontendArgs", "forwarding_gateway"]
