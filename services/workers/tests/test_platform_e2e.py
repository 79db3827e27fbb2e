"""End to end over real processes: `run_platform.start_platform` on loopback with free ports.

Every API call goes through the local gateway as a client would: HTTP Basic credentials
of a seeded user and the subscription key. An order created over HTTP is risk-checked by
the workers' local runner, filled through the simulated venue (the admin fills endpoint),
settled by payments and notified through users-api, all via the shared local-file bus; a
poison message lands in orders-queue's dead-letter sub-queue with its reason; a FIRDS file
job on etl-queue is downloaded (from a loopback file server standing in for ESMA's), staged
and archived in Azurite, loaded into products-api and recorded there, and a rerun changes
nothing; audit records on audit-queue land in Azurite's audit-records container, where the
operator search finds them. A trader with an order, fills, a settlement and notifications is
erased by an admin: once the workers have propagated it, no text column of the four
databases holds the trader's id, e-mail or name, the order and settlement remain under the
pseudonym, and the same request again changes no row anywhere. Every wait is bounded; the
processes are stopped.
"""

from __future__ import annotations

import functools
import io
import json
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import azure.functions as func
import httpx
import pytest
import sqlalchemy as sa
from azure.storage.blob import BlobServiceClient

from platform_common.audit import AUDIT_SUBJECT, AuditEntry
from platform_common.local_bus import LocalFileBus
from platform_common.messaging import BusMessage
from platform_common.testing import database_rows, rows_holding
from run_local import PORTS, SEED_USERS
from run_platform import (
    LOCAL_SUBSCRIPTION_KEY,
    Platform,
    azurite_connection_string,
    free_port,
    start_platform,
)
from workers_app.audit_store import AuditBlobStore
from workers_app.esma import FirdsFile
from workers_app.etl_day import file_request
from workers_app.operator_api import search_audit_records

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


SERVICES = ("users", "products", "orders", "payments")


def _unpublished_events(running: Platform) -> int:
    """Events still in an outbox (audit records aside: every admin read of the poll below
    writes one, so they are never all out)."""
    total = 0
    for service in SERVICES:
        engine = sa.create_engine(running.database_url(service))
        with engine.connect() as conn:
            total += int(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM outbox "
                        "WHERE published_at IS NULL AND subject != 'AuditRecord'"
                    )
                ).scalar_one()
            )
        engine.dispose()
    return total


