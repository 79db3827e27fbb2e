"""Erasure and retention across the services: the workers carry users-api's decisions out.

`propagate_erasure` (events-topic subscription `erasure`, filtered to UserErased) calls
orders-api, payments-api and products-api (whose outboxes' audit records may name the user
as their actor), then users-api, each `POST /internal/v1/erasures` with the
event's {"user_id", "pseudonym"}. Every call is idempotent (a repeat answers the same and
changes nothing), so a redelivery after a partial failure simply goes round again; users-api
comes last because it deletes the UserErased row, the last place the original id was kept.

`purge_all` (the daily timer) calls every service's retention purge; one that fails does
not stop the others, and the outcome names each.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import azure.functions as func
import httpx

from platform_common.erasure import PSEUDONYM_PATTERN
from workers_app.calls import call, failure
from workers_app.settlement import MALFORMED, Complete, DeadLetter, Retry, Verdict, parse_envelope

USER_ERASED = "UserErased"
ERASURES = "/internal/v1/erasures"
PURGE = "/internal/v1/retention/purge"
_PSEUDONYM = re.compile(PSEUDONYM_PATTERN)


@dataclass(frozen=True)
class PrivacyWorker:
    """Clients presenting the workers' caller id with admin, which these routes require."""

    orders: httpx.Client
    payments: httpx.Client
    users: httpx.Client
    products: httpx.Client

    def erasure_targets(self) -> tuple[tuple[str, httpx.Client], ...]:
        return (
            ("orders-api", self.orders),
            ("payments-api", self.payments),
            ("products-api", self.products),
            ("users-api", self.users),
        )

    def purge_targets(self) -> tuple[tuple[str, httpx.Client], ...]:
        return (
            ("users-api", self.users),
            ("products-api", self.products),
            ("orders-api", self.orders),
            ("payments-api", self.payments),
        )


def _erasure_body(data: Mapping[str, Any]) -> dict[str, str] | str:
    """The request the services take, or what is wrong with the event's data."""
    user_id, pseudonym = data.get("user_id"), data.get("pseudonym")
    problems = []
    if not isinstance(user_id, str) or not 1 <= len(user_id) <= 128:
        problems.append("data.user_id must be a string of 1-128 characters")
    if not isinstance(pseudonym, str) or not _PSEUDONYM.fullmatch(pseudonym):
        problems.append("data.pseudonym must match erased-<32 lower-case hex>")
    if problems or not isinstance(user_id, str) or not isinstance(pseudonym, str):
        return "; ".join(problems)
    return {"user_id": user_id, "pseudonym": pseudonym}


def propagate_erasure(message: func.ServiceBusMessage, worker: PrivacyWorker) -> Verdict:
    """Every service that holds the user's records pseudonymises them; then users-api ends it."""
    envelope = parse_envelope(message)
    if isinstance(envelope, DeadLetter):
        return envelope
    if envelope.type != USER_ERASED:
        return Complete(f"{envelope.type} is not an erasure")
    body = _erasure_body(envelope.data)
    if isinstance(body, str):
        return DeadLetter(MALFORMED, f"{USER_ERASED} {envelope.id}: {body}")
    done = []
    for name, client in worker.erasure_targets():
        response = call(client, "POST", ERASURES, json_body=body)
        if isinstance(response, Retry):
            return Retry(f"{name}: {response.reason}")
        if response.status_code != 200:
            return failure(response, f"erasing {body['pseudonym']} in {name}")
        done.append(name)
    return Complete(f"{body['pseudonym']} erased in {', '.join(done)}")


@dataclass(frozen=True)
class PurgeOutcome:
    service: str
    ok: bool
    detail: str
    counts: Mapping[str, int]


def purge_all(worker: PrivacyWorker) -> list[PurgeOutcome]:
    """Each service's purge by its own clock; a failure is reported, the rest still run."""
    outcomes = []
    for name, client in worker.purge_targets():
        response = call(client, "POST", PURGE)
        if isinstance(response, Retry):
            outcomes.append(PurgeOutcome(name, False, response.reason, {}))
        elif response.status_code != 200:
            verdict = failure(response, f"purging {name}")
            reason = verdict.reason if isinstance(verdict, Retry) else verdict.description
            outcomes.append(PurgeOutcome(name, False, reason, {}))
        else:
            counts = response.json().get("counts", {})
            outcomes.append(PurgeOutcome(name, True, "purged", counts))
    return outcomes


class PurgeFailedError(RuntimeError):
    """Raised after every purge ran, so the timer's invocation is recorded as failed."""
