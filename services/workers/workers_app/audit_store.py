"""The immutable audit store: one block blob per audit record, written once, never replaced.

The services publish each record (platform_common.audit, schema 1) to audit-queue; the
`ship_audit_record` trigger validates it and appends it here as
`<yyyy>/<mm>/<dd>/<service>/<id>.json` (occurred_at's UTC date). The container has
version-level immutability in Azure (infra/audit): a blob cannot be overwritten or deleted
until its retention ends, so this module never tries either. Every write is a Put Blob
with If-None-Match: *; when the blob is there already, its bytes decide: identical means a
redelivery (complete), different means two records claim one id (dead-letter, the stored
one stays). Blob metadata repeats the fields operators filter on, so a search lists a
day's prefix with metadata instead of downloading every record.
https://learn.microsoft.com/azure/storage/blobs/immutable-version-level-worm-policies
https://learn.microsoft.com/rest/api/storageservices/specifying-conditional-headers-for-blob-service-operations
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import quote, unquote

import azure.functions as func
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError

from platform_common.audit import AUDIT_SCHEMA, Outcome
from workers_app.settlement import MALFORMED, UNPROCESSABLE, Complete, DeadLetter, Retry, Verdict

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient

AuditService = Literal["users", "products", "orders", "payments"]
AUDIT_SERVICES: tuple[AuditService, ...] = ("users", "products", "orders", "payments")
CONFLICT = "AuditRecordConflict"
# Blob metadata: at most 8 KiB of names and values per blob, values HTTP-header safe.
# https://learn.microsoft.com/rest/api/storageservices/setting-and-retrieving-properties-and-metadata-for-blob-resources
# The bounds below keep the six filter fields well under it even fully percent-encoded.
MAX_ACTOR_ID = 256
MAX_RESOURCE_ID = 512
MAX_NAME = 128
METADATA_FIELDS = ("service", "action", "actor", "resource_type", "resource_id", "outcome")
# Status codes the storage service answers for conditions that pass (throttling, outages,
# timeouts) or that an operator fixes (a missing grant or container): retried, then
# dead-lettered with the reason on the last delivery, replayable once fixed.
# https://learn.microsoft.com/rest/api/storageservices/blob-service-error-codes
RETRIED_STATUSES = frozenset({403, 404, 408, 429, 500, 502, 503, 504})

Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Actor(_Strict):
    id: Annotated[str, StringConstraints(min_length=1, max_length=MAX_ACTOR_ID)]
    roles: list[str]


class Resource(_Strict):
    type: Name
    id: Annotated[str, StringConstraints(max_length=MAX_RESOURCE_ID)] | None


class Changes(_Strict):
    before: dict[str, Any]
    after: dict[str, Any]


class AuditRecord(_Strict):
    """Schema 1 of platform_common.audit.AuditEntry.record(), as it travels on audit-queue."""

    schema_version: Literal[1] = Field(alias="schema")
    id: uuid.UUID
    service: AuditService
    occurred_at: AwareDatetime
    actor: Actor
    action: Name
    resource: Resource
    outcome: Outcome
    status_code: int = Field(ge=100, le=599)
    correlation_id: str | None
    changes: Changes | None
    details: dict[str, Any] | None

    @property
    def blob_name(self) -> str:
        """`<yyyy>/<mm>/<dd>/<service>/<id>.json`, dated by occurred_at in UTC."""
        day = self.occurred_at.astimezone(UTC)
        return f"{day:%Y/%m/%d}/{self.service}/{self.id}.json"

    def metadata(self) -> dict[str, str]:
        """The filter fields as blob metadata (percent-encoded: values must be header-safe)."""
        values = {
            "service": self.service,
            "action": self.action,
            "actor": self.actor.id,
            "resource_type": self.resource.type,
            "resource_id": self.resource.id,
            "outcome": self.outcome,
        }
        encoded = {name: encode(value) for name, value in values.items() if value is not None}
        encoded["occurred_at"] = self.occurred_at.astimezone(UTC).isoformat()
        return encoded


assert AUDIT_SCHEMA == 1, "AuditRecord validates schema 1; a new schema needs a new model"


def encode(value: str) -> str:
    """A metadata value: percent-encoded UTF-8, `@` kept so e-mail-like ids stay readable."""
    return quote(value, safe="@")


def decode(value: str) -> str:
    return unquote(value)


def parse_record(body: bytes) -> AuditRecord | DeadLetter:
    """The record, or a dead letter naming each field that is wrong."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return DeadLetter(MALFORMED, f"audit record is not JSON: {exc}")
    if not isinstance(raw, dict):
        return DeadLetter(
            MALFORMED, f"audit record is a JSON {type(raw).__name__}, expected an object"
        )
    if raw.get("schema") != AUDIT_SCHEMA:
        return DeadLetter(
            MALFORMED, f"audit record schema {raw.get('schema')!r} is not supported; allowed: 1"
        )
    try:
        return AuditRecord.model_validate_json(body)
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'record'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        return DeadLetter(MALFORMED, f"audit record schema 1: {problems}")


