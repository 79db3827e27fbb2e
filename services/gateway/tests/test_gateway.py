"""Gateway behaviour beyond the shared contract: the verdict cache, the window, settings."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from local_gateway.limits import FixedWindowLimiter, Verdict, VerdictCache
from local_gateway.settings import GatewaySettings

from .conftest import ADMIN, FIXTURES, KEY, Platform, backend_settings

TOM = FIXTURES["users"]["tom"]


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Ocp-Apim-Subscription-Key": KEY}


TOM_HEADERS = basic(TOM["email"], TOM["password"])


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _count_authenticate(platform: Platform) -> list[str]:
    """Records each authenticate call the gateway makes to users-api."""
    calls: list[str] = []
    inner = platform.router.handle_async_request

    async def counting(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/internal/v1/authenticate":
            calls.append(request.url.path)
        return await inner(request)

    platform.router.handle_async_request = counting  # type: ignore[method-assign]
    return calls


def test_verdicts_are_cached_for_the_ttl(
    platform: Platform, gateway_for: Callable[..., TestClient]
) -> None:
    clock = Clock()
    calls = _count_authenticate(platform)
    gateway = gateway_for(backend_settings(verdict_cache_ttl_seconds=30), verdict_clock=clock)
    for _ in range(3):
        assert gateway.get("/orders/v1/orders", headers=TOM_HEADERS).status_code == 200
    assert len(calls) == 1
    clock.now += 31
    assert gateway.get("/orders/v1/orders", headers=TOM_HEADERS).status_code == 200
    assert len(calls) == 2


def test_deactivated_user_is_refused_within_the_cache_lifetime(
    platform: Platform, gateway_for: Callable[..., TestClient]
) -> None:
    clock = Clock()
    gateway = gateway_for(backend_settings(verdict_cache_ttl_seconds=30), verdict_clock=clock)
    assert gateway.get("/orders/v1/orders", headers=TOM_HEADERS).status_code == 200
    deactivate = {"roles": TOM["roles"], "active": False}
    assert platform.users.put("/v1/users/tom/roles", json=deactivate, headers=ADMIN).is_success
    clock.now += 29  # the cached verdict may still serve until the TTL is over ...
    assert gateway.get("/orders/v1/orders", headers=TOM_HEADERS).status_code == 200
    clock.now += 1  # ... and not a moment longer
    refused = gateway.get("/orders/v1/orders", headers=TOM_HEADERS)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This account is deactivated."


def test_ttl_zero_asks_every_time(
    platform: Platform, gateway_for: Callable[..., TestClient]
) -> None:
    calls = _count_authenticate(platform)
    gateway = gateway_for(backend_settings(verdict_cache_ttl_seconds=0))
    for _ in range(2):
        gateway.get("/orders/v1/orders", headers=TOM_HEADERS)
    assert len(calls) == 2


def test_failed_verdicts_are_not_cached(
    platform: Platform, gateway_for: Callable[..., TestClient]
) -> None:
    calls = _count_authenticate(platform)
    gateway = gateway_for()
    wrong = basic(TOM["email"], "not the passphrase")
    for _ in range(2):
        assert gateway.get("/orders/v1/orders", headers=wrong).status_code == 401
    assert len(calls) == 2


def test_cache_key_never_holds_the_password() -> None:
    cache = VerdictCache(ttl=30)
    key = cache.key("tom@example.com", "tom's long passphrase")
    assert len(key) == 64
    assert "passphrase" not in key
    assert "tom" not in key
    assert key != cache.key("tom@example.com:tom's", "long passphrase")
    assert key != VerdictCache(ttl=30).key("tom@example.com", "tom's long passphrase")
    cache.put(key, Verdict("tom", "tom@example.com", ("trader",), True))
    assert all("passphrase" not in stored for stored in vars(cache)["_entries"])


def test_fixed_window_renews_and_says_when() -> None:
    clock = Clock(120.0)
    limiter = FixedWindowLimiter(calls=2, window=60, clock=clock)
    assert limiter.admit("k") is None
    assert limiter.admit("k") is None
    clock.now = 150.5
    assert limiter.admit("k") == 30  # the window [120, 180) renews in 29.5 s
    assert limiter.admit("other") is None  # per key
    clock.now = 180.0
    assert limiter.admit("k") is None


def test_over_limit_answers_retry_after_seconds(
    gateway_for: Callable[..., TestClient],
) -> None:
    clock = Clock(60.0)
    gateway = gateway_for(
        backend_settings(rate_limit_calls=1, rate_limit_window_seconds=60), window_clock=clock
    )
    assert gateway.get("/orders/v1/orders", headers=TOM_HEADERS).status_code == 200
    clock.now = 100.0
    limited = gateway.get("/orders/v1/orders", headers=TOM_HEADERS)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "20"
    assert "1 calls per 60 s" in limited.json()["detail"]


def test_identity_service_down_is_502(
    platform: Platform, gateway_for: Callable[..., TestClient]
) -> None:
    platform.router.down.add("users.test")
    answer = gateway_for().get("/orders/v1/orders", headers=TOM_HEADERS)
    assert answer.status_code == 502
    assert "users-api" in answer.json()["detail"]


def test_backend_timeout_is_504(platform: Platform, gateway_for: Callable[..., TestClient]) -> None:
    inner = platform.router.handle_async_request

    async def slow(request: httpx.Request) -> httpx.Response:
        if request.url.host == "orders.test":
            raise httpx.ReadTimeout("no answer", request=request)
        return await inner(request)

    platform.router.handle_async_request = slow  # type: ignore[method-assign]
    assert gateway_for().get("/orders/v1/orders", headers=TOM_HEADERS).status_code == 504


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:x").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Basic " + base64.b64encode(b":password-only").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"a" * 300 + b":x").decode()},
        {"Authorization": "Basic"},
        {"Authorization": "basic " + base64.b64encode(b"tom@example.com:" + b"x" * 2000).decode()},
    ],
    ids=["not-utf8", "no-colon", "no-username", "long-username", "empty", "long-password"],
)
def test_odd_credentials_are_401_never_5xx(
    gateway_for: Callable[..., TestClient], headers: dict[str, str]
) -> None:
    answer = gateway_for().get(
        "/orders/v1/orders", headers={**headers, "Ocp-Apim-Subscription-Key": KEY}
    )
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Basic realm="platform"'


def test_percent_encoding_and_bodies_reach_the_backend_as_sent(
    platform: Platform, gateway_for: Callable[..., TestClient]
) -> None:
    gateway = gateway_for()
    answer = gateway.post(
        "/orders/v1/orders/a%2Fb?note=caf%C3%A9&x=1",
        headers={**TOM_HEADERS, "Content-Type": "application/json"},
        content=b'{"quantity": "10"}',
    )
    assert answer.status_code == 200
    [seen] = platform.echo.received
    assert seen["path"] == "/v1/orders/a%2Fb?note=caf%C3%A9&x=1"
    assert seen["body"] == '{"quantity": "10"}'
    assert seen["headers"]["content-type"] == "application/json"
    platform.echo.received.clear()
    assert gateway.get("/%6Frders/v1/orders", headers=TOM_HEADERS).status_code == 200
    assert platform.echo.received[0]["path"] == "/v1/orders"


@pytest.mark.parametrize(
    "path",
    [
        "/orders/internal/v1/erasures",
        "/users/internal/v1/authenticate",
        "/products//internal/v1/retention/purge",
        "/payments/%69nternal/v1/erasures",  # decoded before the check
        "/orders/health/ready",
        "/users/internal",
    ],
)
def test_internal_and_health_routes_are_not_published(
    platform: Platform, gateway_for: Callable[..., TestClient], path: str
) -> None:
    # As API Management, which imports the OpenAPI documents without them: valid credentials
    # reach no internal route from outside, whatever the account's roles.
    gateway = gateway_for()
    answer = gateway.post(path, headers=TOM_HEADERS, json={})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "not published" in answer.json()["detail"]
    assert platform.echo.received == []


def test_head_keeps_the_backends_length(gateway_for: Callable[..., TestClient]) -> None:
    gateway = gateway_for()
    got = gateway.get("/orders/v1/orders", headers=TOM_HEADERS)
    head = gateway.head("/orders/v1/orders", headers=TOM_HEADERS)
    assert head.status_code == 200
    assert head.content == b""
    # The echo backend's body names the method: "HEAD" is one character longer than "GET".
    assert int(head.headers["content-length"]) == len(got.content) + 1


def test_cors_preflight_for_the_spa_origin_only(gateway_for: Callable[..., TestClient]) -> None:
    gateway = gateway_for(backend_settings(cors_origins="http://127.0.0.1:5173"))
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,ocp-apim-subscription-key,content-type",
    }
    ok = gateway.options(
        "/orders/v1/orders", headers={"Origin": "http://127.0.0.1:5173", **preflight}
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
    other = gateway.options(
        "/orders/v1/orders", headers={"Origin": "https://evil.test", **preflight}
    )
    assert "access-control-allow-origin" not in other.headers
    served = gateway.get(
        "/orders/v1/orders", headers={**TOM_HEADERS, "Origin": "http://127.0.0.1:5173"}
    )
    assert "X-Correlation-Id" in served.headers["access-control-expose-headers"]


def test_cors_preflight_admits_an_orders_idempotency_key(
    gateway_for: Callable[..., TestClient],
) -> None:
    """The SPA sends Idempotency-Key with each new order (services/web/src/api.ts)."""
    gateway = gateway_for(backend_settings(cors_origins="http://127.0.0.1:5173"))
    preflight = gateway.options(
        "/orders/v1/orders",
        headers={
            "Origin": "http://127.0.0.1:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key,"
            "ocp-apim-subscription-key,x-correlation-id",
        },
    )
    assert preflight.status_code == 200
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"].lower()


def test_status_endpoint_needs_no_key(gateway_for: Callable[..., TestClient]) -> None:
    assert gateway_for().get("/status-0123456789abcdef").json() == {"status": "ok"}


def test_keys_come_from_the_variable_and_the_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"local-dev": "file-key", "spa": "spa-key"}))
    settings = GatewaySettings.model_validate(
        {"subscription_keys": "env-key, second", "subscription_keys_file": str(keys)}
    )
    assert settings.keys() == {"env-key", "second", "file-key", "spa-key"}


def test_settings_name_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="GATEWAY_SUBSCRIPTION_KEYS"):
        GatewaySettings.model_validate({})
    bad = tmp_path / "keys.json"
    bad.write_text(json.dumps(["not", "an", "object"]))
    with pytest.raises(ValidationError, match="JSON object of name -> key"):
        GatewaySettings.model_validate({"subscription_keys_file": str(bad)})
    with pytest.raises(ValidationError, match="less than or equal to 300"):
        GatewaySettings.model_validate({"subscription_keys": "k", "rate_limit_window_seconds": 301})


def test_environment_variables_configure_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_SUBSCRIPTION_KEYS", "a,b")
    monkeypatch.setenv("GATEWAY_ORDERS_API_BASE_URL", "http://127.0.0.1:9002/")
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", "http://localhost:5173")
    settings = GatewaySettings()
    assert settings.keys() == {"a", "b"}
    assert settings.backends()["orders"] == "http://127.0.0.1:9002"
    assert settings.cors_origins == ("http://localhost:5173",)


_HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=0, max_size=80
)


@pytest.fixture
def shared_gateway(gateway_for: Callable[..., TestClient]) -> TestClient:
    return gateway_for(backend_settings(rate_limit_calls=1_000_000))


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    authorization=_HEADER_TEXT,
    key=st.sampled_from([KEY, "", "wrong"]),
    correlation=_HEADER_TEXT,
    service=st.sampled_from(["orders", "users", "nothing", "%ZZ", ""]),
    rest=st.text(min_size=0, max_size=20).map(quote),
    method=st.sampled_from(["GET", "POST", "DELETE", "PATCH"]),
)
def test_client_input_never_gets_a_5xx(
    shared_gateway: TestClient,
    *,
    authorization: str,
    key: str,
    correlation: str,
    service: str,
    rest: str,
    method: str,
) -> None:
    headers = {
        "Authorization": authorization,
        "Ocp-Apim-Subscription-Key": key,
        "X-Correlation-Id": correlation,
    }
    answer = shared_gateway.request(method, f"/{service}/{rest}", headers=headers)
    assert answer.status_code < 500, answer.text
    assert answer.headers["x-correlation-id"]
