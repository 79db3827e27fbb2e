"""Instrument lookups behind an interface: HTTP to products-api, fakes in tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Protocol

import httpx
from fastapi import Depends, Request

from orders_service.settings import get_settings
from platform_common.app import resolve_settings
from platform_common.errors import ProblemError


@dataclass(frozen=True)
class InstrumentRef:
    """The slice of reference data order validation needs."""

    isin: str
    active: bool
    currency: str
    tick_size: Decimal
    reference_price: Decimal | None


class InstrumentCatalog(Protocol):
    def get(self, isin: str) -> InstrumentRef | None:
        """None when unknown; raises ProblemError(503) when the catalog cannot answer."""
        ...

    def is_ready(self) -> bool:
        """Whether the catalog answers at all (readiness: orders cannot be created without it)."""
        ...


def freshness_seconds(cache_control: str | None) -> float:
    """How long a response may be reused, from its Cache-Control (RFC 9111 section 5.2.2).

    0 for no-store, no-cache or private (orders-api is a shared cache for its callers), or
    when no max-age is given.
    """
    max_age = 0.0
    for directive in (cache_control or "").split(","):
        name, _, value = directive.strip().partition("=")
        name = name.lower()
        if name in {"no-store", "no-cache", "private"}:
            return 0.0
        if name == "max-age":
            try:
                max_age = max(0.0, float(int(value.strip().strip('"'))))
            except ValueError:
                return 0.0
    return max_age


class InstrumentCache:
    """Instrument references for as long as products-api says they stay fresh.

    products-api marks lookups `public, max-age=N` (PRODUCTS_CACHE_MAX_AGE_SECONDS) for the
    gateway; honouring it here takes the HTTP round trip off nearly every order create. A
    change to an instrument is seen at most N seconds late, as through the gateway.
    """

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self._entries: dict[str, tuple[float, InstrumentRef]] = {}
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, isin: str) -> InstrumentRef | None:
        with self._lock:
            entry = self._entries.get(isin)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[isin]
                return None
            return entry[1]

    def put(self, instrument: InstrumentRef, lifetime: float) -> None:
        if lifetime <= 0:
            return
        with self._lock:
            now = self._clock()
            if len(self._entries) >= self._max_entries:
                for key in [k for k, (expires, _) in self._entries.items() if expires <= now]:
                    del self._entries[key]
                while len(self._entries) >= self._max_entries:  # oldest insertion goes first
                    del self._entries[next(iter(self._entries))]
            self._entries[instrument.isin] = (now + lifetime, instrument)


class HttpInstrumentCatalog:
    """products-api client; a keep-alive pool and a freshness cache per app, shared by threads."""

    def __init__(
        self,
        base_url: str,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
        cache: InstrumentCache | None = None,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport
        )
        self._cache = cache if cache is not None else InstrumentCache()

    def get(self, isin: str) -> InstrumentRef | None:
        cached = self._cache.get(isin)
        if cached is not None:
            return cached
        try:
            response = self._client.get(f"/v1/instruments/{isin}")
        except httpx.HTTPError as exc:
            raise ProblemError(503, "Instrument catalog unavailable", str(exc)) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ProblemError(
                503,
                "Instrument catalog unavailable",
                f"products-api answered {response.status_code}",
            )
        data = response.json()
        reference = data.get("reference_price")
        instrument = InstrumentRef(
            isin=data["isin"],
            active=data["status"] == "active",
            currency=data["currency"],
            tick_size=Decimal(str(data["tick_size"])),
            reference_price=Decimal(str(reference)) if reference is not None else None,
        )
        self._cache.put(instrument, freshness_seconds(response.headers.get("cache-control")))
        return instrument

    def is_ready(self) -> bool:
        """products-api's liveness, not its readiness: one hop, so probes do not chain."""
        try:
            return self._client.get("/health/live").status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        self._client.close()


async def get_catalog(request: Request) -> InstrumentCatalog:
    """One HTTP catalog per app; tests replace this dependency with a fake.

    Async because it does no I/O: a sync dependency would cost a thread hop per request.
    """
    catalog = getattr(request.app.state, "catalog", None)
    if catalog is None:
        settings = resolve_settings(request.app, get_settings)
        catalog = HttpInstrumentCatalog(
            settings.products_api_base_url, settings.products_api_timeout_seconds
        )
        request.app.state.catalog = catalog
    assert isinstance(catalog, HttpInstrumentCatalog)
    return catalog


def products_api_probe(
    catalog: Annotated[InstrumentCatalog, Depends(get_catalog)],
) -> Callable[[], bool]:
    """Readiness probe for products-api, resolved through (overridable) `get_catalog`."""
    return catalog.is_ready