class AuditConflictError(RuntimeError):
    """A different record is already stored under this id (records are never overwritten)."""


@dataclass(frozen=True)
class StoredBlob:
    """One listed record: its name and decoded metadata."""

    name: str
    metadata: dict[str, str]

    @property
    def occurred_at(self) -> datetime | None:
        raw = self.metadata.get("occurred_at")
        try:
            return datetime.fromisoformat(raw) if raw else None
        except ValueError:
            return None


class AuditBlobStore:
    """The audit container through azure-storage-blob: the workers' identity, or Azurite."""

    def __init__(self, service: BlobServiceClient, container: str, *, create: bool) -> None:
        # In Azure infra/audit creates the container (with its immutability policy); only
        # Azurite starts empty, so only there is it created here.
        self._container = service.get_container_client(container)
        self.container = container
        self._create = create
        self._created = threading.Event()

    @classmethod
    def with_identity(
        cls, account_url: str, container: str, client_id: str | None
    ) -> AuditBlobStore:
        from azure.identity import DefaultAzureCredential
        from azure.storage.blob import BlobServiceClient

        credential = DefaultAzureCredential(managed_identity_client_id=client_id)
        return cls(BlobServiceClient(account_url, credential=credential), container, create=False)

    @classmethod
    def from_connection_string(cls, connection_string: str, container: str) -> AuditBlobStore:
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient.from_connection_string(connection_string)
        return cls(service, container, create=True)

    def _ensure_container(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        if not self._create or self._created.is_set():
            return
        with contextlib.suppress(ResourceExistsError):
            self._container.create_container()
        self._created.set()

    def append(self, name: str, body: bytes, metadata: Mapping[str, str]) -> bool:
        """Create the blob; True when written, False when the same bytes were there already.

        Raises AuditConflictError when different bytes are stored under the name.
        """
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
        from azure.storage.blob import ContentSettings

        self._ensure_container()
        blob = self._container.get_blob_client(name)
        try:
            blob.upload_blob(
                body,
                blob_type="BlockBlob",
                # overwrite=False makes the SDK send If-None-Match: * (no other condition is
                # given): created only if absent, else 409 BlobAlreadyExists.
                overwrite=False,
                content_settings=ContentSettings(content_type="application/json"),
                metadata=dict(metadata),
            )
            return True
        except (ResourceExistsError, ResourceModifiedError):
            stored = blob.download_blob().readall()
            if stored == body:
                return False
            raise AuditConflictError(
                f"{self.container}/{name} already holds a different record "
                f"({len(stored)} bytes stored, {len(body)} received); records are never "
                "overwritten"
            ) from None

    def read(self, name: str) -> bytes:
        return bytes(self._container.get_blob_client(name).download_blob().readall())

    def list(self, prefix: str) -> Iterator[StoredBlob]:
        """The blobs under `prefix` with their metadata (decoded), in name order."""
        self._ensure_container()
        for blob in self._container.list_blobs(name_starts_with=prefix, include=["metadata"]):
            metadata = {
                key: decode(value) if key in METADATA_FIELDS else value
                for key, value in (blob.metadata or {}).items()
            }
            yield StoredBlob(blob.name, metadata)


def ship_audit_record(message: func.ServiceBusMessage, store: AuditBlobStore | None) -> Verdict:
    """Validate the record and append it to the store; the verdict settles the message."""
    body = message.get_body()
    record = parse_record(body)
    if isinstance(record, DeadLetter):
        return record
    if store is None:
        return Retry(
            "no audit store configured: set AUDIT_BLOB_ACCOUNT_URL (Azure) or "
            "AUDIT_BLOB_CONNECTION_STRING (Azurite, ENVIRONMENT=local)"
        )
    return _append(store, record, body)


def _append(store: AuditBlobStore, record: AuditRecord, body: bytes) -> Verdict:
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    name = record.blob_name
    try:
        written = store.append(name, body, record.metadata())
    except AuditConflictError as exc:
        return DeadLetter(CONFLICT, str(exc))
    except (ServiceRequestError, ServiceResponseError) as exc:  # no answer, or a cut one
        return Retry(f"audit store unreachable writing {name}: {type(exc).__name__}: {exc}")
    except HttpResponseError as exc:
        code = getattr(exc, "error_code", None)  # set by azure-storage-blob on its errors
        text = f"audit store answered {exc.status_code} ({code}) writing {name}"
        if exc.status_code is None or exc.status_code in RETRIED_STATUSES:
            return Retry(text)
        return DeadLetter(UNPROCESSABLE, f"{text}: {exc.reason}")
    if written:
        return Complete(f"audit record {record.id} stored as {name}")
    return Complete(f"audit record {record.id} was already stored as {name} (redelivery)")
