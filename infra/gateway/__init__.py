"""Gateway layer: API Management in front of the internal services."""

from infra.gateway.component import CACHED_APIS, PRODUCTS, Gateway, GatewayArgs, ProductSpec

__all__ = ["CACHED_APIS", "PRODUCTS", "Gateway", "GatewayArgs", "ProductSpec"]
