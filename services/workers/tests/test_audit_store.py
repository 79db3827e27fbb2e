"""Shipping audit records into the immutable store, against Azurite (the conftest starts it)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError
from azure.storage.blob import BlobServiceClient

from platform_common.audit import AUDIT_SUBJECT, AuditEntry
from platform_common.local_bus import LocalFileBus
from platform_common.messaging import BusMessage
from workers_app.audit_store import CONFLICT, AuditBlobStore, ship_audit_record
from workers_app.local_runner import run_once, triggers
from workers_app.runtime import build_runtime
from workers_app.settings import WorkersSettings
from workers_app.settlement import MALFORMED, UNPROCESSABLE, Complete, DeadLetter, Retry

from .conftest import sb_message

AT = datetime(2026, 11, 30, 23, 59, 58, 250000, tzinfo=UTC)


def entry(**fields: Any) -> AuditEntry:
    values: dict[str, Any] = {
        "action": "order.create",
        "resource_type": "order",
        "resource_id": "o-1",
        "actor_id": "tom",
        "actor_roles": ("trader",),
        "status_code": 201,
        "after": {"email": "tom@example.com", "quantity": "10"},
        "occurred_at": AT,
        **fields,
    }
    return AuditEntry(**values)


@pytest.fixture
def store(azurite: str) -> AuditBlobStore:
    return AuditBlobStore.from_connection_string(azurite, f"audit-{uuid.uuid4().hex[:12]}")


def blobs(azurite: str, store: AuditBlobStore) -> list[Any]:
    container = BlobServiceClient.from_connection_string(azurite).get_container_client(
        store.container
    )
    return list(container.list_blobs(include=["metadata"]))


def test_a_record_lands_at_its_dated_path_with_its_bytes_and_metadata(
    azurite: str, store: AuditBlobStore
) -> None:
    record = entry(actor_id="jo ö@example.com", occurred_at=AT)
    body = record.body("orders")

    verdict = ship_audit_record(sb_message(body, message_id=record.id), store)

    name = f"2026/11/30/orders/{record.id}.json"
    assert verdict == Complete(f"audit record {record.id} stored as {name}")
    (blob,) = blobs(azurite, store)
    assert blob.name == name
    assert blob.content_settings.content_type == "application/json"
    assert blob.blob_type == "BlockBlob"
    assert store.read(name) == body.encode()
    # Header-safe metadata (percent-encoded), decoded by the store's listing.
    assert blob.metadata["actor"] == "jo%20%C3%B6@example.com"
    (listed,) = store.list("2026/11/30/")
    assert listed.metadata == {
        "service": "orders",
        "action": "order.create",
        "actor": "jo ö@example.com",
        "resource_type": "order",
        "resource_id": "o-1",
        "outcome": "success",
        "occurred_at": "2026-11-30T23:59:58.250000+00:00",
    }
    stored = json.loads(store.read(name))
    assert stored["changes"]["after"]["email"] != "tom@example.com"  # masked by the service


def test_the_write_is_a_conditional_put_that_never_overwrites(azurite: str) -> None:
    sent: list[Any] = []
    service = BlobServiceClient.from_connection_string(
        azurite, raw_request_hook=lambda request: sent.append(request.http_request)
    )
    store = AuditBlobStore(service, f"audit-{uuid.uuid4().hex[:12]}", create=True)
    body = entry().body("users")
    ship_audit_record(sb_message(body), store)
    ship_audit_record(sb_message(body), store)

    puts = [r for r in sent if r.method == "PUT" and "restype=container" not in r.url]
    assert len(puts) == 2
    assert all(r.headers["If-None-Match"] == "*" for r in puts)
    assert all(r.headers["x-ms-blob-type"] == "BlockBlob" for r in puts)
    assert not [r for r in sent if r.method == "DELETE"]


def test_the_path_is_the_utc_date_of_occurred_at(store: AuditBlobStore) -> None:
    record = json.loads(entry().body("payments"))
    record["occurred_at"] = "2026-12-01T00:30:00+02:00"  # 2026-11-30 22:30 UTC
    ship_audit_record(sb_message(json.dumps(record)), store)
    assert [b.name for b in store.list("")] == [f"2026/11/30/payments/{record['id']}.json"]


def test_a_redelivery_completes_without_a_second_write(azurite: str, store: AuditBlobStore) -> None:
    body = entry().body("orders")
    ship_audit_record(sb_message(body), store)
    (first,) = blobs(azurite, store)

    again = ship_audit_record(sb_message(body, delivery_count=2), store)

    assert isinstance(again, Complete)
    assert "already stored" in again.note
    (after,) = blobs(azurite, store)
    assert (after.etag, after.last_modified) == (first.etag, first.last_modified)


def test_a_different_record_under_the_same_id_dead_letters_and_the_stored_one_stays(
    azurite: str, store: AuditBlobStore
) -> None:
    original = entry()
    ship_audit_record(sb_message(original.body("orders")), store)
    (before,) = blobs(azurite, store)
    forged = entry(id=original.id, outcome="denied", status_code=403, after=None)

    verdict = ship_audit_record(sb_message(forged.body("orders")), store)

    assert isinstance(verdict, DeadLetter)
    assert verdict.reason == CONFLICT
    assert "never overwritten" in verdict.description
    (after,) = blobs(azurite, store)
    assert after.etag == before.etag
    assert store.read(after.name) == original.body("orders").encode()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: "{not json", "not JSON"),
        (lambda r: "[]", "JSON list, expected an object"),
        (lambda r: {**r, "schema": 2}, "schema 2 is not supported"),
        (lambda r: {**r, "id": "not-a-uuid"}, "id: Input should be a valid UUID"),
        (lambda r: {**r, "service": "billing"}, "service: Input should be 'users'"),
        (lambda r: {**r, "occurred_at": "2026-11-30T10:00:00"}, "occurred_at: Input should have"),
        (lambda r: {**r, "outcome": "ok"}, "outcome: Input should be 'success'"),
        (lambda r: {**r, "status_code": "201"}, "status_code: Input should be a valid integer"),
        (lambda r: {**r, "actor": {"id": "tom"}}, "actor.roles: Field required"),
        (lambda r: {**r, "resource": {"type": "", "id": None}}, "resource.type: String should"),
        (lambda r: {k: v for k, v in r.items() if k != "action"}, "action: Field required"),
        (lambda r: {**r, "note": "x"}, "note: Extra inputs are not permitted"),
    ],
)
def test_malformed_records_dead_letter_naming_what_is_wrong(
    store: AuditBlobStore, change: Any, problem: str
) -> None:
    changed = change(json.loads(entry().body("orders")))
    body = changed if isinstance(changed, str) else json.dumps(changed)

    verdict = ship_audit_record(sb_message(body), store)

    assert isinstance(verdict, DeadLetter)
    assert verdict.reason == MALFORMED
    assert problem in verdict.description, verdict.description
    assert list(store.list("")) == []


class FailingStore(AuditBlobStore):
    """The real store whose writes fail the way the storage service can."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.container = "audit-records"

    def append(self, name: str, body: bytes, metadata: Any) -> bool:
        raise self.error


