"""The third-party sync's internal routes: stored by products-api, idempotent, internal only."""

from __future__ import annotations

from fastapi.testclient import TestClient

from platform_common.testing import caller_headers

ADMIN = caller_headers("svc-workers", "admin")
APPLE = {
    "isin": "US0378331005",
    "full_name": "Apple Inc. Common Stock",
    "cfi_code": "ESVUFR",
    "issuer_lei": "HWUPKR0MPOU8FGXBT394",
    "currency": "USD",
    "venue_mic": "XNAS",
    "tick_size": "0.01",
}
DATA = {
    "figi": "BBG000B9XRY4",
    "composite_figi": "BBG000B9XRY4",
    "ticker": "AAPL",
    "exch_code": "US",
    "issuer_legal_name": "Apple Inc.",
    "issuer_country": "US",
    "issuer_lei_status": "ISSUED",
}
URL = "/internal/v1/instruments/US0378331005/enrichment"


def _apple(client: TestClient) -> None:
    assert client.post("/v1/instruments", json=APPLE, headers=ADMIN).status_code == 201


def test_first_write_is_201_a_repeat_changes_nothing(products_client: TestClient) -> None:
    _apple(products_client)
    first = products_client.put(URL, json=DATA, headers=ADMIN)
    again = products_client.put(URL, json=DATA, headers=ADMIN)
    assert first.status_code == 201, first.text
    assert again.status_code == 200
    assert again.json()["version"] == first.json()["version"] == 1
    assert again.json()["updated_at"] == first.json()["updated_at"]
    changed = products_client.put(URL, json={**DATA, "ticker": "AAPL2"}, headers=ADMIN)
    assert changed.json()["version"] == 2
    assert products_client.get(URL, headers=ADMIN).json()["ticker"] == "AAPL2"


def test_unknown_instrument_is_404_and_bad_figi_422(products_client: TestClient) -> None:
    assert products_client.put(URL, json=DATA, headers=ADMIN).status_code == 404
    _apple(products_client)
    bad = products_client.put(URL, json={**DATA, "figi": "US0378331005"}, headers=ADMIN)
    assert bad.status_code == 422
    assert "figi" in bad.text


def test_only_admin_writes_and_the_route_is_not_in_openapi(products_client: TestClient) -> None:
    _apple(products_client)
    trader = caller_headers("tom", "trader")
    assert products_client.put(URL, json=DATA, headers=trader).status_code == 403
    paths = products_client.get("/openapi.json").json()["paths"]
    assert not any(p.startswith("/internal") for p in paths)
