"""End to end over real processes: `run_platform.start_platform` on loopback with free ports.

Every API call goes through the local gateway as a client would: HTTP Basic credentials
of a seeded user and the subscription key. An order created over HTTP is risk-checked by
the workers' local runner, filled through the simulated venue (the admin fills endpoint),
settled by payments and notified through users-api, all via the shared local-file bus; a
poison message lands in orders-queue's dead-letter sub-queue with its reason. Every wait is
bounded; the processes are stopped.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from platform_common.local_bus import LocalFileBus
from platform_common.messaging import BusMessage
from run_local import PORTS, SEED_USERS
from run_platform import LOCAL_SUBSCRIPTION_KEY, Platform, free_port, start_platform

T = TypeVar("T")
WAIT_SECONDS = 60.0
KEY = {"Ocp-Apim-Subscription-Key": LOCAL_SUBSCRIPTION_KEY}


def signed_in(user_id: str) -> httpx.BasicAuth:
    """A seeded user's credentials (run_local.SEED_USERS), as the SPA sends them."""
    return httpx.BasicAuth(f"{user_id}@example.com", SEED_USERS[user_id][1])


TRADER, ADMIN = signed_in("tom"), signed_in("admin")


def eventually(probe: Callable[[], T | None], what: str, timeout: float = WAIT_SECONDS) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    platform = start_platform(
        tmp_path_factory.mktemp("platform"),
        ports={name: free_port() for name in PORTS},
        blob_port=free_port(),
        with_seed=True,
        gateway_port=free_port(),
    )
    try:
        yield platform
    finally:
        platform.stop()
        assert all(p.poll() is not None for p in platform.processes)


def test_the_gateway_refuses_what_api_management_refuses(running: Platform) -> None:
    with httpx.Client(base_url=running.gateway_url, timeout=10) as http:
        anonymous = http.get("/users/v1/me", headers=KEY)
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == 'Basic realm="platform"'
        assert http.get("/users/v1/me", auth=TRADER).status_code == 401  # no key
        spoofed = http.get("/users/v1/me", auth=TRADER, headers={**KEY, "X-Caller-Roles": "admin"})
        assert spoofed.status_code == 200, spoofed.text
        assert spoofed.json()["caller_id"] == "tom"
        assert spoofed.json()["forwarded_roles"] == ["trader"]


def test_an_order_is_risk_checked_filled_settled_and_notified(running: Platform) -> None:
    with httpx.Client(base_url=running.gateway_url, headers=KEY, timeout=10) as http:
        created = http.post(
            "/orders/v1/orders",
            json={
                "isin": "US0378331005",
                "side": "buy",
                "order_type": "limit",
                "quantity": "10",
                "limit_price": "189.50",
            },
            headers={"Idempotency-Key": str(uuid.uuid4()), "X-Correlation-Id": "e2e-order-1"},
            auth=TRADER,
        )
        assert created.status_code == 201, created.text
        assert created.headers["x-correlation-id"] == "e2e-order-1"
        order_id = created.json()["id"]
        order_url = f"/orders/v1/orders/{order_id}"

        def status() -> str | None:
            running.check_alive()
            current: str = http.get(order_url, auth=TRADER).json()["status"]
            return None if current == "NEW" else current

        assert eventually(status, "the risk check") == "ACCEPTED"

        fill = {"venue_fill_id": f"venue-{order_id}", "quantity": "10", "price": "189.40"}
        filled = http.post(f"{order_url}/fills", json=fill, auth=ADMIN)
        assert filled.status_code == 200, filled.text
        assert filled.json()["status"] == "FILLED"

        def settlement() -> dict[str, Any] | None:
            page = http.get(
                "/payments/v1/settlements", params={"order_id": order_id}, auth=ADMIN
            ).json()
            items: list[dict[str, Any]] = page["items"]
            return items[0] if items else None

        settled = eventually(settlement, "the settlement")
        assert settled["order_id"] == order_id
        assert Decimal(settled["amount"]) == Decimal("1894.00")

        def filled_note() -> dict[str, Any] | None:
            notes = http.get("/users/v1/me/notifications", auth=TRADER).json()["items"]
            return next(
                (n for n in notes if n["reference"] == order_id and n["title"] == "Order filled"),
                None,
            )

        note = eventually(filled_note, "the 'Order filled' notification")
        assert note["body"] == "buy US0378331005: 10 filled at 189.4 (10 of 10)."


def test_a_poison_message_is_dead_lettered_with_its_reason(running: Platform) -> None:
    bus = LocalFileBus(running.bus_path)
    poison_id = f"poison-{uuid.uuid4()}"
    bus.send(
        "orders-queue",
        BusMessage(message_id=poison_id, subject="OrderCreated", body="{not json", session_id="x"),
    )

    def dead_letter() -> Any:
        running.check_alive()
        dead_letters = bus.peek("orders-queue", dead_letter=True)
        return next((m for m in dead_letters if m.message.message_id == poison_id), None)

    dead = eventually(dead_letter, "the poison message in orders-queue's dead letters")
    assert dead.dead_letter_reason == "MalformedMessage"
    assert "not JSON" in (dead.dead_letter_description or "")
    assert poison_id not in {m.message.message_id for m in bus.peek("orders-queue")}


def test_azurite_serves_blob_storage_on_loopback(running: Platform) -> None:
    answer = httpx.get(f"http://127.0.0.1:{running.blob_port}/devstoreaccount1?comp=list")
    assert answer.headers.get("server", "").startswith("Azurite-Blob/")
