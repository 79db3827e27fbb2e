"""Batch loads of FIRDS reference data: idempotent upsert, per-record rejects, limits, identity."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from platform_common.identifiers import isin_check_digit
from platform_common.testing import caller_headers
from products_service.main import create_app
from products_service.settings import ProductsSettings, get_settings

WORKERS = caller_headers("svc-workers", "admin")
URL = "/internal/v1/instruments:batch"


def item(n: int, **changes: Any) -> dict[str, Any]:
    body = f"DE{n:09d}"
    return {
        "isin": body + str(isin_check_digit(body)),
        "full_name": f"Load test {n} AG",
        "cfi_code": "ESVUFR",
        "issuer_lei": "W38RGI023J3WT1HWRP32",
        "currency": "EUR",
        "venue_mic": "XETR",
        **changes,
    }


@pytest.fixture
def client(products_settings: ProductsSettings) -> Iterator[TestClient]:
    settings = products_settings.model_copy(update={"products_load_max_items": 5})
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app) as test_client:
        yield test_client


def load(client: TestClient, items: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.put(URL, json={"items": items}, headers=WORKERS)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_load_creates_then_resending_changes_nothing(client: TestClient) -> None:
    batch = [item(1), item(2), item(3)]
    first = load(client, batch)
    assert (first["created"], first["updated"], first["unchanged"]) == (3, 0, 0)
    before = client.get(f"/v1/instruments/{batch[0]['isin']}").json()
    assert before["version"] == 1
    assert Decimal(before["tick_size"]) == Decimal("0.0001")
    again = load(client, batch)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert client.get(f"/v1/instruments/{batch[0]['isin']}").json() == before


def test_changed_reference_fields_update_and_keep_admin_fields(client: TestClient) -> None:
    load(client, [item(1)])
    isin = item(1)["isin"]
    admin = caller_headers("ada", "admin")
    fields = {k: v for k, v in item(1).items() if k != "isin"}
    put = client.put(f"/v1/instruments/{isin}", json={**fields, "tick_size": "0.05"}, headers=admin)
    assert put.status_code == 200
    result = load(client, [item(1, full_name="Renamed AG")])
    assert (result["created"], result["updated"]) == (0, 1)
    stored = client.get(f"/v1/instruments/{isin}").json()
    assert stored["full_name"] == "Renamed AG"
    assert Decimal(stored["tick_size"]) == Decimal("0.05")
    assert stored["version"] == 3


def test_bad_records_are_rejected_with_reasons_and_the_rest_load(client: TestClient) -> None:
    bad_isin = item(2, isin="DE0000000020")
    result = load(client, [item(1), bad_isin, item(3, currency="XXX"), item(1), {"isin": 5}])
    assert result["created"] == 1
    reasons = {r["index"]: r for r in result["rejected"]}
    assert set(reasons) == {1, 2, 3, 4}
    assert "ISIN" in reasons[1]["reason"]
    assert reasons[1]["isin"] == "DE0000000020"
    assert "currency" in reasons[2]["reason"]
    assert reasons[3]["reason"].startswith("duplicate of item 0")
    assert reasons[4]["isin"] is None
    assert "full_name" in reasons[4]["reason"]
    assert client.get(f"/v1/instruments/{item(3)['isin']}").status_code == 404


def test_oversized_batch_is_413_and_writes_nothing(client: TestClient) -> None:
    response = client.put(URL, json={"items": [item(n) for n in range(6)]}, headers=WORKERS)
    assert response.status_code == 413
    assert "at most 5 items" in response.json()["detail"]
    assert client.get(f"/v1/instruments/{item(0)['isin']}").status_code == 404


@pytest.mark.parametrize("body", [{"items": []}, {"items": "x"}, {}, {"items": [1]}])
def test_invalid_batch_is_422(client: TestClient, body: dict[str, Any]) -> None:
    assert client.put(URL, json=body, headers=WORKERS).status_code == 422


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (caller_headers("svc-workers", "trader"), 403),
        (caller_headers("ada", "admin"), 403),
    ],
)
def test_only_the_workers_identity_loads(
    client: TestClient, headers: dict[str, str], status: int
) -> None:
    response = client.put(URL, json={"items": [item(1)]}, headers=headers)
    assert response.status_code == status
    assert client.get(f"/v1/instruments/{item(1)['isin']}").status_code == 404


def test_load_route_is_not_in_the_openapi_document(client: TestClient) -> None:
    assert not any(
        path.startswith("/internal") for path in client.get("/openapi.json").json()["paths"]
    )
