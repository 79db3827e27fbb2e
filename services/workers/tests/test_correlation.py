"""A handled message's correlation id goes on with the calls and messages its handler makes."""

from __future__ import annotations

import json

import azure.functions as func
import httpx
from azure.functions.servicebus import ServiceBusMessage

from platform_common.correlation import current_correlation_id
from platform_common.messaging import InMemoryBus
from workers_app.calls import call, publish_event, service_client
from workers_app.settlement import Complete, Verdict, decide


def _message(correlation_id: str | None) -> func.ServiceBusMessage:
    return ServiceBusMessage(
        body=b"{}",
        message_id="m-1",
        delivery_count=1,
        correlation_id=correlation_id,
        application_properties={},
        user_properties={},
    )


def _recording_client(seen: list[str | None]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("X-Correlation-Id"))
        return httpx.Response(200, json={})

    return service_client("http://orders", "svc-workers", (), 2.0, httpx.MockTransport(answer))


def test_calls_and_published_messages_carry_the_handled_messages_id() -> None:
    seen: list[str | None] = []
    client = _recording_client(seen)
    bus = InMemoryBus()

    def handle(_message: func.ServiceBusMessage) -> Verdict:
        call(client, "GET", "/v1/orders/o-1")
        publish_event(
            bus,
            "notifications-topic",
            event_type="Notification",
            message_id="n-1",
            aggregate_id="o-1",
            aggregate_version=1,
            data={},
        )
        return Complete("done")

    decide(handle, _message("req-42"), 5)
    assert seen == ["req-42"]
    assert [m.correlation_id for m in bus.messages["notifications-topic"]] == ["req-42"]
    assert current_correlation_id() is None  # reset once the handler returns


def test_a_message_without_a_usable_id_gets_a_new_one_per_handling() -> None:
    seen: list[str | None] = []
    client = _recording_client(seen)

    def handle(_message: func.ServiceBusMessage) -> Verdict:
        call(client, "GET", "/v1/orders/o-1")
        return Complete("done")

    decide(handle, _message(None), 5)
    decide(handle, _message("has spaces; and {json}"), 5)
    assert len(seen) == 2
    assert all(seen)
    assert seen[0] != seen[1]
    assert "has spaces; and {json}" not in seen


def test_outside_a_handler_the_aggregate_correlates_and_no_header_is_sent() -> None:
    seen: list[str | None] = []
    call(_recording_client(seen), "GET", "/v1/orders/o-1")
    assert seen == [None]
    bus = InMemoryBus()
    publish_event(
        bus,
        "events-topic",
        event_type="X",
        message_id="x-1",
        aggregate_id="o-7",
        aggregate_version=1,
        data={},
    )
    (sent,) = bus.messages["events-topic"]
    assert json.loads(sent.body)["aggregate_id"] == "o-7"
    assert sent.correlation_id == "o-7"
