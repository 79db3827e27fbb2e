"""ETL runs: a day's FIRDS files are listed and fanned out to etl-queue, one job per file.

The timer (and the operator) list the day's files in ESMA's register and queue one
`FirdsFileRequested` per file (message id derived from the file name, so a second run
of the same day queues the same ids). For each file, the etl-queue worker downloads it
from ESMA (streamed to a temporary file), stores the raw file in the staging container,
runs the existing all-or-nothing ETL over it (workers_app.etl: counts, rejects with
reasons, duration, recorded by the store), then moves the raw file to the archive
container under `loaded/` or `rejected/`. A file already archived as loaded is not
fetched again, and loading the same file twice writes nothing anyway (the store keys
rows by the file's SHA-256).
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

import azure.functions as func
import httpx

from platform_common.messaging import BusMessage, MessageBus
from workers_app.calls import derived_message_id
from workers_app.esma import FILE_NAME, EsmaError, FirdsFile, download, list_files
from workers_app.etl import InstrumentStore, RunReport, file_sha256, run_file
from workers_app.settlement import (
    MALFORMED,
    UNPROCESSABLE,
    Complete,
    DeadLetter,
    Retry,
    Verdict,
    parse_envelope,
)
from workers_app.staging import BlobStore

FILE_REQUEST = "FirdsFileRequested"
# Blob metadata of a staged and archived file: its SHA-256, so a skipped rerun names it.
SHA256_METADATA = "sha256"

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class EtlJob:
    """What a run needs: ESMA's register, the blob containers and the instrument store."""

    esma: httpx.Client
    blobs: BlobStore
    store: Callable[[], InstrumentStore]
    staging_container: str
    archive_container: str
    file_types: tuple[str, ...]
    max_file_bytes: int
    batch_size: int = 5000


@dataclass
class FileOutcome:
    file: str
    status: str
    """loaded | rejected | skipped (already archived as loaded)"""
    archived_as: str | None = None
    report: RunReport | None = None


@dataclass
class DayReport:
    day: date
    files: list[FileOutcome] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {
            "day": self.day.isoformat(),
            "files": [
                {
                    "file": f.file,
                    "status": f.status,
                    "archived_as": f.archived_as,
                    "records": f.report.records if f.report else 0,
                    "written": f.report.written if f.report else 0,
                    "rejected": f.report.rejected if f.report else 0,
                    "error": f.report.error if f.report else None,
                    "seconds": round(f.report.seconds, 3) if f.report else 0.0,
                }
                for f in self.files
            ],
        }


def archive_name(day: date, file: str, status: str) -> str:
    return f"{status}/{day.isoformat()}/{file}"


def run_day(job: EtlJob, day: date) -> DayReport:
    """Run every file of the day; raises EsmaError when the register or a download fails
    (the caller retries the whole day: finished files are skipped the next time)."""
    report = DayReport(day)
    files = list_files(job.esma, day, job.file_types)
    logger.info("FIRDS files listed", extra={"day": day.isoformat(), "files": len(files)})
    for file in files:
        report.files.append(_run_one(job, day, file))
    return report


def _run_one(job: EtlJob, day: date, file: FirdsFile) -> FileOutcome:
    loaded = archive_name(day, file.name, "loaded")
    if job.blobs.exists(job.archive_container, loaded):
        # Loaded before: not fetched again, but the rerun is recorded (it changed nothing).
        sha256 = job.blobs.metadata(job.archive_container, loaded).get(SHA256_METADATA)
        skipped = RunReport(file=file.name, sha256=sha256, status="skipped")
        skipped.finished_at = skipped.started_at
        _with_store(job, lambda store: store.record_run(skipped))
        return FileOutcome(file.name, "skipped", loaded, skipped)
    with tempfile.TemporaryDirectory(prefix="firds-") as work:
        local = download(job.esma, file, Path(work) / file.name, job.max_file_bytes)
        job.blobs.upload(
            job.staging_container, file.name, local, {SHA256_METADATA: file_sha256(local)}
        )
        result = _with_store(job, lambda store: run_file(local, store, job.batch_size))
    archived = archive_name(day, file.name, result.status)
    job.blobs.move(job.staging_container, file.name, job.archive_container, archived)
    logger.info(
        "FIRDS file %s",
        result.status,
        extra={
            "file": file.name,
            "records": result.records,
            "written": result.written,
            "rejected": result.rejected,
            "seconds": result.seconds,
        },
    )
    return FileOutcome(file.name, result.status, archived, result)


def _with_store(job: EtlJob, use: Callable[[InstrumentStore], T]) -> T:
    """A fresh store for one file's work, closed afterwards (it may hold a client)."""
    store = job.store()
    try:
        return use(store)
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()


def file_request(day: date, file: FirdsFile) -> BusMessage:
    """The etl-queue job of one file, in the platform's event envelope."""
    message_id = derived_message_id(FILE_REQUEST, day.isoformat(), file.name)
    body = {
        "type": FILE_REQUEST,
        "id": message_id,
        "aggregate_id": file.name,
        "aggregate_version": 0,
        "data": {
            "day": day.isoformat(),
            "file_name": file.name,
            "download_link": file.url,
            "file_type": file.file_type,
            "published": file.published,
        },
    }
    return BusMessage(
        message_id=message_id,
        subject=FILE_REQUEST,
        body=json.dumps(body, sort_keys=True),
        correlation_id=day.isoformat(),
    )


def fan_out_day(job: EtlJob, day: date, bus: MessageBus, queue: str) -> list[FirdsFile]:
    """Start the day's run: one etl-queue job per file of the day (raises EsmaError)."""
    files = list_files(job.esma, day, job.file_types)
    for file in files:
        bus.send(queue, file_request(day, file))
    logger.info("FIRDS run started", extra={"day": day.isoformat(), "files": len(files)})
    return files


def handle_file_request(  # noqa: PLR0911  # one return per way a message settles
    message: func.ServiceBusMessage, job: EtlJob
) -> Verdict:
    """Run one queued file; an outage is retried, a bad job or file is never lost."""
    envelope = parse_envelope(message)
    if isinstance(envelope, DeadLetter):
        return envelope
    if envelope.type != FILE_REQUEST:
        return DeadLetter(MALFORMED, f"{envelope.type!r} is not {FILE_REQUEST}")
    data = envelope.data
    name, link = data.get("file_name"), data.get("download_link")
    try:
        day = date.fromisoformat(str(data.get("day")))
    except ValueError:
        return DeadLetter(MALFORMED, f"day {data.get('day')!r} is not an ISO date (YYYY-MM-DD)")
    if not isinstance(name, str) or not FILE_NAME.match(name):
        return DeadLetter(MALFORMED, f"file_name {name!r} is not a FIRDS file name")
    if (
        not isinstance(link, str)
        or not link.startswith(("https://", "http://"))
        or not link.endswith("/" + name)
    ):
        return DeadLetter(MALFORMED, f"download_link {link!r} is not an http(s) link to {name}")
    file = FirdsFile(name, link, str(data.get("file_type")), str(data.get("published")))
    try:
        outcome = _run_one(job, day, file)
    except EsmaError as exc:
        return Retry(str(exc)) if exc.transient else DeadLetter(UNPROCESSABLE, str(exc))
    if outcome.status == "rejected" and outcome.report is not None:
        return Complete(
            f"{name} rejected: {outcome.report.error} (archived as {outcome.archived_as})"
        )
    return Complete(f"{name} {outcome.status} (archived as {outcome.archived_as})")
