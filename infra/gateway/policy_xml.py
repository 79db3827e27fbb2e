"""API Management policy documents: the XML templates in policies/, rendered from settings.

Placeholders are scalar settings, XML-escaped before substitution; optional and repeated parts
(ip-filter ranges, CORS, caching, product guards) are added or removed with ElementTree, so a
rendered document is always well-formed XML and no value can change its structure.
https://learn.microsoft.com/azure/api-management/api-management-policies
"""

from __future__ import annotations

import ipaddress
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from xml.sax.saxutils import escape

from config.gateway import ProductLimits

TEMPLATES = Path(__file__).resolve().parent / "policies"
# Common contract: the realm the gateway (and the local twin) challenges with.
WWW_AUTHENTICATE = 'Basic realm="platform"'
# users-api's internal endpoint that answers who a set of basic credentials belongs to.
AUTHENTICATE_PATH = "/internal/v1/authenticate"
AUTHENTICATE_TIMEOUT_SECONDS = 10
# forward-request timeout: Azure's default is 300 seconds; the services answer in well under.
BACKEND_TIMEOUT_SECONDS = 60
# Headers a browser may send cross-origin besides the CORS-safelisted ones.
CORS_HEADERS = (
    "Authorization",
    "Content-Type",
    "If-None-Match",
    "Ocp-Apim-Subscription-Key",
    "X-Correlation-Id",
)
# What may appear inside a C# string literal of a path guard: plain path characters only.
_ROUTE = re.compile(r"^/?[a-z0-9][a-z0-9/_-]*$")


def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def _fill(name: str, values: Mapping[str, object]) -> ET.Element:
    escaped = {key: escape(str(value), {'"': "&quot;"}) for key, value in values.items()}
    text = _template(name).substitute(escaped)
    return ET.fromstring(text)  # noqa: S314 - this repository's templates, escaped values


def _serialize(root: ET.Element) -> str:
    ET.indent(root, space="    ")
    return ET.tostring(root, encoding="unicode")


def _section(root: ET.Element, name: str) -> ET.Element:
    section = root.find(name)
    if section is None:
        raise ValueError(f"policy template has no <{name}> section")
    return section


def ip_filter_entries(ranges: Sequence[str]) -> list[ET.Element]:
    """ip-filter takes single addresses or from/to ranges, not CIDR blocks."""
    entries: list[ET.Element] = []
    for cidr in ranges:
        network = ipaddress.IPv4Network(cidr, strict=True)
        if network.num_addresses == 1:
            entry = ET.Element("address")
            entry.text = str(network.network_address)
        else:
            entry = ET.Element(
                "address-range",
                {"from": str(network.network_address), "to": str(network.broadcast_address)},
            )
        entries.append(entry)
    return entries


def global_policy(
    *,
    allowed_ip_ranges: Sequence[str],
    frontend_origin: str | None,
    request_headers: Sequence[str] = (),
) -> str:
    """Service scope: CORS for the frontend alone, ip-filter, correlation id, problem errors.

    `request_headers` are headers the published operations take, admitted by CORS besides
    CORS_HEADERS. No frontend origin: no CORS policy; no ranges: no ip-filter.
    """
    root = _fill(
        "global.xml",
        {
            "frontend_origin": frontend_origin or "",
            "backend_timeout_seconds": BACKEND_TIMEOUT_SECONDS,
        },
    )
    inbound = _section(root, "inbound")
    cors = inbound.find("cors")
    ip_filter = inbound.find("ip-filter")
    if cors is None or ip_filter is None:
        raise ValueError("global.xml must hold <cors> and <ip-filter> in <inbound>")
    if frontend_origin is None:
        inbound.remove(cors)
    else:
        allowed = cors.find("allowed-headers")
        if allowed is None:
            raise ValueError("global.xml <cors> has no <allowed-headers>")
        names = {h.lower(): h for h in (*CORS_HEADERS, *request_headers)}
        for header in sorted(names.values(), key=str.lower):
            ET.SubElement(allowed, "header").text = header
    if allowed_ip_ranges:
        ip_filter.extend(ip_filter_entries(allowed_ip_ranges))
    else:
        inbound.remove(ip_filter)
    return _serialize(root)


@dataclass(frozen=True)
class LookupCache:
    """Response caching of one API's lookups."""

    duration_seconds: int
    query_parameters: tuple[str, ...]
    """The query parameters responses vary by (every one the lookups take)."""


def api_policy(
    *,
    backend_id: str,
    authenticate_base_url: str,
    verdict_cache_seconds: int,
    lookup_cache: LookupCache | None = None,
) -> str:
    """API scope: basic credentials checked by users-api, caller headers, the backend."""
    root = _fill(
        "api.xml",
        {
            "backend_id": backend_id,
            "authenticate_url": authenticate_base_url.rstrip("/") + AUTHENTICATE_PATH,
            "authenticate_timeout_seconds": AUTHENTICATE_TIMEOUT_SECONDS,
            "verdict_cache_seconds": verdict_cache_seconds,
            "www_authenticate": WWW_AUTHENTICATE,
        },
    )
    if lookup_cache is not None:
        seconds = lookup_cache.duration_seconds
        fragment = _fill("lookup-cache.xml", {"lookup_cache_seconds": seconds})
        lookup = _section(fragment, "inbound").find("cache-lookup")
        store = _section(fragment, "outbound").find("cache-store")
        if lookup is None or store is None:
            raise ValueError("lookup-cache.xml must hold <cache-lookup> and <cache-store>")
        for name in lookup_cache.query_parameters:
            ET.SubElement(lookup, "vary-by-query-parameter").text = name
        inbound = _section(root, "inbound")
        backend = inbound.find("set-backend-service")
        if backend is None:
            raise ValueError("api.xml has no <set-backend-service>")
        # After the caller headers are set (the cache varies by roles), before the backend.
        inbound.insert(list(inbound).index(backend), lookup)
        _section(root, "outbound").append(store)
    return _serialize(root)


@dataclass(frozen=True)
class RouteGuard:
    """Of the API at `api_path`, only `route` and the routes below it are in the product."""

    api_path: str
    route: str


def product_policy(
    *,
    limits: ProductLimits,
    keyed_quota: bool,
    read_only: bool = False,
    guards: Sequence[RouteGuard] = (),
) -> str:
    """Product scope: rate-limit-by-key and a quota per subscription, and the product's guards.

    `keyed_quota` is False on v2 tiers, which have no quota-by-key: the product-scope `quota`
    policy counts per subscription, the same key.
    https://learn.microsoft.com/azure/api-management/quota-by-key-policy
    https://learn.microsoft.com/azure/api-management/quota-policy
    """
    root = _fill(
        "product.xml",
        {
            "rate_limit_calls": limits.rate_limit_calls,
            "rate_limit_period_seconds": limits.rate_limit_period_seconds,
            "quota_calls": limits.quota_calls,
            "quota_period_seconds": limits.quota_period_seconds,
        },
    )
    inbound = _section(root, "inbound")
    quota = inbound.find("quota-by-key")
    if quota is None:
        raise ValueError("product.xml has no <quota-by-key>")
    if not keyed_quota:
        quota.tag = "quota"
        del quota.attrib["counter-key"]
    if read_only:
        inbound.append(_fill("read-only.xml", {}))
    for guard in guards:
        for value in (guard.api_path, guard.route):
            if not _ROUTE.match(value):
                raise ValueError(f"route guard value {value!r}: plain lowercase paths only")
        inbound.append(_fill("path-guard.xml", {"api_path": guard.api_path, "route": guard.route}))
    return _serialize(root)
