"""Third-party sync on thirdparty-queue: an instrument's FIGIs (OpenFIGI) and issuer (GLEIF).

One message names one ISIN. The worker reads the instrument from products-api, maps the
ISIN through OpenFIGI's mapping API, reads the issuer's LEI record from GLEIF, and writes
the result through products-api (the owner of instrument data), whose internal endpoint
is idempotent: a duplicate delivery stores nothing new.

Each provider's published rate limit is kept by a limiter per provider (settings, not
constants), and a throttled or failing call is retried with exponential backoff
(tenacity) that waits at least as long as the provider's `Retry-After` says. What is
still failing after the last attempt is abandoned for a redelivery, and on the queue's
last delivery dead-lettered with the reason (settlement.last_chance).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import azure.functions as func
import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from platform_common.identifiers import is_valid_isin
from workers_app.calls import call, failure
from workers_app.settlement import (
    MALFORMED,
    UNPROCESSABLE,
    Complete,
    DeadLetter,
    Retry,
    Verdict,
    parse_envelope,
)

SYNC_REQUEST = "InstrumentSyncRequested"
OPENFIGI_KEY_HEADER = "X-OPENFIGI-APIKEY"
# Throttling and server-side failures of a provider are worth another try.
RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


class RateLimiter:
    """At most `requests` calls in any `period` seconds (sliding window), shared by threads.

    Per process: instances scaled out each keep the limit, so a 429 can still come back;
    it is then honoured through Retry-After.
    """

    def __init__(
        self,
        requests: int,
        period: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._requests, self._period = requests, period
        self._clock, self._sleep = clock, sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self._period:
                    self._sent.popleft()
                if len(self._sent) < self._requests:
                    self._sent.append(now)
                    return
                wait = self._period - (now - self._sent[0])
            self._sleep(wait)


class ProviderError(Exception):
    """A provider call that may succeed if tried again (throttled, 5xx, timeout, network)."""

    def __init__(
        self, message: str, retry_after: float | None = None, *, give_up: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.give_up = give_up
        """True when waiting here is pointless (Retry-After beyond the policy's limit)."""


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How a provider call is retried inside one delivery (settings, not constants)."""

    attempts: int
    initial_wait: float
    max_wait: float
    max_retry_after: float
    """A longer Retry-After is not slept through: the delivery is abandoned instead."""
    sleep: Callable[[float], None] = time.sleep


@dataclass
class Provider:
    """One third-party API: its client, its rate limit and how calls to it are retried."""

    name: str
    client: httpx.Client
    limiter: RateLimiter
    retry: RetryPolicy
    waits: list[float] = field(default_factory=list)
    """Seconds waited before each retry (operators see them in the logs; tests read them)."""

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The provider's answer (any non-retryable status), or ProviderError when it kept
        failing after the last attempt."""
        backoff = wait_exponential(multiplier=self.retry.initial_wait, max=self.retry.max_wait)

        def wait(state: RetryCallState) -> float:
            # At least what the provider asked for, at least the backoff.
            error = state.outcome.exception() if state.outcome else None
            asked = error.retry_after if isinstance(error, ProviderError) else None
            return max(backoff(state), asked or 0.0)

        def before_sleep(state: RetryCallState) -> None:
            self.waits.append(state.upcoming_sleep)

        def attempt() -> httpx.Response:
            self.limiter.acquire()
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TimeoutException as exc:
                raise ProviderError(f"{self.name}: {method} {url} timed out") from exc
            except httpx.TransportError as exc:
                raise ProviderError(f"{self.name}: {method} {url}: {exc}") from exc
            if response.status_code in RETRYABLE:
                asked = retry_after_seconds(response)
                give_up = asked is not None and asked > self.retry.max_retry_after
                raise ProviderError(
                    f"{self.name}: {method} {url} -> {response.status_code}"
                    + (f" (Retry-After {asked:.0f} s)" if asked is not None else ""),
                    asked,
                    give_up=give_up,
                )
            return response

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=wait,
            retry=retry_if_exception(lambda e: isinstance(e, ProviderError) and not e.give_up),
            sleep=self.retry.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(attempt)


@dataclass(frozen=True)
class SyncWorker:
    """What the handler needs: products-api (reads and writes) and the two providers."""

    products: httpx.Client
    openfigi: Provider
    gleif: Provider


def handle_sync_request(  # noqa: PLR0911  # one return per way a message settles
    message: func.ServiceBusMessage, worker: SyncWorker
) -> Verdict:
    """Enrich the instrument a message names; never raises for bad input or a provider."""
    envelope = parse_envelope(message)
    if isinstance(envelope, DeadLetter):
        return envelope
    if envelope.type != SYNC_REQUEST:
        return DeadLetter(MALFORMED, f"{envelope.type!r} is not {SYNC_REQUEST}")
    isin = envelope.aggregate_id
    if not is_valid_isin(isin):
        return DeadLetter(MALFORMED, f"aggregate_id {isin!r} is not a valid ISIN")
    response = call(worker.products, "GET", f"/v1/instruments/{isin}")
    if isinstance(response, Retry):
        return response
    if response.status_code == 404:
        return DeadLetter(UNPROCESSABLE, f"instrument {isin} is not in products-api")
    if not response.is_success:
        return failure(response, "reading the instrument")
    instrument = response.json()
    try:
        figi = _openfigi(worker.openfigi, isin)
        issuer = _gleif(worker.gleif, str(instrument.get("issuer_lei", "")))
    except ProviderError as exc:
        return Retry(str(exc))
    except _UnusableError as exc:
        return DeadLetter(UNPROCESSABLE, str(exc))
    written = call(
        worker.products,
        "PUT",
        f"/internal/v1/instruments/{isin}/enrichment",
        json_body=figi | issuer,
    )
    if isinstance(written, Retry):
        return written
    if written.status_code == 201:
        return Complete(f"instrument {isin} enriched")
    if written.status_code == 200:
        return Complete(
            f"instrument {isin} enrichment stored (version {written.json()['version']})"
        )
    return failure(written, "storing the enrichment")


class _UnusableError(Exception):
    """A provider answered in a way no retry can change (our request is wrong)."""


def _openfigi(provider: Provider, isin: str) -> dict[str, Any]:
    """The ISIN's FIGIs; empty fields when OpenFIGI knows no such ISIN."""
    response = provider.request(
        "POST", "/v3/mapping", json=[{"idType": "ID_ISIN", "idValue": isin}]
    )
    if not response.is_success:
        raise _UnusableError(
            f"openfigi: POST /v3/mapping -> {response.status_code}: {response.text[:200]}"
        )
    results = response.json()
    if not isinstance(results, list) or len(results) != 1 or not isinstance(results[0], dict):
        raise _UnusableError("openfigi: the mapping answer is not one result per job")
    result = results[0]
    if "error" in result:
        raise _UnusableError(f"openfigi: job rejected: {result['error']}")
    listings = [d for d in result.get("data") or [] if isinstance(d, dict)]
    if not listings:  # {"warning": "No identifier found."}
        return {}
    # The composite (country-level) listing, when OpenFIGI returns one, else the first.
    chosen = next((d for d in listings if d.get("figi") == d.get("compositeFIGI")), listings[0])
    return {
        "figi": chosen.get("figi"),
        "composite_figi": chosen.get("compositeFIGI"),
        "share_class_figi": chosen.get("shareClassFIGI"),
        "ticker": chosen.get("ticker"),
        "exch_code": chosen.get("exchCode"),
        "security_type": chosen.get("securityType"),
        "market_sector": chosen.get("marketSector"),
    }


def _gleif(provider: Provider, lei: str) -> dict[str, Any]:
    """The issuer's name, country and statuses; empty fields when GLEIF has no record."""
    response = provider.request("GET", f"/api/v1/lei-records/{lei}")
    if response.status_code == 404:
        return {}
    if not response.is_success:
        raise _UnusableError(f"gleif: GET lei-records/{lei} -> {response.status_code}")
    attributes = (response.json().get("data") or {}).get("attributes") or {}
    entity = attributes.get("entity") or {}
    return {
        "issuer_legal_name": (entity.get("legalName") or {}).get("name"),
        "issuer_country": (entity.get("legalAddress") or {}).get("country"),
        "issuer_entity_status": entity.get("status"),
        "issuer_lei_status": (attributes.get("registration") or {}).get("status"),
    }
