"""ETL loads into products-api: batches through `PUT /internal/v1/instruments:batch`.

Each batch is one transaction in products-api and an idempotent upsert, so a batch that
timed out or hit a transient failure is simply sent again (tenacity, exponential backoff):
if it had landed, the repeat answers `unchanged`. A 409 (another batch created one of the
ISINs concurrently) is retried the same way. Any other 4xx means the batch itself is wrong
and ends the run. Within one run an instrument's first venue wins: ISINs already sent are
kept in a temporary on-disk SQLite set, so memory stays flat however large the file.
When the run ends it is recorded with products-api (`POST /internal/v1/etl-runs`: counts,
rejects with reasons, duration, file name and hash, outcome), which keeps it for operators
(`GET /v1/etl-runs`); the run's UUID makes a retried report land once.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from workers_app.calls import TRANSIENT_STATUSES, service_client
from workers_app.etl import REJECTS_KEPT, LoadError, RunReport, Upserted, run_file
from workers_app.firds import FirdsRecord
from workers_app.settings import WorkersSettings

LOAD_PATH = "/internal/v1/instruments:batch"
RUNS_PATH = "/internal/v1/etl-runs"
# products-api refuses bodies over MAX_REQUEST_BODY_BYTES (1 MiB by default): a run record's
# rejects stay well under it, however long their reasons.
REJECTS_BUDGET_BYTES = 512 * 1024
# A repeat of an idempotent batch is safe; a racing create (409) is settled by sending again.
_RETRIED_STATUSES = TRANSIENT_STATUSES | {409}
logger = logging.getLogger(__name__)


class _TransientLoadError(Exception):
    """A batch worth sending again."""


class ProductsInstrumentStore:
    """Loads a run's batches into products-api (not atomic across batches: see etl)."""

    atomic = False

    def __init__(
        self,
        client: httpx.Client,
        *,
        max_attempts: int,
        backoff_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
    ) -> None:
        self._client = client
        self._retrying = Retrying(
            retry=retry_if_exception_type(_TransientLoadError),
            stop=stop_after_attempt(max_attempts),
            wait=wait_exponential(multiplier=backoff_seconds, max=backoff_max_seconds),
            reraise=True,
        )
        self._seen: sqlite3.Connection | None = None

    def close(self) -> None:
        """The run is over: release the HTTP client (the ETL job calls this after a file)."""
        self._client.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with tempfile.TemporaryDirectory(prefix="etl-seen-") as tmp:
            self._seen = sqlite3.connect(Path(tmp) / "seen.db", isolation_level=None)
            self._seen.execute("CREATE TABLE seen (isin TEXT PRIMARY KEY) WITHOUT ROWID")
            try:
                yield
            finally:
                self._seen.close()
                self._seen = None

    def _first_seen(self, batch: Sequence[FirdsRecord]) -> list[int]:
        """Indexes of the batch's records whose ISIN this run has not sent before."""
        assert self._seen is not None, "upsert outside transaction()"
        fresh: list[int] = []
        for index, record in enumerate(batch):
            cursor = self._seen.execute(
                "INSERT INTO seen (isin) VALUES (?) ON CONFLICT DO NOTHING", (record.isin,)
            )
            if cursor.rowcount == 1:
                fresh.append(index)
        return fresh

    def upsert(self, file_sha256: str, batch: Sequence[FirdsRecord]) -> Upserted:
        fresh = self._first_seen(batch)
        if not fresh:
            return Upserted(0)
        items = [_item(batch[index]) for index in fresh]
        try:
            body = self._retrying(self._send, items)
        except _TransientLoadError as exc:
            raise LoadError(f"batch of {len(items)} not loaded after retries: {exc}") from exc
        rejects = tuple(
            (fresh[int(reject["index"])], str(reject["reason"])) for reject in body["rejected"]
        )
        return Upserted(int(body["created"]) + int(body["updated"]), rejects)

    def _send(self, items: list[dict[str, str]]) -> dict[str, Any]:
        try:
            response = self._client.put(LOAD_PATH, json={"items": items})
        except httpx.TransportError as exc:  # timeouts are transport errors too
            raise _TransientLoadError(f"PUT {LOAD_PATH}: {type(exc).__name__}: {exc}") from exc
        if response.status_code in _RETRIED_STATUSES:
            raise _TransientLoadError(f"PUT {LOAD_PATH} -> {response.status_code}")
        if response.status_code != 200:
            raise LoadError(f"PUT {LOAD_PATH} -> {response.status_code}: {response.text[:300]}")
        body: dict[str, Any] = response.json()
        return body

    def record_run(self, report: RunReport) -> None:
        """Record the run with products-api (retried like a batch: the run id makes it once)."""
        body = run_record(report)
        try:
            self._retrying(self._post_run, body)
        except _TransientLoadError as exc:
            raise RecordError(f"run {report.run_id} not recorded after retries: {exc}") from exc
        level = logging.INFO if report.status in ("loaded", "skipped") else logging.WARNING
        summary = {k: v for k, v in body.items() if k != "rejects"}
        logger.log(level, "ETL run %s: %s", report.status, report.file, extra={"run": summary})

    def _post_run(self, body: dict[str, Any]) -> None:
        try:
            response = self._client.post(RUNS_PATH, json=body)
        except httpx.TransportError as exc:
            raise _TransientLoadError(f"POST {RUNS_PATH}: {type(exc).__name__}: {exc}") from exc
        if response.status_code in TRANSIENT_STATUSES:
            raise _TransientLoadError(f"POST {RUNS_PATH} -> {response.status_code}")
        if response.status_code not in (200, 201):
            raise RecordError(f"POST {RUNS_PATH} -> {response.status_code}: {response.text[:300]}")


