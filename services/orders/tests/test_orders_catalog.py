"""The products-api client maps 200/404/errors to instrument data, None, or a 503 problem."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from orders_service.catalog import (
    HttpInstrumentCatalog,
    InstrumentCache,
    InstrumentRef,
    freshness_seconds,
)
from platform_common.errors import ProblemError

INSTRUMENT = {
    "isin": "US0378331005",
    "status": "active",
    "currency": "USD",
    "tick_size": "0.01000000",
    "reference_price": None,
}


def catalog(handler: httpx.MockTransport) -> HttpInstrumentCatalog:
    return HttpInstrumentCatalog("http://products.internal/", 1.0, transport=handler)


def test_found_and_missing() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/instruments/US0378331005":
            return httpx.Response(200, json=INSTRUMENT)
        return httpx.Response(404, json={"title": "Instrument not found"})

    client = catalog(httpx.MockTransport(handle))
    assert client.get("US0378331005") == InstrumentRef(
        "US0378331005", True, "USD", Decimal("0.01"), None
    )
    assert client.get("US5949181045") is None
    client.close()


@pytest.mark.parametrize("failure", ["status", "network"])
def test_unavailable_catalog_is_503(failure: str) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if failure == "network":
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(502)

    with pytest.raises(ProblemError) as excinfo:
        catalog(httpx.MockTransport(handle)).get("US0378331005")
    assert excinfo.value.status == 503


def test_catalog_is_ready_only_while_products_api_answers() -> None:
    def live(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/health/live"
        return httpx.Response(200, json={"status": "ok"})

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    assert HttpInstrumentCatalog("http://p", 1.0, httpx.MockTransport(live)).is_ready()
    assert not HttpInstrumentCatalog("http://p", 1.0, httpx.MockTransport(refused)).is_ready()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _counting(cache_control: str | None) -> tuple[httpx.MockTransport, list[str]]:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("US5949181045"):
            return httpx.Response(404, json={"title": "Instrument not found"})
        headers = {"Cache-Control": cache_control} if cache_control else {}
        return httpx.Response(200, json=INSTRUMENT, headers=headers)

    return httpx.MockTransport(handle), seen


def test_lookups_are_reused_for_products_max_age_then_fetched_again() -> None:
    transport, seen = _counting("public, max-age=300")
    clock = Clock()
    client = HttpInstrumentCatalog(
        "http://products.internal", 1.0, transport=transport, cache=InstrumentCache(clock=clock)
    )
    first = client.get("US0378331005")
    clock.now += 299
    assert client.get("US0378331005") == first
    assert len(seen) == 1
    clock.now += 1  # exactly max-age old: stale
    assert client.get("US0378331005") == first
    assert len(seen) == 2
    # Unknown instruments are never cached: a new listing is usable at once.
    assert client.get("US5949181045") is None
    assert client.get("US5949181045") is None
    assert len(seen) == 4


@pytest.mark.parametrize(
    "cache_control", [None, "no-store", "no-cache, max-age=300", "private, max-age=60", "max-age=0"]
)
def test_responses_without_shared_freshness_are_not_reused(cache_control: str | None) -> None:
    transport, seen = _counting(cache_control)
    client = HttpInstrumentCatalog("http://products.internal", 1.0, transport=transport)
    client.get("US0378331005")
    client.get("US0378331005")
    assert len(seen) == 2


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("public, max-age=300", 300), ("MAX-AGE=5", 5), ('max-age="7"', 7), ("max-age=x", 0)],
)
def test_freshness_from_cache_control(header: str, seconds: float) -> None:
    assert freshness_seconds(header) == seconds


def test_cache_is_bounded_and_drops_the_oldest_first() -> None:
    clock = Clock()
    cache = InstrumentCache(max_entries=2, clock=clock)
    refs = [InstrumentRef(f"ISIN{i:08d}", True, "USD", Decimal("0.01"), None) for i in range(3)]
    for ref in refs:
        cache.put(ref, 60)
    assert cache.get(refs[0].isin) is None
    assert cache.get(refs[1].isin) == refs[1]
    assert cache.get(refs[2].isin) == refs[2]
