"""Every case of services/gateway/contract.json, run against the local gateway."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import CONTRACT, FIXTURES, Platform, backend_settings

HEADERS = CONTRACT["headers"]


def _authorization(credentials: Any) -> dict[str, str]:
    if credentials is None:
        return {}
    if isinstance(credentials, str):
        user = FIXTURES["users"][credentials]
        credentials = {"username": user["email"], "password": user["password"]}
    if "authorization" in credentials:
        return {"Authorization": credentials["authorization"]}
    pair = f"{credentials['username']}:{credentials['password']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def _send(client: TestClient, request: dict[str, Any]) -> Any:
    headers = dict(request.get("headers", {}))
    headers.update(_authorization(request.get("credentials")))
    path = request["path"]
    key_name = request.get("subscription_key")
    if key_name is not None:
        key = (
            FIXTURES["invalid_subscription_key"]
            if key_name == "invalid"
            else FIXTURES["subscription_keys"][key_name]
        )
        if request.get("subscription_key_in", "header") == "query":
            path += ("&" if "?" in path else "?") + f"{HEADERS['subscription_key_query']}={key}"
        else:
            headers[HEADERS["subscription_key"]] = key
    return client.request(request["method"], path, headers=headers, json=request.get("json"))


@pytest.mark.parametrize("case", CONTRACT["cases"], ids=[c["name"] for c in CONTRACT["cases"]])
def test_contract_case(
    case: dict[str, Any], platform: Platform, gateway_for: Callable[..., TestClient]
) -> None:
    limit = FIXTURES["rate_limit"]
    client = gateway_for(
        backend_settings(
            rate_limit_calls=limit["calls"], rate_limit_window_seconds=limit["window_seconds"]
        ),
        window_clock=lambda: 1_000_000.0,  # every repeat falls in one window
    )
    request, expect = case["request"], case["expect"]
    service = request["path"].split("/")[1]
    if request.get("backend") == "down":
        platform.router.down.add(f"{service}.test")
    for _ in range(request.get("repeat", 1) - 1):
        _send(client, request)
    platform.echo.received.clear()
    response = _send(client, request)

    _check_response(response, expect)
    if "upstream" in expect:
        _check_upstream(platform.echo.received, expect["upstream"])


def _check_response(response: Any, expect: dict[str, Any]) -> None:
    assert response.status_code == expect["status"], response.text
    if expect.get("problem"):
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == expect["status"]
    for name, value in expect.get("headers", {}).items():
        assert response.headers.get(name) == value, (name, dict(response.headers))
    for name in expect.get("headers_present", []):
        assert response.headers.get(name), (name, dict(response.headers))
    for name, value in expect.get("headers_differ", {}).items():
        assert response.headers.get(name) not in (None, value), (name, dict(response.headers))
    for name, value in expect.get("json", {}).items():
        assert response.json()[name] == value, response.json()


def _check_upstream(received: list[dict[str, Any]], upstream: dict[str, Any] | None) -> None:
    if upstream is None:
        assert received == [], "the backend must not be called"
        return
    [seen] = received
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    if "path" in upstream:
        assert seen["path"] == upstream["path"]
    for name, value in upstream.get("headers", {}).items():
        assert headers.get(name.lower()) == value, (name, headers)
    for name in upstream.get("headers_present", []):
        assert headers.get(name.lower()), (name, headers)
    for name in upstream.get("headers_absent", []):
        assert name.lower() not in headers, (name, headers)


def test_every_rule_has_cases() -> None:
    """The concerns the API Management policy tests map cases to are all exercised."""
    rules = {case["rule"] for case in CONTRACT["cases"]}
    assert rules == {
        "subscription-key",
        "basic-auth",
        "caller-headers",
        "routing",
        "rate-limit",
        "correlation-id",
        "backend-errors",
    }