class RecordError(RuntimeError):
    """products-api did not record the run; the delivery is retried (loads are idempotent)."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: str, limit: int) -> str:
    """Free text as products-api stores it: no control characters, at most `limit` long."""
    return _CONTROL.sub("?", value)[:limit]


def run_record(report: RunReport) -> dict[str, Any]:
    """The run as products-api's `POST /internal/v1/etl-runs` takes it."""
    finished = report.finished_at or report.started_at
    return {
        "id": report.run_id,
        "file_name": report.file,
        "file_sha256": report.sha256,
        "outcome": report.status,
        "records": report.records,
        "valid": report.valid,
        "written": report.written,
        "rejected": report.rejected,
        "batches": report.batches,
        "error": _text(report.error, 2000) if report.error else None,
        "duration_ms": round(report.seconds * 1000),
        "started_at": report.started_at.isoformat(),
        "finished_at": max(finished, report.started_at).isoformat(),
        "rejects": _rejects_within_budget(report),
    }


def _rejects_within_budget(report: RunReport) -> list[dict[str, Any]]:
    """The kept rejects, as many as fit REJECTS_BUDGET_BYTES (`rejected` counts them all)."""
    kept: list[dict[str, Any]] = []
    size = 0
    for reject in report.rejects[:REJECTS_KEPT]:
        item = {
            "position": reject.position,
            "isin": _text(reject.isin, 64) if reject.isin else None,
            "reason": _text(reject.reason, 1000) or "rejected",
        }
        size += len(json.dumps(item)) + 2
        if size > REJECTS_BUDGET_BYTES:
            break
        kept.append(item)
    return kept


def _item(record: FirdsRecord) -> dict[str, str]:
    return {
        "isin": record.isin,
        "full_name": record.full_name,
        "cfi_code": record.cfi_code,
        "issuer_lei": record.issuer_lei,
        "currency": record.currency,
        "venue_mic": record.venue_mic,
    }


def load_file(
    path: Path, settings: WorkersSettings, transport: httpx.BaseTransport | None = None
) -> RunReport:
    """One ETL run of a staged FIRDS file into products-api, as the workers' identity."""
    # products-api's load route takes admin plus the WORKERS_CALLER_ID it is configured with.
    with service_client(
        settings.products_api_base_url,
        settings.workers_caller_id,
        ("admin",),
        settings.http_timeout_seconds,
        transport=transport,
    ) as client:
        store = ProductsInstrumentStore(client, max_attempts=settings.etl_load_max_attempts)
        return run_file(path, store, batch_size=settings.etl_load_batch_size)
