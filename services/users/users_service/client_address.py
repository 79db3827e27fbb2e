"""Who is calling the authenticate endpoint: only the gateway's subnet may ask.

Behind Container Apps ingress the TCP peer is the ingress proxy, and the client's address
is the right-most X-Forwarded-For entry, the one ingress appends; entries to its left are
whatever the client sent and are never trusted ("Azure Container Apps only provides the
right-most IP. Users must validate any other values to prevent IP spoofing").
https://learn.microsoft.com/azure/container-apps/ingress-overview#http-headers
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Annotated

from fastapi import Depends, Request

from platform_common.errors import ProblemError
from users_service.settings import UsersSettings, get_settings

FORWARDED_FOR = "x-forwarded-for"


def client_address(request: Request, settings: UsersSettings) -> IPv4Address | IPv6Address | None:
    """The caller's address per AUTHENTICATE_CLIENT_ADDRESS, or None if it is not an IP."""
    if settings.client_address_source == "forwarded-for":
        # Several headers are one comma-separated list (RFC 9110 5.3); the last hop is ours.
        values = request.headers.getlist(FORWARDED_FOR)
        raw = values[-1].split(",")[-1].strip() if values else ""
    else:
        raw = request.client.host if request.client else ""
    try:
        address = ip_address(raw)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def require_gateway(
    request: Request, settings: Annotated[UsersSettings, Depends(get_settings)]
) -> None:
    """403 unless the caller's address is in AUTHENTICATE_ALLOWED_CIDRS."""
    address = client_address(request, settings)
    networks = settings.allowed_authenticate_networks
    if address is None or not any(address in network for network in networks):
        raise ProblemError(
            403,
            "Forbidden",
            "This endpoint answers the API gateway only (AUTHENTICATE_ALLOWED_CIDRS).",
        )
