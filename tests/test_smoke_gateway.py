"""scripts/smoke_gateway.py against a stub gateway on loopback that keeps common.md's contract."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts import smoke_gateway as smoke

USER = "smoke@example.com"
PASSWORD = "correct horse battery staple"
KEY = "sub-key-1"
ENV = {smoke.ENV_USERNAME: USER, smoke.ENV_PASSWORD: PASSWORD, smoke.ENV_KEY: KEY}


@dataclass
class Behaviour:
    """How the stub deviates from the contract (all False: a healthy gateway)."""

    admit_anonymous: bool = False
    forward_someone_else: bool = False
    failures_before_ready: int = 0
    products_status: int = 200
    seen: list[dict[str, str]] = field(default_factory=list)


def _handler(behaviour: Behaviour) -> type[BaseHTTPRequestHandler]:
    class Gateway(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def _answer(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            behaviour.seen.append(dict(self.headers.items()))
            if behaviour.failures_before_ready > 0:
                behaviour.failures_before_ready -= 1
                self._answer(503, {"title": "revision starting"})
                return
            if self.headers.get("Ocp-Apim-Subscription-Key") != KEY:
                self._answer(401, {"title": "missing subscription key"})
                return
            expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != expected and not behaviour.admit_anonymous:
                self._answer(
                    401, {"title": "unauthorized"}, {"WWW-Authenticate": 'Basic realm="platform"'}
                )
                return
            if self.path == "/users/v1/me":
                email = "mallory@example.com" if behaviour.forward_someone_else else USER
                self._answer(
                    200,
                    {
                        "caller_id": "u-1",
                        "forwarded_roles": ["trader"],
                        "account": {"email": email},
                    },
                )
            elif self.path == "/products/v1/instruments":
                self._answer(behaviour.products_status, {"items": [], "total": 0})
            else:
                self._answer(404, {"title": "no such route"})

    return Gateway


@pytest.fixture
def gateway() -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(behaviour))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", behaviour
    finally:
        server.shutdown()
        server.server_close()


def test_a_healthy_gateway_passes_every_check(
    gateway: tuple[str, Behaviour], capsys: pytest.CaptureFixture[str]
) -> None:
    url, behaviour = gateway
    assert smoke.main([url, "--delay", "0"], env=ENV) == 0
    out = capsys.readouterr().out
    assert out.count("ok   ") == 3
    assert "401 Basic challenge" in out
    # Every request carried the key and one correlation id.
    assert {h["Ocp-Apim-Subscription-Key"] for h in behaviour.seen} == {KEY}
    assert len({h["X-Correlation-Id"] for h in behaviour.seen}) == 1


def test_a_gateway_that_admits_anonymous_callers_fails(gateway: tuple[str, Behaviour]) -> None:
    url, behaviour = gateway
    behaviour.admit_anonymous = True
    with pytest.raises(smoke.SmokeError, match="expected 401 with WWW-Authenticate: Basic"):
        smoke.run_checks(url, smoke.Credentials(USER, PASSWORD, KEY), delay=0)


def test_forwarding_another_identity_fails(gateway: tuple[str, Behaviour]) -> None:
    url, behaviour = gateway
    behaviour.forward_someone_else = True
    with pytest.raises(smoke.SmokeError, match=r"forwarded 'mallory@example\.com'"):
        smoke.run_checks(url, smoke.Credentials(USER, PASSWORD, KEY), delay=0)


def test_wrong_password_fails_on_me(gateway: tuple[str, Behaviour]) -> None:
    url, _ = gateway
    with pytest.raises(smoke.SmokeError, match="expected 200, got 401"):
        smoke.run_checks(url, smoke.Credentials(USER, "wrong", KEY), delay=0)


def test_a_starting_revision_is_retried_then_passes(gateway: tuple[str, Behaviour]) -> None:
    url, behaviour = gateway
    behaviour.failures_before_ready = 2
    lines = smoke.run_checks(url, smoke.Credentials(USER, PASSWORD, KEY), attempts=3, delay=0)
    assert len(lines) == 3


def test_a_gateway_that_stays_down_fails_after_bounded_attempts(
    gateway: tuple[str, Behaviour], capsys: pytest.CaptureFixture[str]
) -> None:
    url, behaviour = gateway
    behaviour.failures_before_ready = 100
    assert smoke.main([url, "--attempts", "2", "--delay", "0"], env=ENV) == 1
    assert "after 2 attempts (HTTP 503" in capsys.readouterr().err
    assert len(behaviour.seen) == 2


def test_products_error_fails(gateway: tuple[str, Behaviour]) -> None:
    url, behaviour = gateway
    behaviour.products_status = 404
    with pytest.raises(smoke.SmokeError, match="/products/v1/instruments: expected 200, got 404"):
        smoke.run_checks(url, smoke.Credentials(USER, PASSWORD, KEY), delay=0)


def test_missing_secrets_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert smoke.main(["https://gw.example.com"], env={smoke.ENV_USERNAME: USER}) == 1
    err = capsys.readouterr().err
    assert "SMOKE_PASSWORD, SMOKE_SUBSCRIPTION_KEY" in err


@pytest.mark.parametrize(
    "url", ["http://gw.example.com", "ftp://gw", "https://", "https://gw.example.com/?x=1"]
)
def test_bad_gateway_urls_are_refused(url: str) -> None:
    with pytest.raises(smoke.SmokeError, match="gateway URL"):
        smoke.gateway_base(url)


def test_https_and_local_http_are_accepted() -> None:
    assert (
        smoke.gateway_base("https://apim-plat.azure-api.net/") == "https://apim-plat.azure-api.net"
    )
    assert smoke.gateway_base("http://localhost:8000") == "http://localhost:8000"
