"""Policy rules for the gateway's types: VNet shape, API/product policy content, logs."""

from __future__ import annotations

from typing import Any

import pytest

from config.settings import ProductLimits
from infra.gateway.policy_xml import RouteGuard, api_policy, product_policy
from policies.core import UNKNOWN, Finding, normalize
from policies.rules import apim
from tests.policies.builders import UNKNOWN_STRING, ctx

API_XML = api_policy(
    backend_id="orders", authenticate_base_url="https://users.internal", verdict_cache_seconds=60
)
PRODUCT_XML = product_policy(
    limits=ProductLimits(rate_limit_calls=10, quota_calls=100),
    keyed_quota=True,
    guards=(RouteGuard("users", "/v1/me"),),
)


def _check(rule: Any, props: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = rule(normalize(props), ctx())
    return findings


def _violations(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings if not f.unknown]


# --- apim-vnet-shape -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "props",
    [
        {"sku": {"name": "Developer"}, "virtualNetworkType": "External", "publicIpAddressId": "p"},
        {"sku": {"name": "Premium"}, "virtualNetworkType": "Internal", "publicIpAddressId": "p"},
        {"sku": {"name": "StandardV2"}, "virtualNetworkType": "External"},
        {"sku": {"name": "PremiumV2"}, "virtualNetworkType": "Internal"},
        {"sku": {"name": "Consumption"}},
        {"sku": {"name": "Developer"}},
    ],
)
def test_vnet_modes_the_tier_has_pass(props: dict[str, Any]) -> None:
    assert _check(apim.vnet_shape, props) == []


@pytest.mark.parametrize(
    ("props", "fragment"),
    [
        ({"sku": {"name": "StandardV2"}, "virtualNetworkType": "Internal"}, "internal on"),
        ({"sku": {"name": "BasicV2"}, "virtualNetworkType": "External"}, "allows none"),
        ({"sku": {"name": "Consumption"}, "virtualNetworkType": "External"}, "allows none"),
        ({"sku": {"name": "Standard"}, "virtualNetworkType": "Internal"}, "allows none"),
        ({"sku": {"name": "Developer"}, "virtualNetworkType": "External"}, "publicIpAddressId"),
        (
            {"sku": {"name": "Premium"}, "virtualNetworkType": "Internal", "publicIpAddressId": ""},
            "stv2",
        ),
    ],
)
def test_vnet_modes_azure_refuses_are_violations(props: dict[str, Any], fragment: str) -> None:
    messages = _violations(_check(apim.vnet_shape, props))
    assert len(messages) == 1
    assert fragment in messages[0]


def test_vnet_shape_unknowns_cannot_tell_yet() -> None:
    assert _check(apim.vnet_shape, {"sku": {"name": UNKNOWN_STRING}})[0].unknown
    unknown_ip = {
        "sku": {"name": "Developer"},
        "virtualNetworkType": "External",
        "publicIpAddressId": UNKNOWN_STRING,
    }
    (finding,) = _check(apim.vnet_shape, unknown_ip)
    assert finding.unknown and "publicIpAddressId" in finding.message


# --- apim-api-policy-basic-auth --------------------------------------------------------------


def test_the_rendered_api_policy_passes() -> None:
    assert _check(apim.api_policy_basic_auth, {"value": API_XML}) == []


def test_an_api_policy_without_the_authenticate_call_is_reported() -> None:
    xml = API_XML.replace("/internal/v1/authenticate", "/v1/other")
    (message,) = _violations(_check(apim.api_policy_basic_auth, {"value": xml}))
    assert "no send-request to users-api's /internal/v1/authenticate" in message


def test_an_api_policy_without_the_challenge_is_reported() -> None:
    xml = API_XML.replace('name="WWW-Authenticate"', 'name="X-Other"')
    (message,) = _violations(_check(apim.api_policy_basic_auth, {"value": xml}))
    assert "WWW-Authenticate" in message


def test_caller_headers_set_without_being_stripped_first_are_reported() -> None:
    xml = API_XML.replace(
        '<set-header name="X-Caller-Id" exists-action="delete" />',
        '<set-header name="X-Other" exists-action="delete" />',
        1,
    )
    (message,) = _violations(_check(apim.api_policy_basic_auth, {"value": xml}))
    assert "X-Caller-Id is not deleted before it is set" in message


def test_caller_headers_stripped_but_never_set_are_reported() -> None:
    xml = API_XML.replace('name="X-Caller-Roles" exists-action="override"', 'name="X-Z"')
    (message,) = _violations(_check(apim.api_policy_basic_auth, {"value": xml}))
    assert "X-Caller-Roles is deleted but never set" in message


