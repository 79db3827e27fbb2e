"""What the gateway publishes of each OpenAPI document, and how policy templates render."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from pydantic import ValidationError

from config.gateway import GatewaySettings, ProductLimits
from config.settings import get_environment_settings
from infra.gateway.openapi import operations, published_document, query_parameters
from infra.gateway.policy_xml import (
    LookupCache,
    RouteGuard,
    api_policy,
    global_policy,
    ip_filter_entries,
    product_policy,
)
from tests.test_boundaries_settings import _env, _rejected, _validate_env

DOC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "T", "version": "1"},
    "paths": {
        "/health/live": {"get": {"responses": {}}},
        "/internal/v1/authenticate": {"post": {"responses": {}}},
        "/v1/things": {
            "get": {
                "parameters": [
                    {"name": "q", "in": "query"},
                    {"name": "X-Caller-Id", "in": "header"},
                    {"name": "x-caller-roles", "in": "header"},
                    {"name": "If-None-Match", "in": "header"},
                ],
                "responses": {},
            },
            "post": {"x-internal": True, "responses": {}},
        },
        "/v1/secret": {"x-internal": True, "get": {"responses": {}}},
        "/v1/only-internal": {"put": {"x-internal": True, "responses": {}}},
    },
}


def _xml(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - rendered by this repository


def test_internal_paths_operations_and_caller_headers_are_not_published() -> None:
    published = published_document(DOC)
    assert operations(published) == [("GET", "/v1/things")]
    names = [p["name"] for p in published["paths"]["/v1/things"]["get"]["parameters"]]
    assert names == ["q", "If-None-Match"]
    assert query_parameters(published) == ["q"]
    # The input document is left as it was.
    assert ("POST", "/internal/v1/authenticate") in operations(DOC)
    assert len(DOC["paths"]["/v1/things"]["get"]["parameters"]) == 4


def test_a_document_with_nothing_public_is_refused() -> None:
    internal = {"info": {"title": "Hidden"}, "paths": {"/internal/x": {"get": {}}}}
    with pytest.raises(ValueError, match="Hidden: every operation is internal"):
        published_document(internal)


def test_ip_filter_takes_addresses_and_ranges_not_cidrs() -> None:
    entries = ip_filter_entries(["203.0.113.7/32", "198.51.100.0/30"])
    assert [(e.tag, e.text, e.attrib) for e in entries] == [
        ("address", "203.0.113.7", {}),
        ("address-range", None, {"from": "198.51.100.0", "to": "198.51.100.3"}),
    ]


def test_values_are_escaped_and_cannot_change_the_document() -> None:
    url = 'https://users.internal/?a=1&b="2"<x>'
    root = _xml(api_policy(backend_id="users", authenticate_base_url=url, verdict_cache_seconds=5))
    (request,) = root.iter("send-request")
    assert request.findtext("set-url") == url + "/internal/v1/authenticate"


def test_a_cached_api_varies_by_every_query_parameter() -> None:
    root = _xml(
        api_policy(
            backend_id="products",
            authenticate_base_url="https://u",
            verdict_cache_seconds=5,
            lookup_cache=LookupCache(42, ("q", "limit")),
        )
    )
    (lookup,) = root.iter("cache-lookup")
    assert [q.text for q in lookup.iter("vary-by-query-parameter")] == ["q", "limit"]
    (store,) = root.iter("cache-store")
    assert store.get("duration") == "42"


def test_global_policy_without_frontend_or_ranges_has_neither_cors_nor_ip_filter() -> None:
    root = _xml(global_policy(allowed_ip_ranges=[], frontend_origin=None))
    assert list(root.iter("cors")) == [] and list(root.iter("ip-filter")) == []
    with_both = _xml(
        global_policy(allowed_ip_ranges=["203.0.113.0/24"], frontend_origin="https://a.example.com")
    )
    assert [o.text for o in with_both.iter("origin")] == ["https://a.example.com"]
    assert len(list(with_both.iter("ip-filter"))) == 1


@pytest.mark.parametrize("value", ['users" || true || "', "/v1/Me", "../x", ""])
def test_route_guards_take_plain_paths_only(value: str) -> None:
    limits = ProductLimits(rate_limit_calls=1, quota_calls=1)
    with pytest.raises(ValueError, match="plain lowercase paths only"):
        product_policy(limits=limits, keyed_quota=True, guards=(RouteGuard(value, "/v1/me"),))


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"rate_limit_calls": 1, "quota_calls": 1, "rate_limit_period_seconds": 301}, "300"),
        ({"rate_limit_calls": 1, "quota_calls": 1, "quota_period_seconds": 299}, "300"),
        ({"rate_limit_calls": 0, "quota_calls": 1}, "1"),
    ],
)
def test_product_limits_hold_azures_bounds(limits: dict[str, int], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        ProductLimits(**limits)
    edge = ProductLimits(
        rate_limit_calls=1, quota_calls=1, rate_limit_period_seconds=300, quota_period_seconds=300
    )
    assert edge.rate_limit_period_seconds == edge.quota_period_seconds == 300


@pytest.mark.parametrize(
    "values",
    [
        {"frontend_origin": "http://app.example.com"},
        {"frontend_origin": "https://app.example.com/path"},
        {"frontend_origin": "*"},
        {"verdict_cache_seconds": 301},
        {"verdict_cache_seconds": 0},
        {"publisher_name": ""},
        {"capacity": 0},
    ],
)
def test_gateway_settings_refuse_what_is_unsafe_or_unknown_to_azure(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        GatewaySettings(**values)


def test_developer_has_one_unit_and_standard_v2_ten() -> None:
    message = _rejected(_env("dev", gateway={"capacity": 2}), "gateway.capacity = 2")
    assert "at most 1 unit(s)" in message
    _validate_env(_env("prod", gateway={"capacity": 10}))
    _rejected(_env("prod", gateway={"capacity": 11}), "gateway.capacity = 11 with")


def test_prod_refuses_developer_which_has_no_sla() -> None:
    message = _rejected(_env("prod", skus={"api_management": "Developer"}), "Developer in prod")
    assert "no SLA" in message
    _validate_env(_env("staging", skus={"api_management": "Developer"}))


def test_environments_carry_their_gateway_settings() -> None:
    assert get_environment_settings("prod").gateway.verdict_cache_seconds == 30
    assert get_environment_settings("dev").gateway.verdict_cache_seconds == 60
    prod, dev = get_environment_settings("prod").gateway, get_environment_settings("dev").gateway
    assert prod.trading.rate_limit_calls > dev.trading.rate_limit_calls
