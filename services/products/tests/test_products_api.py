"""Products API: search, cacheable lookup, admin writes, validation and RBAC."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select

from platform_common.testing import caller_headers
from products_service.models import Instrument
from products_service.settings import ProductsSettings

ADMIN = caller_headers("ada", "admin")
APPLE: dict[str, Any] = {
    "isin": "US0378331005",
    "full_name": "Apple Inc. Common Stock",
    "cfi_code": "ESVUFR",
    "issuer_lei": "HWUPKR0MPOU8FGXBT394",
    "currency": "USD",
    "venue_mic": "XNAS",
    "tick_size": "0.01",
    "reference_price": "190.12",
}
SIEMENS: dict[str, Any] = {
    "isin": "DE0007236101",
    "full_name": "Siemens AG Namens-Aktien",
    "cfi_code": "ESVUFR",
    "issuer_lei": "W38RGI023J3WT1HWRP32",
    "currency": "EUR",
    "venue_mic": "XETR",
    "tick_size": "0.02",
}
BUND: dict[str, Any] = {
    "isin": "DE0001102580",
    "full_name": "Bundesrepublik Deutschland Bundesanleihe 2032",
    "cfi_code": "DBFTFB",
    "issuer_lei": "529900T8BM49AURSDO55",
    "currency": "EUR",
    "venue_mic": "XETR",
    "tick_size": "0.001",
    "status": "inactive",
}


def count_rows(settings: ProductsSettings) -> int:
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(Instrument))
    engine.dispose()
    return int(total or 0)


def seed(client: TestClient) -> None:
    for body in (APPLE, SIEMENS, BUND):
        assert client.post("/v1/instruments", json=body, headers=ADMIN).status_code == 201


def test_create_and_lookup_with_cache_headers(products_client: TestClient) -> None:
    created = products_client.post("/v1/instruments", json=APPLE, headers=ADMIN)
    assert created.status_code == 201
    assert created.json()["cfi_category"] == "Equities"

    first = products_client.get("/v1/instruments/US0378331005")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=120"
    etag = first.headers["etag"]
    assert first.json()["tick_size"] == "0.01000000"

    again = products_client.get("/v1/instruments/US0378331005", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert again.content == b""

    changed = dict(APPLE, full_name="Apple Inc.")
    del changed["isin"]
    updated = products_client.put("/v1/instruments/US0378331005", json=changed, headers=ADMIN)
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    stale = products_client.get("/v1/instruments/US0378331005", headers={"If-None-Match": etag})
    assert stale.status_code == 200
    assert stale.headers["etag"] != etag


def test_lookup_unknown_isin_is_problem_404(products_client: TestClient) -> None:
    response = products_client.get("/v1/instruments/US5949181045")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Instrument not found"


def test_unknown_route_is_problem_404(products_client: TestClient) -> None:
    response = products_client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_search_filters_and_paginates(products_client: TestClient) -> None:
    seed(products_client)
    everything = products_client.get("/v1/instruments", params={"limit": 2}).json()
    assert everything["total"] == 3
    assert len(everything["items"]) == 2
    second_page = products_client.get("/v1/instruments", params={"limit": 2, "offset": 2}).json()
    assert [i["isin"] for i in second_page["items"]] == ["DE0007236101"]

    by_name = products_client.get("/v1/instruments", params={"q": "siemens"}).json()
    assert [i["isin"] for i in by_name["items"]] == ["DE0007236101"]
    by_isin_prefix = products_client.get("/v1/instruments", params={"q": "DE000"}).json()
    assert by_isin_prefix["total"] == 2
    debt = products_client.get("/v1/instruments", params={"cfi_category": "D"}).json()
    assert [i["isin"] for i in debt["items"]] == ["DE0001102580"]
    xetra_active = products_client.get(
        "/v1/instruments", params={"venue": "XETR", "status": "active"}
    ).json()
    assert [i["isin"] for i in xetra_active["items"]] == ["DE0007236101"]
    wildcard = products_client.get("/v1/instruments", params={"q": "%"}).json()
    assert wildcard["total"] == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("isin", "US0378331006"),  # wrong ISIN check digit
        ("isin", "US037833100"),  # too short
        ("issuer_lei", "HWUPKR0MPOU8FGXBT395"),  # wrong LEI check digits
        ("cfi_code", "ZSVUFR"),  # unknown CFI category
        ("cfi_code", "ESVUF"),
        ("currency", "ABC"),  # not ISO 4217
        ("venue_mic", "XN@S"),
        ("tick_size", "0"),
        ("reference_price", "-1"),
        ("status", "delisted"),
        ("full_name", ""),
        ("full_name", "Apple\tInc."),  # control character
        ("full_name", "Apple \u202eInc."),  # right-to-left override
    ],
)
def test_invalid_instrument_is_422_and_not_written(
    products_client: TestClient, products_settings: ProductsSettings, field: str, value: str
) -> None:
    response = products_client.post(
        "/v1/instruments", json=dict(APPLE, **{field: value}), headers=ADMIN
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert any(field in err["loc"] for err in body["errors"])
    assert count_rows(products_settings) == 0


def test_duplicate_create_is_409(
    products_client: TestClient, products_settings: ProductsSettings
) -> None:
    assert products_client.post("/v1/instruments", json=APPLE, headers=ADMIN).status_code == 201
    response = products_client.post("/v1/instruments", json=APPLE, headers=ADMIN)
    assert response.status_code == 409
    assert count_rows(products_settings) == 1


def test_writes_require_admin(
    products_client: TestClient, products_settings: ProductsSettings
) -> None:
    anonymous = products_client.post("/v1/instruments", json=APPLE)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    trader = products_client.post(
        "/v1/instruments", json=APPLE, headers=caller_headers("tom", "trader")
    )
    assert trader.status_code == 403
    assert count_rows(products_settings) == 0


def test_update_unknown_is_404(products_client: TestClient) -> None:
    body = dict(APPLE)
    del body["isin"]
    assert (
        products_client.put("/v1/instruments/US5949181045", json=body, headers=ADMIN).status_code
        == 404
    )


def test_control_character_message_names_the_character(products_client: TestClient) -> None:
    response = products_client.post(
        "/v1/instruments", json=dict(APPLE, full_name="Apple\x1bInc."), headers=ADMIN
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["loc"] == ["body", "full_name"]
    assert "U+001B" in error["msg"]
    assert "position 5" in error["msg"]