def test_api_policy_missing_malformed_and_unknown() -> None:
    assert "value is not set" in _violations(_check(apim.api_policy_basic_auth, {}))[0]
    bad = _violations(_check(apim.api_policy_basic_auth, {"value": "<policies>"}))
    assert "not well-formed XML" in bad[0]
    (finding,) = _check(apim.api_policy_basic_auth, {"value": UNKNOWN_STRING})
    assert finding.unknown


# --- apim-product-policy-limits --------------------------------------------------------------


def test_the_rendered_product_policies_pass_classic_and_v2() -> None:
    assert _check(apim.product_policy_limits, {"value": PRODUCT_XML}) == []
    v2 = product_policy(limits=ProductLimits(rate_limit_calls=1, quota_calls=1), keyed_quota=False)
    assert _check(apim.product_policy_limits, {"value": v2}) == []


def test_a_product_policy_without_limits_is_reported() -> None:
    bare = "<policies><inbound><base /></inbound></policies>"
    messages = _violations(_check(apim.product_policy_limits, {"value": bare}))
    assert any("no rate-limit-by-key" in m for m in messages)
    assert any("no quota-by-key" in m for m in messages)
    keyless = PRODUCT_XML.replace(' counter-key="@(context.Subscription.Id)"', "", 1)
    (message,) = _violations(_check(apim.product_policy_limits, {"value": keyless}))
    assert "counter-key" in message


def test_product_policy_missing_and_unknown() -> None:
    assert _violations(_check(apim.product_policy_limits, {}))
    assert _check(apim.product_policy_limits, {"value": UNKNOWN_STRING})[0].unknown


# --- apim-logger-managed-identity ------------------------------------------------------------

LOGGER = {
    "loggerType": "applicationInsights",
    "credentials": {"connectionString": "{{appinsights}}", "identityClientId": "client"},
}


def test_an_identity_logger_with_a_named_value_passes() -> None:
    assert _check(apim.logger_managed_identity, LOGGER) == []
    assert _check(apim.logger_managed_identity, {"loggerType": "azureEventHub"}) == []


@pytest.mark.parametrize(
    ("credentials", "fragment"),
    [
        ({"instrumentationKey": "k", "identityClientId": "c"}, "instrumentationKey"),
        (
            {"connectionString": "InstrumentationKey=k", "identityClientId": "c"},
            "not a {{named value}}",
        ),
        ({"connectionString": "{{x}}"}, "identityClientId is not set"),
    ],
)
def test_loggers_with_shared_keys_or_literals_are_reported(
    credentials: dict[str, str], fragment: str
) -> None:
    props = {"loggerType": "applicationInsights", "credentials": credentials}
    assert any(fragment in m for m in _violations(_check(apim.logger_managed_identity, props)))


def test_logger_missing_and_unknown() -> None:
    missing = _check(apim.logger_managed_identity, {"loggerType": "applicationInsights"})
    assert "credentials are not set" in _violations(missing)[0]
    assert _check(apim.logger_managed_identity, {"loggerType": UNKNOWN_STRING})[0].unknown
    props = {
        "loggerType": "applicationInsights",
        "credentials": {"connectionString": UNKNOWN_STRING, "identityClientId": "c"},
    }
    (finding,) = _check(apim.logger_managed_identity, props)
    assert finding.unknown


# --- apim-diagnostic-no-credentials ----------------------------------------------------------


def test_diagnostics_without_headers_or_with_harmless_ones_pass() -> None:
    assert _check(apim.diagnostic_no_credentials, {}) == []
    props = {"frontend": {"request": {"headers": ["X-Correlation-Id"]}}}
    assert _check(apim.diagnostic_no_credentials, props) == []


def test_diagnostics_logging_credentials_are_reported() -> None:
    props = {
        "frontend": {"request": {"headers": ["Authorization"]}},
        "backend": {"request": {"headers": ["ocp-apim-subscription-key"]}},
    }
    messages = _violations(_check(apim.diagnostic_no_credentials, props))
    assert messages == [
        "frontend.request.headers logs Authorization",
        "backend.request.headers logs ocp-apim-subscription-key",
    ]


def test_diagnostic_unknown_headers_cannot_tell_yet() -> None:
    props = {"frontend": {"request": {"headers": UNKNOWN_STRING}}}
    (finding,) = _check(apim.diagnostic_no_credentials, props)
    assert finding.unknown


def test_normalize_turns_the_sentinel_into_unknown() -> None:
    assert normalize(UNKNOWN_STRING) is UNKNOWN
