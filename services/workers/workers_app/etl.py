"""One ETL run over one FIRDS file: stream, validate and load it in batches, all or nothing.

All or nothing means: a malformed file (a truncated one is only known to be bad at its
end) writes nothing, and a run is recorded `loaded` only when every batch landed.
- An atomic store (SQLite: one transaction over all batches) is loaded in one pass and
  rolled back if the file proves malformed.
- products-api (one transaction per batch, `ProductsInstrumentStore`) cannot roll back
  earlier batches, so the whole file is validated in a first streaming pass before any
  batch is sent; a batch that still fails after its retries ends the run `failed`, with
  the batches that landed counted. Loads are idempotent upserts, so re-running the file
  converges: landed batches answer `unchanged`, the rest are written.
Within one file an instrument's first venue wins (FIRDS lists an instrument once per
venue), so re-running the same file writes nothing.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from workers_app.firds import FirdsFormatError, FirdsRecord, Reject, batched, iter_firds

REJECTS_KEPT = 1000


class LoadError(RuntimeError):
    """A batch could not be loaded (after retries); the run ends `failed`."""


@dataclass(frozen=True, slots=True)
class Upserted:
    """What the store did with one batch."""

    written: int
    rejects: tuple[tuple[int, str], ...] = ()
    """(index in the batch, reason) of records the store refused."""


class InstrumentStore(Protocol):
    """Where a run loads instruments."""

    @property
    def atomic(self) -> bool:
        """True when transaction() can roll back every batch of the run."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """A run's batches; committed together (atomic) or each on its own (not atomic)."""
        ...

    def upsert(self, file_sha256: str, batch: Sequence[FirdsRecord]) -> Upserted: ...

    def record_run(self, report: RunReport) -> None: ...


@dataclass
class RunReport:
    """What a run did, as recorded for operators."""

    file: str
    sha256: str | None
    """None only for a skipped run whose archived copy carries no hash."""
    status: str = "running"
    """running, then loaded | rejected | failed (run_file) or skipped (etl_day)"""
    records: int = 0
    valid: int = 0
    written: int = 0
    rejected: int = 0
    rejects: list[Reject] = field(default_factory=list)
    """The first REJECTS_KEPT rejects with their reasons (all are counted)."""
    error: str | None = None
    batches: int = 0
    """Batches that landed (all of them when loaded)."""
    seconds: float = 0.0
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    """Unique per run: products-api records a run once however often it is reported."""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _valid(path: Path, report: RunReport) -> Iterator[tuple[int, FirdsRecord]]:
    """The file's valid records with their positions; counts every record, keeps rejects."""
    for item in iter_firds(path):
        report.records += 1
        if isinstance(item, Reject):
            _reject(report, item)
        else:
            report.valid += 1
            yield report.records, item


def _reject(report: RunReport, reject: Reject) -> None:
    report.rejected += 1
    if len(report.rejects) < REJECTS_KEPT:
        report.rejects.append(reject)


def run_file(path: Path, store: InstrumentStore, batch_size: int = 5000) -> RunReport:
    """Validate and load one zipped FIRDS file; the report (also recorded) says what happened."""
    started = time.perf_counter()
    sha256 = file_sha256(path)
    report = RunReport(file=path.name, sha256=sha256)
    try:
        if not store.atomic:
            # Batches cannot be rolled back: prove the whole file well-formed first (a bad
            # file's report keeps what was read up to the fault), then count again as loaded.
            for _ in _valid(path, report):
                pass
            report.records = report.valid = report.rejected = 0
            report.rejects.clear()
        with store.transaction():
            for batch in batched(_valid(path, report), batch_size):
                records = [record for _, record in batch]
                result = store.upsert(sha256, records)
                report.written += result.written
                report.batches += 1
                for index, reason in result.rejects:
                    report.valid -= 1
                    _reject(report, Reject(batch[index][0], records[index].isin, reason))
    except FirdsFormatError as exc:
        report.status, report.error = "rejected", str(exc)
        report.valid = report.written = report.batches = 0
    except LoadError as exc:
        report.status, report.error = "failed", str(exc)
    else:
        report.status = "loaded"
    report.seconds = time.perf_counter() - started
    report.finished_at = datetime.now(UTC)
    store.record_run(report)
    return report


class SqliteInstrumentStore:
    """Instruments in SQLite (tests and the benchmark; products-api owns them in Azure)."""

    atomic = True

    def __init__(self, path: Path | str) -> None:
        # Autocommit mode: transactions are explicit (transaction(), record_run).
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.executescript(
            """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS instruments (
                isin TEXT PRIMARY KEY,
                full_name TEXT NOT NULL,
                cfi_code TEXT NOT NULL,
                currency TEXT NOT NULL,
                issuer_lei TEXT NOT NULL,
                venue_mic TEXT NOT NULL,
                file_sha256 TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS etl_runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                file TEXT NOT NULL,
                sha256 TEXT,
                status TEXT NOT NULL,
                records INTEGER NOT NULL,
                written INTEGER NOT NULL,
                rejected INTEGER NOT NULL,
                error TEXT,
                seconds REAL NOT NULL
            );
            CREATE TABLE IF NOT EXISTS etl_rejects (
                run_id INTEGER NOT NULL REFERENCES etl_runs(id),
                position INTEGER NOT NULL,
                isin TEXT,
                reason TEXT NOT NULL
            );
            """
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def upsert(self, file_sha256: str, batch: Sequence[FirdsRecord]) -> Upserted:
        rows = [
            (r.isin, r.full_name, r.cfi_code, r.currency, r.issuer_lei, r.venue_mic, file_sha256)
            for r in batch
        ]
        before = self._db.total_changes
        # A row is rewritten only by another file: the same file again writes nothing,
        # and a later venue of the same instrument in this file does not replace the first.
        self._db.executemany(
            """
            INSERT INTO instruments
                (isin, full_name, cfi_code, currency, issuer_lei, venue_mic, file_sha256)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (isin) DO UPDATE SET
                full_name = excluded.full_name,
                cfi_code = excluded.cfi_code,
                currency = excluded.currency,
                issuer_lei = excluded.issuer_lei,
                venue_mic = excluded.venue_mic,
                file_sha256 = excluded.file_sha256
            WHERE instruments.file_sha256 != excluded.file_sha256
            """,
            rows,
        )
        return Upserted(self._db.total_changes - before)

    def record_run(self, report: RunReport) -> None:
        with self.transaction():
            cursor = self._db.execute(
                "INSERT INTO etl_runs (file, sha256, status, records, written, rejected, error,"
                " seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    report.file,
                    report.sha256,
                    report.status,
                    report.records,
                    report.written,
                    report.rejected,
                    report.error,
                    report.seconds,
                ),
            )
            self._db.executemany(
                "INSERT INTO etl_rejects (run_id, position, isin, reason) VALUES (?, ?, ?, ?)",
                [(cursor.lastrowid, r.position, r.isin, r.reason) for r in report.rejects],
            )

    def count(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM instruments").fetchone()
        return int(row[0])

    def close(self) -> None:
        self._db.close()
