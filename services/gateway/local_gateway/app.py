"""The gateway: subscription key, rate limit, basic auth via users-api, caller headers, routing.

Same contract as the API Management policies (services/gateway/contract.json holds the
cases both must satisfy): `https://<gateway>/<service>/<path>` goes to `<service>-api`
`/<path>`; the subscription key is `Ocp-Apim-Subscription-Key`; the caller presents HTTP
Basic credentials (username = e-mail) that users-api's `POST /internal/v1/authenticate`
checks; client-sent `X-Caller-*` headers are dropped and set from its verdict.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
from collections.abc import AsyncIterator
from urllib.parse import unquote_plus

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response

from local_gateway.limits import Clock, FixedWindowLimiter, Verdict, VerdictCache
from local_gateway.settings import GatewaySettings, get_settings
from platform_common.correlation import (
    CORRELATION_ID_HEADER,
    CorrelationIdMiddleware,
    current_correlation_id,
    install_log_correlation,
)
from platform_common.errors import ProblemError, install_problem_handlers
from platform_common.identity import CALLER_ID_HEADER, CALLER_ROLES_HEADER
from platform_common.personal_data import install_personal_data_masking

logger = logging.getLogger(__name__)

SUBSCRIPTION_KEY_HEADER = "Ocp-Apim-Subscription-Key"
SUBSCRIPTION_KEY_QUERY = "subscription-key"
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Basic realm="platform"'}
AUTHENTICATE_PATH = "/internal/v1/authenticate"
# API Management's own health endpoint has this path; run_platform waits on it.
STATUS_PATH = "/status-0123456789abcdef"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# The authenticate contract's bounds: longer values cannot be valid credentials.
MAX_USERNAME, MAX_PASSWORD = 254, 1024

# RFC 9110 7.6.1 hop-by-hop fields, plus what the gateway owns or re-sets itself.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
_NOT_FORWARDED = _HOP_BY_HOP | {
    "host",
    "content-length",
    "authorization",
    SUBSCRIPTION_KEY_HEADER.lower(),
    CALLER_ID_HEADER.lower(),
    CALLER_ROLES_HEADER.lower(),
    CORRELATION_ID_HEADER.lower(),
}
# httpx hands back decoded content, so its length and encoding no longer apply.
_NOT_RETURNED = _HOP_BY_HOP | {"content-length", "content-encoding"}


def _subscription_key(request: Request, keys: frozenset[str]) -> str:
    presented = request.headers.get(SUBSCRIPTION_KEY_HEADER) or request.query_params.get(
        SUBSCRIPTION_KEY_QUERY
    )
    if not presented:
        raise ProblemError(
            401,
            "Access denied",
            f"Missing subscription key: send the {SUBSCRIPTION_KEY_HEADER} header.",
        )
    if presented not in keys:
        raise ProblemError(
            401, "Access denied", "Invalid subscription key: use a key of an active subscription."
        )
    return presented


def _basic_credentials(request: Request) -> tuple[str, str]:
    """(username, password) from `Authorization: Basic`, or 401 naming what was wrong."""
    header = request.headers.get("authorization")
    if not header:
        raise ProblemError(
            401, "Unauthenticated", "Send HTTP Basic credentials.", headers=WWW_AUTHENTICATE
        )
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise ProblemError(
            401, "Unauthenticated", "Only the Basic scheme is accepted.", headers=WWW_AUTHENTICATE
        )
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise ProblemError(
            401,
            "Unauthenticated",
            "Basic credentials must be base64 of UTF-8 `username:password` (RFC 7617).",
            headers=WWW_AUTHENTICATE,
        ) from None
    username, colon, password = decoded.partition(":")
    if not colon or not username:
        raise ProblemError(
            401,
            "Unauthenticated",
            "Basic credentials must be `username:password` with a username (the e-mail).",
            headers=WWW_AUTHENTICATE,
        )
    return username, password


def _invalid_credentials() -> ProblemError:
    return ProblemError(
        401,
        "Invalid credentials",
        "The username or password is not valid.",
        headers=WWW_AUTHENTICATE,
    )


def _unavailable(service: str, reason: str) -> ProblemError:
    return ProblemError(
        502, "Bad gateway", f"{service}-api did not answer ({reason}); retry later."
    )


async def _verdict(app: FastAPI, username: str, password: str) -> Verdict:
    """From the cache, or from users-api's authenticate endpoint (successes are cached)."""
    cache: VerdictCache = app.state.verdicts
    key = cache.key(username, password)
    cached = cache.get(key)
    if cached is not None:
        return cached
    if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        raise _invalid_credentials()
    client: httpx.AsyncClient = app.state.client
    settings: GatewaySettings = app.state.settings
    try:
        answer = await client.post(
            settings.backends()["users"] + AUTHENTICATE_PATH,
            json={"username": username, "password": password},
            headers=_correlation_header(),
        )
    except httpx.TransportError as exc:
        raise _unavailable("users", type(exc).__name__) from exc
    if answer.status_code in (401, 422):
        raise _invalid_credentials()
    if answer.status_code != 200:
        raise _unavailable("users", f"authenticate answered {answer.status_code}")
    try:
        body = answer.json()
        verdict = Verdict(
            user_id=str(body["user_id"]),
            username=str(body["username"]),
            roles=tuple(str(role) for role in body["roles"]),
            active=body["active"] is True,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise _unavailable("users", "authenticate answered an unreadable verdict") from exc
    cache.put(key, verdict)
    return verdict


def _correlation_header() -> dict[str, str]:
    correlation_id = current_correlation_id()
    return {CORRELATION_ID_HEADER: correlation_id} if correlation_id else {}


def _upstream_headers(request: Request, verdict: Verdict) -> list[tuple[bytes, bytes]]:
    headers = [
        (name, value)
        for name, value in request.headers.raw
        if name.decode("latin-1").lower() not in _NOT_FORWARDED
    ]
    headers.append((CALLER_ID_HEADER.encode(), verdict.user_id.encode()))
    headers.append((CALLER_ROLES_HEADER.encode(), ",".join(verdict.roles).encode()))
    for name, value in _correlation_header().items():
        headers.append((name.encode(), value.encode()))
    return headers


def _upstream_target(request: Request, base: str) -> str:
    """The backend URL: the path after `/<service>` and the query, both as the client
    encoded them, less the subscription key (API Management strips it too)."""
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    # Cut at the second slash of the raw path: the prefix may itself be percent-encoded.
    parts = raw_path.decode("latin-1").split("/", 2)
    rest = "/" + (parts[2] if len(parts) > 2 else "")
    query = "&".join(
        part
        for part in request.scope.get("query_string", b"").decode("latin-1").split("&")
        if part and unquote_plus(part.partition("=")[0]) != SUBSCRIPTION_KEY_QUERY
    )
    return base + rest + (f"?{query}" if query else "")


# API Management publishes each service's OpenAPI document without these routes
# (infra/gateway/openapi.py, INTERNAL_PREFIXES), so it has no operation for them: 404.
UNPUBLISHED_PREFIXES = ("internal", "health")


def _unpublished(rest: str) -> bool:
    first = rest.lstrip("/").split("/", 1)[0]
    return first in UNPUBLISHED_PREFIXES


async def _forward(request: Request, service: str, verdict: Verdict) -> Response:
    app: FastAPI = request.app
    settings: GatewaySettings = app.state.settings
    client: httpx.AsyncClient = app.state.client
    target = _upstream_target(request, settings.backends()[service])
    try:
        answer = await client.request(
            request.method,
            target,
            headers=_upstream_headers(request, verdict),
            content=await request.body(),
        )
    except httpx.TimeoutException as exc:
        raise ProblemError(
            504, "Gateway timeout", f"{service}-api did not answer in time; retry later."
        ) from exc
    except httpx.TransportError as exc:
        raise _unavailable(service, type(exc).__name__) from exc
    headers = [
        (name, value)
        for name, value in answer.headers.raw
        if name.decode("latin-1").lower() not in _NOT_RETURNED
    ]
    # A HEAD answer has no body but states the length a GET would have: keep the backend's.
    length = answer.headers.get("content-length") if request.method == "HEAD" else None
    response = Response(content=answer.content, status_code=answer.status_code)
    response.raw_headers = [
        *headers,
        (b"content-length", (length or str(len(answer.content))).encode()),
    ]
    return response


def create_app(
    settings: GatewaySettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    verdict_clock: Clock | None = None,
    window_clock: Clock | None = None,
) -> FastAPI:
    """The gateway app; tests pass settings, a transport to in-process backends, clocks."""
    settings = settings or get_settings()
    install_log_correlation()
    # Its log lines (and uvicorn's, whose handlers exist by now) quote gateway paths such as
    # /users/v1/users/<id>: masked like the services'.
    install_personal_data_masking()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            transport=transport, timeout=settings.backend_timeout_seconds
        ) as client:
            app.state.client = client
            yield

    app = FastAPI(
        title="Local gateway",
        description="API Management's contract in front of the local services.",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.keys = settings.keys()
    cache = VerdictCache(settings.verdict_cache_ttl_seconds)
    limiter = FixedWindowLimiter(settings.rate_limit_calls, settings.rate_limit_window_seconds)
    if verdict_clock is not None:
        cache.clock = verdict_clock
    if window_clock is not None:
        limiter.clock = window_clock
    app.state.verdicts, app.state.limiter = cache, limiter
    install_problem_handlers(app)

    @app.get(STATUS_PATH, include_in_schema=False)
    async def status() -> dict[str, str]:
        return {"status": "ok"}

    @app.api_route("/{service}/{rest:path}", methods=METHODS, include_in_schema=False)
    async def proxy(request: Request, service: str, rest: str) -> Response:
        # `rest` (decoded) only decides what is published; the raw path is forwarded as sent
        # (percent-encoding kept).
        if service not in settings.backends():
            raise ProblemError(
                404,
                "Not found",
                f"No API at /{service}; the APIs are: "
                + ", ".join(f"/{name}" for name in settings.backends()),
            )
        if _unpublished(rest):
            raise ProblemError(
                404,
                "Not found",
                f"/{service}/{rest.lstrip('/')} is not published: internal and health routes "
                "are reached only inside the platform.",
            )
        key = _subscription_key(request, request.app.state.keys)
        wait = limiter.admit(key)
        if wait is not None:
            raise ProblemError(
                429,
                "Too many requests",
                f"Rate limit of {settings.rate_limit_calls} calls per "
                f"{settings.rate_limit_window_seconds} s exceeded; retry in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        username, password = _basic_credentials(request)
        verdict = await _verdict(request.app, username, password)
        if not verdict.active:
            raise ProblemError(403, "Forbidden", "This account is deactivated.")
        return await _forward(request, service, verdict)

    app.add_middleware(CorrelationIdMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=METHODS,
            allow_headers=[
                "Authorization",
                "Content-Type",
                SUBSCRIPTION_KEY_HEADER,
                CORRELATION_ID_HEADER,
                # orders-api's create takes one, so a retried submission cannot double it.
                "Idempotency-Key",
                "If-Match",
                "If-None-Match",
            ],
            expose_headers=[CORRELATION_ID_HEADER, "Retry-After", "ETag", "Location"],
            max_age=600,
        )
    return app