def _trader_with_history(
    running: Platform, http: httpx.Client, *, tag: str, user_id: str, email: str, name: str
) -> tuple[str, str]:
    """A new trader with a filled order, its settled settlement and two notifications."""
    password = f"erasable passphrase {tag}"
    erin = httpx.BasicAuth(email, password)
    account = {"id": user_id, "display_name": name, "email": email, "roles": ["trader"]}
    assert http.post("/users/v1/users", json=account, auth=ADMIN).status_code == 201
    put = http.put(f"/users/v1/users/{user_id}/password", json={"password": password}, auth=ADMIN)
    assert put.status_code == 204, put.text
    created = http.post(
        "/orders/v1/orders",
        json={
            "isin": "US0378331005",
            "side": "buy",
            "order_type": "limit",
            "quantity": "5",
            "limit_price": "189.50",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
        auth=erin,
    )
    assert created.status_code == 201, created.text
    order_url = f"/orders/v1/orders/{created.json()['id']}"

    def checked() -> dict[str, Any] | None:
        running.check_alive()
        order: dict[str, Any] = http.get(order_url, auth=erin).json()
        return None if order["status"] == "NEW" else order

    risk_checked = eventually(checked, "the risk check")
    assert risk_checked["status"] == "ACCEPTED", risk_checked.get("reject_reason")
    fill = {"venue_fill_id": f"venue-{tag}", "quantity": "5", "price": "189.40"}
    assert http.post(f"{order_url}/fills", json=fill, auth=ADMIN).status_code == 200

    def settlement() -> dict[str, Any] | None:
        page = http.get(
            "/payments/v1/settlements", params={"order_id": created.json()["id"]}, auth=ADMIN
        ).json()
        items: list[dict[str, Any]] = page["items"]
        return items[0] if items else None

    settlement_id = eventually(settlement, "the settlement")["id"]
    settled = http.post(f"/payments/v1/settlements/{settlement_id}/settle", auth=ADMIN)
    assert settled.status_code == 200, settled.text

    def notified() -> list[Any] | None:
        items: list[Any] = http.get("/users/v1/me/notifications", auth=erin).json()["items"]
        titles = {n["title"] for n in items}
        return items if {"Order filled", "Settlement done"} <= titles else None

    eventually(notified, "Erin's notifications")
    return order_url, settlement_id


def test_an_erased_trader_is_gone_from_every_database_and_a_rerun_changes_nothing(
    running: Platform,
) -> None:
    tag = uuid.uuid4().hex[:10]
    user_id, email, name = f"erin-{tag}", f"erin.{tag}@example.com", f"Erin Q{tag}"
    with httpx.Client(base_url=running.gateway_url, headers=KEY, timeout=10) as http:
        order_url, settlement_id = _trader_with_history(
            running, http, tag=tag, user_id=user_id, email=email, name=name
        )
        # Only an admin may erase; an unknown user is a 404 naming the id.
        assert http.post(f"/users/v1/users/{user_id}/erasure", auth=TRADER).status_code == 403
        unknown = http.post(f"/users/v1/users/nobody-{tag}/erasure", auth=ADMIN)
        assert unknown.status_code == 404
        assert f"nobody-{tag}" in unknown.json()["detail"]
        # Through the gateway an admin cannot reach the workers' internal route at all.
        spoof = {"user_id": user_id, "pseudonym": "erased-" + "0" * 32}
        assert http.post("/orders/internal/v1/erasures", json=spoof, auth=ADMIN).status_code == 404

        erased = http.post(f"/users/v1/users/{user_id}/erasure", auth=ADMIN)
        assert erased.status_code == 200, erased.text
        pseudonym = erased.json()["pseudonym"]

        def finished() -> dict[str, Any] | None:
            running.check_alive()
            record: dict[str, Any] = http.get(
                f"/users/v1/users/{user_id}/erasure", auth=ADMIN
            ).json()
            done = record["completed_at"] is not None
            return record if done and _unpublished_events(running) == 0 else None

        eventually(finished, "the workers to propagate the erasure")
        assert http.get(order_url, auth=ADMIN).json()["user_id"] == pseudonym
        kept = http.get(f"/payments/v1/settlements/{settlement_id}", auth=ADMIN).json()
        assert (kept["user_id"], kept["status"]) == (pseudonym, "SETTLED")
        for service in SERVICES:
            url = running.database_url(service)
            assert rows_holding(url, user_id, email, name) == [], service

        # The same request again: the same answer, and not one row anywhere changes (but for
        # the audit record of the repeat).
        before = {
            service: database_rows(running.database_url(service), audit=False)
            for service in SERVICES
        }
        again = http.post(f"/users/v1/users/{user_id}/erasure", auth=ADMIN)
        assert again.status_code == 200
        assert again.json() == erased.json()
        time.sleep(2.5)  # an outbox pass (2 s) would have published anything written
        after = {
            service: database_rows(running.database_url(service), audit=False)
            for service in SERVICES
        }
        assert after == before


FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIRDS = "FULINS_E_20261130_01of01.zip"


class _Downloads(SimpleHTTPRequestHandler):
    """Serves the directory and counts the GETs (no access log on stderr)."""

    served: list[str]

    def do_GET(self) -> None:
        self.served.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
        return None


@pytest.fixture
def esma_files(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """ESMA's download host on loopback: one zipped fixture; yields its URL and the GETs."""
    with zipfile.ZipFile(tmp_path / FIRDS, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(FIXTURES / "FULINS_E_20261130_01of01.xml", "FULINS_E_20261130_01of01.xml")
    served: list[str] = []
    handler = type("Handler", (_Downloads,), {"served": served})
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{FIRDS}", served
    finally:
        server.shutdown()
        server.server_close()


def test_an_etl_job_stages_archives_loads_and_records_and_a_rerun_changes_nothing(
    running: Platform, esma_files: tuple[str, list[str]]
) -> None:
    url, served = esma_files
    bus = LocalFileBus(running.bus_path)
    job = file_request(date(2026, 11, 30), FirdsFile(FIRDS, url, "FULINS", "2026-11-30"))
    products = "/products"  # through the local gateway, as an operator would
    blobs = BlobServiceClient.from_connection_string(azurite_connection_string(running.blob_port))
    archived = f"loaded/2026-11-30/{FIRDS}"

    def recorded(outcome: str) -> Callable[[], dict[str, Any] | None]:
        def probe() -> dict[str, Any] | None:
            running.check_alive()
            page = http.get(
                f"{products}/v1/etl-runs",
                params={"file_name": FIRDS, "outcome": outcome},
                auth=ADMIN,
            ).json()
            items: list[dict[str, Any]] = page["items"]
            return items[0] if items else None

        return probe

    with httpx.Client(base_url=running.gateway_url, headers=KEY, timeout=10) as http:
        bus.send("etl-queue", job)
        loaded = eventually(recorded("loaded"), "the ETL run record in products-api")
        assert (loaded["records"], loaded["written"], loaded["rejected"]) == (6, 2, 3)
        run = http.get(f"{products}/v1/etl-runs/{loaded['id']}", auth=ADMIN).json()
        assert len(run["rejects"]) == 3
        assert all(r["reason"] for r in run["rejects"])
        siemens = http.get(f"{products}/v1/instruments/DE0007236101", auth=ADMIN).json()
        assert siemens["full_name"] == "Siemens AG Namens-Aktien o.N."

        # The raw file was staged, then archived in Azurite (the staging container is empty).
        def archived_blob() -> Any:
            names = [b.name for b in blobs.get_container_client("archive").list_blobs()]
            return names if archived in names else None

        assert eventually(archived_blob, "the archived file in Azurite") == [archived]
        assert [b.name for b in blobs.get_container_client("raw").list_blobs()] == []
        blob = blobs.get_blob_client("archive", archived)
        before = blob.get_blob_properties()
        assert before.metadata == {"sha256": loaded["file_sha256"]}
        content = blob.download_blob().readall()
        assert zipfile.ZipFile(io.BytesIO(content)).namelist() == ["FULINS_E_20261130_01of01.xml"]
        instruments = http.get(f"{products}/v1/instruments", auth=ADMIN).json()

        # Rerun (a new job for the same file): recorded, nothing fetched, loaded or archived.
        bus.send("etl-queue", replace(job, message_id=f"rerun-{uuid.uuid4()}"))
        skipped = eventually(recorded("skipped"), "the rerun's record")
        assert (skipped["written"], skipped["file_sha256"]) == (0, loaded["file_sha256"])
        assert blob.get_blob_properties().etag == before.etag
        assert served == [f"/{FIRDS}"]  # downloaded once, by the first run only
        assert http.get(f"{products}/v1/instruments", auth=ADMIN).json() == instruments


def operator_search(running: Platform, **params: str) -> list[dict[str, Any]]:
    """The operator trigger's handler over the platform's Azurite (the local runner drives no
    HTTP triggers), as the Functions host would call it."""
    store = AuditBlobStore.from_connection_string(
        azurite_connection_string(running.blob_port), "audit-records"
    )
    request = func.HttpRequest("GET", "/api/operator/audit-records", body=b"", params=params)
    answer = search_audit_records(request, store, datetime.now(UTC))
    assert answer.status_code == 200, answer.get_body()
    items: list[dict[str, Any]] = json.loads(answer.get_body())["items"]
    return items


def test_an_audit_record_on_audit_queue_lands_in_azurite_and_is_found(running: Platform) -> None:
    entry = AuditEntry(
        action="user.update",
        resource_type="user",
        resource_id="ann",
        actor_id="admin",
        actor_roles=("admin",),
        before={"display_name": "Ann"},
        after={"display_name": "Ann B."},
    )
    body = entry.body("users")
    # As the users outbox dispatcher publishes it: message id = the record's id.
    LocalFileBus(running.bus_path).send(
        "audit-queue", BusMessage(message_id=entry.id, subject=AUDIT_SUBJECT, body=body)
    )
    blobs = BlobServiceClient.from_connection_string(azurite_connection_string(running.blob_port))
    name = f"{entry.occurred_at:%Y/%m/%d}/users/{entry.id}.json"

    def stored() -> bytes | None:
        running.check_alive()
        blob = blobs.get_blob_client("audit-records", name)
        return bytes(blob.download_blob().readall()) if blob.exists() else None

    assert eventually(stored, "the audit record in Azurite") == body.encode()
    found = operator_search(running, actor="admin", resource_type="user", resource_id="ann")
    assert [item["id"] for item in found] == [entry.id]


def test_a_write_through_the_gateway_produces_its_audit_record(running: Platform) -> None:
    with httpx.Client(base_url=running.gateway_url, headers=KEY, timeout=10) as http:
        created = http.post(
            "/orders/v1/orders",
            json={
                "isin": "US0378331005",
                "side": "buy",
                "order_type": "limit",
                "quantity": "1",
                "limit_price": "189.50",
            },
            headers={"Idempotency-Key": str(uuid.uuid4()), "X-Correlation-Id": "e2e-audit-1"},
            auth=TRADER,
        )
        assert created.status_code == 201, created.text
    order_id = created.json()["id"]

    def found() -> list[dict[str, Any]] | None:
        running.check_alive()
        items = operator_search(running, actor="tom", resource_type="order", resource_id=order_id)
        return items or None

    (record,) = eventually(found, "the order's audit record in Azurite", timeout=20)
    assert (record["service"], record["outcome"]) == ("orders", "success")
    assert record["actor"]["roles"] == ["trader"]
    assert record["correlation_id"] == "e2e-audit-1"