def _http_error(status: int, code: str) -> HttpResponseError:
    error = HttpResponseError(message=f"{status} {code}")
    error.status_code, error.reason = status, code
    error.error_code = code  # type: ignore[attr-defined]  # azure-storage-blob sets it
    return error


def test_storage_outages_retry_and_the_records_fault_dead_letters() -> None:
    body = entry().body("orders")
    for error in (
        ServiceRequestError("connection refused"),
        _http_error(503, "ServerBusy"),
        _http_error(403, "AuthorizationPermissionMismatch"),
        _http_error(404, "ContainerNotFound"),
    ):
        assert isinstance(ship_audit_record(sb_message(body), FailingStore(error)), Retry), error
    refused = ship_audit_record(sb_message(body), FailingStore(_http_error(400, "InvalidMetadata")))
    assert isinstance(refused, DeadLetter)
    assert refused.reason == UNPROCESSABLE
    assert "InvalidMetadata" in refused.description


def test_without_a_store_records_wait_on_the_queue() -> None:
    verdict = ship_audit_record(sb_message(entry().body("orders")), None)
    assert isinstance(verdict, Retry)
    assert "AUDIT_BLOB_ACCOUNT_URL" in verdict.reason


def test_the_local_runner_ships_audit_queue_into_azurite(tmp_path: Path, azurite: str) -> None:
    container = f"audit-{uuid.uuid4().hex[:12]}"
    settings = WorkersSettings(
        messaging_mode="local-file",
        local_bus_path=str(tmp_path / "bus.db"),
        audit_blob_connection_string=azurite,  # type: ignore[arg-type]  # SecretStr from str
        audit_blob_container=container,
    )
    runtime = build_runtime(settings)
    bus = LocalFileBus(tmp_path / "bus.db")
    record = entry()
    bus.send(
        "audit-queue",
        BusMessage(message_id=record.id, subject=AUDIT_SUBJECT, body=record.body("orders")),
    )
    (shipper,) = [t for t in triggers(runtime) if t.function == "ship_audit_record"]

    assert isinstance(run_once(bus, shipper), Complete)

    assert runtime.audit is not None
    assert (
        runtime.audit.read(f"2026/11/30/orders/{record.id}.json") == record.body("orders").encode()
    )
    assert bus.peek("audit-queue") == []
