"""A settlement request's correlation id reaches orders-api and the message it publishes."""

from __future__ import annotations

import httpx

from payments_service.orders_client import HttpOrdersClient
from platform_common.testing import caller_headers, forwarding_transport

from .conftest import PaymentsHarness, instruction

RISK = caller_headers("rita", "risk_manager")


def test_correlation_id_flows_to_orders_api_and_the_message(payments: PaymentsHarness) -> None:
    seen: list[str | None] = []
    forward = forwarding_transport(payments.orders)

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-correlation-id"))
        return forward.handle_request(request)

    payments.app.state.orders_client = HttpOrdersClient(
        "http://orders-api.internal", 2.0, 1, transport=httpx.MockTransport(recording)
    )
    order = payments.filled_order([("10", "190.00")])
    created = payments.client.post(
        "/v1/settlements",
        json=instruction(order),
        headers={**RISK, "X-Correlation-Id": "settle-7.a_b"},
    )
    assert created.status_code == 201, created.text
    assert created.headers["x-correlation-id"] == "settle-7.a_b"
    assert len(seen) == 2  # the order, then its fills
    assert set(seen) == {"settle-7.a_b"}
    [message] = payments.bus.messages["events-topic"]
    assert message.correlation_id == "settle-7.a_b"
    # The session stays the aggregate's, so ordered entities keep per-aggregate order.
    assert message.session_id == created.json()["id"]


def test_without_a_request_id_each_request_gets_its_own(payments: PaymentsHarness) -> None:
    order = payments.filled_order([("10", "190.00")])
    created = payments.client.post("/v1/settlements", json=instruction(order), headers=RISK)
    generated = created.headers["x-correlation-id"]
    assert len(generated) == 36
    [message] = payments.bus.messages["events-topic"]
    assert message.correlation_id == generated
