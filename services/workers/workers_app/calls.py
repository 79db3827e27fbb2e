"""Calls from the workers to the services, and how their failures map to a settlement."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

from platform_common.correlation import current_correlation_id, outgoing_headers
from platform_common.messaging import BusMessage, MessageBus
from platform_common.outbox import MESSAGE_ID_NAMESPACE
from workers_app.settlement import UNPROCESSABLE, DeadLetter, Retry

# Throttling and server-side failures pass; any other 4xx is the message's fault.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def service_client(
    base_url: str,
    caller_id: str,
    roles: tuple[str, ...],
    timeout: float,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A client that calls one service as the workers' identity with the roles the call needs.

    The services trust `X-Caller-*` because only the gateway and the platform's own
    workloads reach their internal ingress.
    """
    headers = {"X-Caller-Id": caller_id}
    if roles:
        headers["X-Caller-Roles"] = ",".join(roles)
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout, transport=transport)


def call(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    json_body: Mapping[str, Any] | None = None,
) -> httpx.Response | Retry:
    """The response, or Retry when the service could not be reached or timed out.

    The message's correlation id (set by `settlement.decide`) goes with the call, so the
    service's log lines and audit record join the request that caused the message.
    """
    try:
        return client.request(method, url, json=json_body, headers=outgoing_headers())
    except httpx.TimeoutException as exc:
        return Retry(f"{method} {url}: timed out ({type(exc).__name__})")
    except httpx.TransportError as exc:
        return Retry(f"{method} {url}: {type(exc).__name__}: {exc}")


def failure(response: httpx.Response, what: str) -> Retry | DeadLetter:
    """What a non-success answer means for the message being handled."""
    detail = _problem_detail(response)
    text = (
        f"{what}: {response.request.method} {response.request.url.path} -> {response.status_code}"
    )
    if detail:
        text += f" ({detail})"
    if response.status_code in TRANSIENT_STATUSES:
        return Retry(text)
    return DeadLetter(UNPROCESSABLE, text)


def _problem_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or "")[:300]
    return ""


def derived_message_id(kind: str, *parts: str) -> str:
    """Deterministic id of a message the workers publish: a redelivery re-sends the same id,
    which Service Bus duplicate detection (and the local bus) drops."""
    return str(uuid.uuid5(MESSAGE_ID_NAMESPACE, ":".join((kind, *parts))))


def publish_event(
    bus: MessageBus,
    destination: str,
    *,
    event_type: str,
    message_id: str,
    aggregate_id: str,
    aggregate_version: int,
    data: Mapping[str, Any],
    session_id: str | None = None,
) -> Retry | None:
    """Publish in the outbox's envelope; None when sent, Retry when the bus refused."""
    body = json.dumps(
        {
            "type": event_type,
            "id": message_id,
            "aggregate_id": aggregate_id,
            "aggregate_version": aggregate_version,
            "data": dict(data),
        },
        sort_keys=True,
        default=str,
    )
    message = BusMessage(
        message_id=message_id,
        subject=event_type,
        body=body,
        # The handled message's correlation id; outside a handler the aggregate's.
        correlation_id=current_correlation_id() or aggregate_id,
        session_id=session_id,
    )
    try:
        bus.send(destination, message)
    except Exception as exc:  # any send failure: redeliver, the same id is re-sent
        return Retry(f"publishing {event_type} to {destination} failed: {exc}")
    return None
