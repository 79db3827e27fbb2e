"""Networking layer: VNet, subnets, NSGs, NAT, private DNS and endpoints, DDoS and firewall."""

from infra.networking.nsg import ACCESS_MATRIX, ApimMode, Flow
from infra.networking.private_endpoints import (
    PrivateEndpointSite,
    PrivateLink,
    add_private_endpoint,
)
from infra.networking.vnet import Networking, NetworkingArgs

__all__ = [
    "ACCESS_MATRIX",
    "ApimMode",
    "Flow",
    "Networking",
    "NetworkingArgs",
    "PrivateEndpointSite",
    "PrivateLink",
    "add_private_endpoint",
]
