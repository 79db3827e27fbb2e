"""The products-api client maps 200/404/errors to instrument data, None, or a 503 problem."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from orders_service.catalog import HttpInstrumentCatalog, InstrumentRef
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
