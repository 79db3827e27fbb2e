"""One ETL run over one FIRDS file: stream, validate and load it in batches, all or nothing.

The file is read once as a stream; valid records are upserted in batches inside one
store transaction, which is rolled back if the file turns out to be malformed (a
truncated file is only known to be bad at its end), so nothing is half-written.
Loading is idempotent: the SQLite store keys instruments by ISIN and the file's
SHA-256, so re-running the same file writes nothing, and within one file an
instrument's first venue wins (FIRDS lists an instrument once per venue).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from workers_app.firds import FirdsFormatError, FirdsRecord, Reject, batched, iter_firds

REJECTS_KEPT = 1000


class InstrumentStore(Protocol):
    """Where a run loads instruments; returns how many rows it wrote."""

    def transaction(self) -> AbstractContextManager[None]:
        """Everything upserted inside is committed together, or rolled back on an error."""
        ...

    def upsert(self, file_sha256: str, batch: Sequence[FirdsRecord]) -> int: ...

    def record_run(self, report: RunReport) -> None: ...


@dataclass
class RunReport:
    """What a run did, as recorded for operators."""

    file: str
    sha256: str
    status: str = "running"
    records: int = 0
    valid: int = 0
    written: int = 0
    rejected: int = 0
    rejects: list[Reject] = field(default_factory=list)
    """The first REJECTS_KEPT rejects with their reasons (all are counted)."""
    error: str | None = None
    seconds: float = 0.0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _valid(path: Path, report: RunReport) -> Iterator[FirdsRecord]:
    """The file's valid records; counts every record and keeps the first rejects."""
    for item in iter_firds(path):
        report.records += 1
        if isinstance(item, Reject):
            report.rejected += 1
            if len(report.rejects) < REJECTS_KEPT:
                report.rejects.append(item)
        else:
            report.valid += 1
            yield item


def run_file(path: Path, store: InstrumentStore, batch_size: int = 5000) -> RunReport:
    """Validate and load one zipped FIRDS file; the report (also recorded) says what happened."""
    started = time.perf_counter()
    report = RunReport(file=path.name, sha256=file_sha256(path))
    try:
        with store.transaction():
            for batch in batched(_valid(path, report), batch_size):
                report.written += store.upsert(report.sha256, batch)
    except FirdsFormatError as exc:
        report.status, report.error = "rejected", str(exc)
        report.valid = report.written = 0
    else:
        report.status = "loaded"
    report.seconds = time.perf_counter() - started
    store.record_run(report)
    return report


class SqliteInstrumentStore:
    """Instruments in SQLite (tests and the benchmark; products-api owns them in Azure)."""

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
                sha256 TEXT NOT NULL,
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

    def upsert(self, file_sha256: str, batch: Sequence[FirdsRecord]) -> int:
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
        return self._db.total_changes - before

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
