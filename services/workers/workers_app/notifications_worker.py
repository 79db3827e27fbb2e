"""Notifications consumer on notifications-topic: records each one through users-api.

No worker writes another service's tables: users-api owns the notifications and lists
them at `GET /v1/me/notifications`. Its internal endpoint is idempotent on the
notification id (a repeat is 200), so a redelivery records nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import azure.functions as func
import httpx

from workers_app.calls import call, failure
from workers_app.settlement import MALFORMED, Complete, DeadLetter, Retry, Verdict, parse_envelope

FIELDS = ("id", "user_id", "kind", "title", "body", "reference", "occurred_at")


@dataclass(frozen=True)
class NotificationsWorker:
    users: httpx.Client


def record_notification(message: func.ServiceBusMessage, worker: NotificationsWorker) -> Verdict:
    envelope = parse_envelope(message)
    if isinstance(envelope, DeadLetter):
        return envelope
    if envelope.type != "Notification":
        return DeadLetter(MALFORMED, f"{envelope.type!r} is not a Notification")
    body = {key: envelope.data.get(key) for key in FIELDS}
    response = call(worker.users, "POST", "/internal/v1/notifications", json_body=body)
    if isinstance(response, Retry):
        return response
    if response.status_code in (200, 201):
        return Complete(f"notification {body['id']} recorded for {body['user_id']}")
    return failure(response, "recording the notification")
