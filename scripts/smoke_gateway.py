"""Smoke test through the gateway after a deploy: the way in refuses strangers and admits a user.

    SMOKE_USERNAME=... SMOKE_PASSWORD=... SMOKE_SUBSCRIPTION_KEY=... \
        python -m scripts.smoke_gateway https://<gateway host>

Checks, in order, what a client sees (common.md's caller contract): a request with the
subscription key but no credentials gets 401 with `WWW-Authenticate: Basic`; the same
request with the smoke user's credentials reaches users-api `GET /v1/me`, which answers the
caller identity the gateway set (so the gateway -> users-api authenticate -> forwarded
`X-Caller-Id` chain works); and products-api `GET /v1/instruments` answers a JSON page.
A new revision can take a minute to answer, so connection errors and 5xx are retried a
bounded number of times; anything else fails at once. Exit code 0 only when every check
passes, so the pipeline stops the promotion otherwise.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SUBSCRIPTION_KEY_HEADER = "Ocp-Apim-Subscription-Key"
CORRELATION_HEADER = "X-Correlation-Id"
# Gateway paths: the service name, then the service's own path (common.md).
ME_PATH = "/users/v1/me"
INSTRUMENTS_PATH = "/products/v1/instruments"
ENV_USERNAME = "SMOKE_USERNAME"
ENV_PASSWORD = "SMOKE_PASSWORD"  # noqa: S105 - the variable's name, not a password
ENV_KEY = "SMOKE_SUBSCRIPTION_KEY"


class SmokeError(Exception):
    """One check saw something a healthy deployment would not answer."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except json.JSONDecodeError as exc:
            raise SmokeError(f"answer is not JSON: {self.body[:200]!r}") from exc


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)
    subscription_key: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Credentials:
        missing = [name for name in (ENV_USERNAME, ENV_PASSWORD, ENV_KEY) if not env.get(name)]
        if missing:
            raise SmokeError(
                f"missing environment variable(s) {', '.join(missing)}: the smoke user's "
                "e-mail, password and a gateway subscription key (GitHub environment secrets)"
            )
        return cls(env[ENV_USERNAME], env[ENV_PASSWORD], env[ENV_KEY])

    def basic(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"


Fetch = Callable[[str, Mapping[str, str]], Response]


def http_get(url: str, headers: Mapping[str, str], timeout: float = 15.0) -> Response:
    """GET with urllib; an HTTP error status is an answer, not an exception."""
    request = urllib.request.Request(url, headers=dict(headers), method="GET")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return Response(answer.status, dict(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers.items()), error.read())


def gateway_base(url: str) -> str:
    """The gateway's base URL: https (http only for a loopback host, the local gateway)."""
    parsed = urllib.parse.urlsplit(url)
    loopback = parsed.hostname in {"127.0.0.1", "localhost", "::1"}
    if not parsed.hostname or parsed.scheme not in ({"https", "http"} if loopback else {"https"}):
        raise SmokeError(
            f"gateway URL {url!r}: allowed is https://<host>[:port] (http only for localhost)"
        )
    if parsed.query or parsed.fragment:
        raise SmokeError(f"gateway URL {url!r}: no query or fragment allowed")
    return url.rstrip("/")


def _retrying(
    fetch: Fetch, url: str, headers: Mapping[str, str], attempts: int, delay: float
) -> Response:
    last = ""
    for attempt in range(1, attempts + 1):
        try:
            response = fetch(url, headers)
        except (OSError, urllib.error.URLError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if response.status < 500:
                return response
            last = f"HTTP {response.status}: {response.body[:200]!r}"
        if attempt < attempts:
            time.sleep(delay * attempt)
    raise SmokeError(f"GET {url}: no answer below 500 after {attempts} attempts ({last})")


def run_checks(
    base: str,
    creds: Credentials,
    fetch: Fetch = http_get,
    *,
    attempts: int = 6,
    delay: float = 5.0,
) -> list[str]:
    """Every check in order; the lines say what passed. Raises SmokeError on the first miss."""
    passed: list[str] = []
    correlation = f"smoke-{uuid.uuid4()}"
    keyed = {SUBSCRIPTION_KEY_HEADER: creds.subscription_key, CORRELATION_HEADER: correlation}

    anonymous = _retrying(fetch, base + ME_PATH, keyed, attempts, delay)
    challenge = anonymous.headers.get("WWW-Authenticate") or anonymous.headers.get(
        "www-authenticate", ""
    )
    if anonymous.status != 401 or not challenge.lower().startswith("basic"):
        raise SmokeError(
            f"GET {ME_PATH} without credentials: expected 401 with WWW-Authenticate: Basic, "
            f"got {anonymous.status} ({challenge or 'no challenge'})"
        )
    passed.append(f"GET {ME_PATH} without credentials -> 401 Basic challenge")

    signed = {**keyed, "Authorization": creds.basic(), "Accept": "application/json"}
    me = _retrying(fetch, base + ME_PATH, signed, attempts, delay)
    if me.status != 200:
        raise SmokeError(
            f"GET {ME_PATH} as {creds.username}: expected 200, got {me.status}: {me.body[:300]!r}"
        )
    caller = me.json()
    if not isinstance(caller, dict) or not caller.get("caller_id"):
        raise SmokeError(f"GET {ME_PATH}: no caller_id in {caller!r}")
    account = caller.get("account")
    if isinstance(account, dict) and str(account.get("email", "")).lower() != (
        creds.username.lower()
    ):
        raise SmokeError(
            f"GET {ME_PATH}: the gateway forwarded {account.get('email')!r}, "
            f"not the smoke user {creds.username!r}"
        )
    passed.append(f"GET {ME_PATH} as {creds.username} -> 200, caller {caller['caller_id']}")

    page = _retrying(fetch, base + INSTRUMENTS_PATH, signed, attempts, delay)
    if page.status != 200:
        raise SmokeError(
            f"GET {INSTRUMENTS_PATH}: expected 200, got {page.status}: {page.body[:300]!r}"
        )
    page.json()
    passed.append(f"GET {INSTRUMENTS_PATH} -> 200 JSON")
    return passed


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gateway_url", help="https://<gateway host> (the gateway_url output)")
    parser.add_argument("--attempts", type=int, default=6, help="tries per request (5xx, down)")
    parser.add_argument("--delay", type=float, default=5.0, help="seconds, times the attempt")
    args = parser.parse_args(argv)
    if args.attempts < 1:
        parser.error("--attempts must be at least 1")
    try:
        base = gateway_base(args.gateway_url)
        creds = Credentials.from_env(os.environ if env is None else env)
        for line in run_checks(base, creds, attempts=args.attempts, delay=args.delay):
            print(f"ok   {line}")
    except SmokeError as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
