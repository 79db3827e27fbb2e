"""Third-party sync against the real products app; OpenFIGI and GLEIF mocked at the transport."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from azure.functions.servicebus import ServiceBusMessage

from platform_common.testing import forwarding_transport
from workers_app.calls import service_client
from workers_app.settlement import (
    MALFORMED,
    RETRIES_EXHAUSTED,
    UNPROCESSABLE,
    Complete,
    DeadLetter,
    Retry,
    decide,
)
from workers_app.thirdparty import (
    Provider,
    RateLimiter,
    RetryPolicy,
    SyncWorker,
    handle_sync_request,
    retry_after_seconds,
)

from .conftest import ADMIN, APPLE, Platform, sb_message

ISIN, LEI = APPLE["isin"], APPLE["issuer_lei"]
FIGI_ANSWER = [
    {
        "data": [
            {
                "figi": "BBG001S5N8V8",
                "compositeFIGI": "BBG000B9XRY4",
                "shareClassFIGI": "BBG001S5N8V8",
                "ticker": "AAPL",
                "exchCode": "UW",
                "securityType": "Common Stock",
                "marketSector": "Equity",
            },
            {
                "figi": "BBG000B9XRY4",
                "compositeFIGI": "BBG000B9XRY4",
                "shareClassFIGI": "BBG001S5N8V8",
                "ticker": "AAPL",
                "exchCode": "US",
                "securityType": "Common Stock",
                "marketSector": "Equity",
            },
        ]
    }
]
LEI_ANSWER = {
    "data": {
        "type": "lei-records",
        "id": LEI,
        "attributes": {
            "lei": LEI,
            "entity": {
                "legalName": {"name": "Apple Inc.", "language": "en"},
                "legalAddress": {"country": "US"},
                "status": "ACTIVE",
            },
            "registration": {"status": "ISSUED"},
        },
    }
}
Reply = httpx.Response | Exception


@dataclass
class Script:
    """A provider's answers in order (the last one repeats), and the requests it saw."""

    replies: list[Reply]
    seen: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        reply = self.replies[min(len(self.seen), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        return reply


@dataclass
class Sync:
    worker: SyncWorker
    openfigi: Script
    gleif: Script
    sleeps: list[float]


def _provider(
    name: str, base: str, script: Script, sleeps: list[float], headers: dict[str, str] | None = None
) -> Provider:
    client = httpx.Client(
        base_url=base, transport=httpx.MockTransport(script), headers=headers or {}, timeout=2.0
    )
    return Provider(
        name=name,
        client=client,
        limiter=RateLimiter(1000, 1.0, sleep=sleeps.append),
        retry=RetryPolicy(
            attempts=3, initial_wait=1.0, max_wait=8.0, max_retry_after=60.0, sleep=sleeps.append
        ),
    )


@pytest.fixture
def sync(platform: Platform) -> Callable[..., Sync]:
    def build(openfigi: list[Reply] | None = None, gleif: list[Reply] | None = None) -> Sync:
        figi_script = Script(openfigi or [httpx.Response(200, json=FIGI_ANSWER)])
        gleif_script = Script(gleif or [httpx.Response(200, json=LEI_ANSWER)])
        sleeps: list[float] = []
        products = service_client(
            "http://products-api.internal",
            "svc-workers",
            ("admin",),
            5.0,
            transport=forwarding_transport(platform.products),
        )
        worker = SyncWorker(
            products=products,
            openfigi=_provider(
                "openfigi",
                "https://api.openfigi.com",
                figi_script,
                sleeps,
                {"X-OPENFIGI-APIKEY": "k"},
            ),
            gleif=_provider("gleif", "https://api.gleif.org", gleif_script, sleeps),
        )
        return Sync(worker, figi_script, gleif_script, sleeps)

    return build


def _request(
    isin: str = ISIN, message_id: str = "sync-1", delivery_count: int = 1
) -> ServiceBusMessage:
    body = {
        "type": "InstrumentSyncRequested",
        "id": message_id,
        "aggregate_id": isin,
        "aggregate_version": 0,
        "data": {},
    }
    return sb_message(json.dumps(body), message_id=message_id, delivery_count=delivery_count)


def _stored(platform: Platform) -> Any:
    return platform.products.get(f"/internal/v1/instruments/{ISIN}/enrichment", headers=ADMIN)


def test_happy_path_stores_figi_and_issuer_through_products_api(
    platform: Platform, sync: Callable[..., Sync]
) -> None:
    s = sync()
    verdict = handle_sync_request(_request(), s.worker)

    assert verdict == Complete(f"instrument {ISIN} enriched")
    stored = _stored(platform).json()
    assert stored["figi"] == "BBG000B9XRY4"  # the composite listing is preferred
    assert stored["exch_code"] == "US"
    assert stored["issuer_legal_name"] == "Apple Inc."
    assert stored["issuer_country"] == "US"
    assert stored["issuer_lei_status"] == "ISSUED"
    (mapping,) = s.openfigi.seen
    assert mapping.url.path == "/v3/mapping"
    assert json.loads(mapping.content) == [{"idType": "ID_ISIN", "idValue": ISIN}]
    assert mapping.headers["X-OPENFIGI-APIKEY"] == "k"
    assert s.gleif.seen[0].url.path == f"/api/v1/lei-records/{LEI}"


def test_duplicate_delivery_changes_nothing(platform: Platform, sync: Callable[..., Sync]) -> None:
    s = sync()
    handle_sync_request(_request(), s.worker)
    before = _stored(platform).json()

    again = handle_sync_request(_request(), s.worker)

    assert isinstance(again, Complete)
    assert _stored(platform).json() == before
    assert before["version"] == 1


def test_429_waits_the_retry_after_then_succeeds(
    platform: Platform, sync: Callable[..., Sync]
) -> None:
    throttled = httpx.Response(
        429, headers={"Retry-After": "20"}, json={"error": "Too many requests"}
    )
    s = sync(openfigi=[throttled, httpx.Response(200, json=FIGI_ANSWER)])

    verdict = handle_sync_request(_request(), s.worker)

    assert isinstance(verdict, Complete)
    assert len(s.openfigi.seen) == 2
    # 20 s asked for, more than the 1 s backoff (and beyond the 8 s cap): honoured in full.
    assert s.worker.openfigi.waits == [20.0]
    assert 20.0 in s.sleeps


def test_5xx_backs_off_exponentially_then_retries_the_delivery(
    platform: Platform, sync: Callable[..., Sync]
) -> None:
    s = sync(gleif=[httpx.Response(503)])

    verdict = handle_sync_request(_request(), s.worker)

    assert isinstance(verdict, Retry)
    assert "gleif" in verdict.reason
    assert "503" in verdict.reason
    assert len(s.gleif.seen) == 3
    assert s.worker.gleif.waits == [1.0, 2.0]
    assert _stored(platform).status_code == 404  # nothing half-written


def test_timeout_is_retried_and_dead_lettered_on_the_last_delivery(
    platform: Platform, sync: Callable[..., Sync]
) -> None:
    s = sync(openfigi=[httpx.ReadTimeout("slow")])

    verdict = decide(lambda m: handle_sync_request(m, s.worker), _request(delivery_count=5), 5)

    assert isinstance(verdict, DeadLetter)
    assert verdict.reason == RETRIES_EXHAUSTED
    assert "openfigi" in verdict.description
    assert "timed out" in verdict.description
    assert len(s.openfigi.seen) == 3


def test_poison_messages_are_dead_lettered_with_the_reason(
    platform: Platform, sync: Callable[..., Sync]
) -> None:
    s = sync()
    not_json = handle_sync_request(sb_message(b"\xff{"), s.worker)
    bad_isin = handle_sync_request(_request(isin="US0378331006"), s.worker)
    unknown = handle_sync_request(_request(isin="DE0007164600"), s.worker)

    assert isinstance(not_json, DeadLetter)
    assert not_json.reason == MALFORMED
    assert isinstance(bad_isin, DeadLetter)
    assert "not a valid ISIN" in bad_isin.description
    assert isinstance(unknown, DeadLetter)
    assert unknown.reason == UNPROCESSABLE
    assert "DE0007164600" in unknown.description
    assert s.openfigi.seen == []  # nothing sent to a provider for a poison message


def test_openfigi_job_error_is_unprocessable(platform: Platform, sync: Callable[..., Sync]) -> None:
    s = sync(openfigi=[httpx.Response(200, json=[{"error": "Invalid idType"}])])
    verdict = handle_sync_request(_request(), s.worker)
    assert isinstance(verdict, DeadLetter)
    assert "Invalid idType" in verdict.description


def test_rate_limiter_keeps_the_window() -> None:
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2, 6.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert sleeps == [6.0, 6.0]


def test_retry_after_as_an_http_date() -> None:
    from datetime import UTC, datetime

    response = httpx.Response(429, headers={"Retry-After": "Tue, 01 Dec 2026 10:00:30 GMT"})
    assert retry_after_seconds(response, now=datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)) == 30.0


def test_published_limits_come_from_settings_and_the_key_picks_the_window() -> None:
    from pydantic import SecretStr

    from workers_app.runtime import build_sync_worker
    from workers_app.settings import WorkersSettings

    products = httpx.Client()
    keyless = build_sync_worker(WorkersSettings(), products)
    keyed = build_sync_worker(WorkersSettings(openfigi_api_key=SecretStr("secret")), products)

    assert (keyless.openfigi.limiter._requests, keyless.openfigi.limiter._period) == (25, 60.0)
    assert (keyed.openfigi.limiter._requests, keyed.openfigi.limiter._period) == (25, 6.0)
    assert "X-OPENFIGI-APIKEY" not in keyless.openfigi.client.headers
    assert keyed.openfigi.client.headers["X-OPENFIGI-APIKEY"] == "secret"
    assert (keyless.gleif.limiter._requests, keyless.gleif.limiter._period) == (60, 60.0)
    assert keyless.openfigi.client.timeout.read == 15.0


def test_a_retry_after_beyond_the_limit_abandons_instead_of_sleeping(
    platform: Platform, sync: Callable[..., Sync]
) -> None:
    s = sync(openfigi=[httpx.Response(429, headers={"Retry-After": "3600"})])

    verdict = handle_sync_request(_request(), s.worker)

    assert isinstance(verdict, Retry)
    assert "Retry-After 3600 s" in verdict.reason
    assert len(s.openfigi.seen) == 1
    assert s.sleeps == []
