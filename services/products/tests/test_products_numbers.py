"""Prices keep every decimal the schema accepts, print fixed-point, and times carry an offset."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from .test_products_api import ADMIN, APPLE


def test_reference_price_keeps_eight_decimals_and_tiny_ticks_print_fixed_point(
    products_client: TestClient,
) -> None:
    body = dict(APPLE, tick_size="0.00000001", reference_price="1234567890.12345678")
    created = products_client.post("/v1/instruments", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    read = products_client.get("/v1/instruments/US0378331005").json()
    assert read["reference_price"] == "1234567890.12345678"
    assert read["tick_size"] == "0.00000001"
    assert datetime.fromisoformat(read["updated_at"]).utcoffset() is not None
    assert read["updated_at"].endswith("Z")


def test_a_ninth_decimal_is_refused_not_rounded(products_client: TestClient) -> None:
    body = dict(APPLE, reference_price="190.123456789")
    response = products_client.post("/v1/instruments", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "reference_price"]


def test_a_json_number_is_refused_because_it_arrives_as_a_binary_float(
    products_client: TestClient,
) -> None:
    """json.loads reads 1234567890.12345678 as 1234567890.1234567: it must not be stored."""
    body = dict(APPLE, reference_price=1234567890.12345678)
    response = products_client.post("/v1/instruments", json=body, headers=ADMIN)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["loc"] == ["body", "reference_price"]
    assert "send decimals as JSON strings" in error["msg"]


def test_the_request_schema_states_the_decimal_shape(products_client: TestClient) -> None:
    schema = products_client.get("/openapi.json").json()["components"]["schemas"]
    tick = schema["InstrumentCreate"]["properties"]["tick_size"]
    assert {"type": "string", "pattern": r"^[0-9]{1,10}(\.[0-9]{1,8})?$"} in tick["anyOf"]
