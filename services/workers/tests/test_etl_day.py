"""An ETL run of a day: ESMA's register mocked at the transport, blobs in Azurite or memory."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import azure.functions as func
import httpx
import pytest

from platform_common.local_bus import LocalFileBus
from run_platform import AZURITE, azurite_connection_string, free_port, start_azurite, wait_http
from workers_app.esma import SOLR_PATH, EsmaError, FirdsFile, list_files
from workers_app.etl import SqliteInstrumentStore
from workers_app.etl_day import EtlJob, file_request, handle_file_request, run_day
from workers_app.local_runner import LocalTrigger, run_once
from workers_app.settlement import Complete, Verdict
from workers_app.staging import AzureBlobStore, BlobStore, InMemoryBlobStore

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SERVICES = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 30)
GOOD, BAD = "FULINS_E_20261130_01of02.zip", "FULINS_E_20261130_02of02.zip"


def _zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(FIXTURES / source, arcname=source)
    return buffer.getvalue()


class Esma:
    """The register's solr core and its download host, as a MockTransport handler."""

    def __init__(self, files: dict[str, bytes], page: int = 100) -> None:
        self.files, self.page = files, page
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == SOLR_PATH:
            start = int(request.url.params["start"])
            rows = int(request.url.params["rows"])
            names = sorted(self.files)
            docs = [
                {
                    "file_name": n,
                    "file_type": "FULINS",
                    "publication_date": "2026-11-30T00:00:00Z",
                    "download_link": f"https://firds.esma.europa.eu/firds/{n}",
                }
                for n in names[start : start + min(rows, self.page)]
            ]
            return httpx.Response(
                200, json={"response": {"numFound": len(names), "start": start, "docs": docs}}
            )
        name = request.url.path.rsplit("/", 1)[-1]
        if request.url.host == "firds.esma.europa.eu" and name in self.files:
            return httpx.Response(200, content=self.files[name])
        return httpx.Response(404)


def _azurite() -> Iterator[BlobStore]:
    if not AZURITE.exists():
        pytest.fail(f"Azurite is not installed at {AZURITE}: run `npm ci` in {SERVICES}")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="azurite-") as workdir:
        process = start_azurite(port, Path(workdir))
        try:
            wait_http(f"http://127.0.0.1:{port}/devstoreaccount1?comp=list")
            yield AzureBlobStore.from_connection_string(azurite_connection_string(port))
        finally:
            process.terminate()
            process.wait(10)


@pytest.fixture(params=["azurite", "memory"])
def blobs(request: pytest.FixtureRequest) -> Iterator[BlobStore]:
    """Azurite (started here, as `make test-services` installs it) and the in-memory store."""
    if request.param == "azurite":
        yield from _azurite()
    else:
        yield InMemoryBlobStore()


def _job(esma: Esma, blobs: BlobStore, db: Path) -> EtlJob:
    return EtlJob(
        esma=httpx.Client(
            base_url="https://registers.esma.europa.eu", transport=httpx.MockTransport(esma)
        ),
        blobs=blobs,
        store=lambda: SqliteInstrumentStore(db),
        staging_container="firds-staging",
        archive_container="firds-archive",
        file_types=("FULINS",),
        max_file_bytes=10_000_000,
    )


def test_a_day_is_listed_staged_loaded_archived_and_recorded(
    tmp_path: Path, blobs: BlobStore
) -> None:
    esma = Esma(
        {
            GOOD: _zipped("FULINS_E_20261130_01of01.xml"),
            BAD: _zipped("FULINS_E_20261130_truncated.xml"),
        }
    )
    report = run_day(_job(esma, blobs, tmp_path / "p.db"), DAY)

    assert [(f.file, f.status) for f in report.files] == [(GOOD, "loaded"), (BAD, "rejected")]
    assert blobs.names("firds-staging") == []  # every staged file was moved on
    assert blobs.names("firds-archive") == [
        f"loaded/2026-11-30/{GOOD}",
        f"rejected/2026-11-30/{BAD}",
    ]
    listing = esma.requests[0]
    assert listing.url.params.get_list("fq") == [
        "publication_date:[2026-11-30T00:00:00Z TO 2026-11-30T23:59:59Z]",
        "file_type:(FULINS)",
    ]
    assert listing.url.params["wt"] == "json"
    store = SqliteInstrumentStore(tmp_path / "p.db")
    assert store.count() == 2
    summary = report.summary()["files"]
    assert isinstance(summary, list)
    assert summary[0]["written"] == 2
    assert summary[1]["written"] == 0
    assert summary[1]["error"]
    json.dumps(report.summary())  # what the operator and the logs see is JSON


def test_a_rerun_skips_what_was_loaded_and_changes_nothing(
    tmp_path: Path, blobs: BlobStore
) -> None:
    content = _zipped("FULINS_E_20261130_01of01.xml")
    esma = Esma({GOOD: content})
    job = _job(esma, blobs, tmp_path / "p.db")
    run_day(job, DAY)
    downloads = sum(1 for r in esma.requests if r.url.host == "firds.esma.europa.eu")

    again = run_day(job, DAY)

    assert [(f.file, f.status) for f in again.files] == [(GOOD, "skipped")]
    assert sum(1 for r in esma.requests if r.url.host == "firds.esma.europa.eu") == downloads
    assert SqliteInstrumentStore(tmp_path / "p.db").count() == 2
    assert blobs.names("firds-archive") == [f"loaded/2026-11-30/{GOOD}"]
    # The rerun is recorded too, naming the archived file's hash, with nothing written.
    with sqlite3.connect(tmp_path / "p.db") as db:
        recorded = db.execute("SELECT status, sha256, written FROM etl_runs ORDER BY id").fetchall()
    sha = hashlib.sha256(content).hexdigest()
    assert blobs.metadata("firds-archive", f"loaded/2026-11-30/{GOOD}") == {"sha256": sha}
    assert recorded == [("loaded", sha, 2), ("skipped", sha, 0)]


def test_the_register_is_paged() -> None:
    esma = Esma({f"FULINS_E_20261130_{i:02d}of03.zip": b"" for i in (1, 2, 3)}, page=2)
    client = httpx.Client(
        base_url="https://registers.esma.europa.eu", transport=httpx.MockTransport(esma)
    )
    files = list_files(client, DAY, ("FULINS",), page=2)
    assert [f.name for f in files] == [f"FULINS_E_20261130_{i:02d}of03.zip" for i in (1, 2, 3)]
    assert [r.url.params["start"] for r in esma.requests] == ["0", "2"]


def test_register_outage_is_transient_and_a_strange_answer_is_not() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    def odd(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "response": {
                    "numFound": 1,
                    "docs": [{"file_name": "../../etc/passwd", "download_link": "x"}],
                }
            },
        )

    for handler, transient in ((down, True), (odd, False)):
        client = httpx.Client(
            base_url="https://registers.esma.europa.eu", transport=httpx.MockTransport(handler)
        )
        with pytest.raises(EsmaError) as caught:
            list_files(client, DAY, ("FULINS",))
        assert caught.value.transient is transient


def test_a_file_job_whose_lock_is_lost_mid_run_converges_on_redelivery(tmp_path: Path) -> None:
    """The run outlives its lock: settling fails, the job comes back, the rerun is a no-op."""
    esma = Esma({GOOD: _zipped("FULINS_E_20261130_01of01.xml")})
    job = _job(esma, InMemoryBlobStore(), tmp_path / "p.db")
    bus = LocalFileBus(tmp_path / "bus.db")
    bus.send(
        "etl-queue",
        file_request(
            DAY,
            FirdsFile(GOOD, f"https://firds.esma.europa.eu/firds/{GOOD}", "FULINS", "2026-11-30"),
        ),
    )

    def loses_its_lock_mid_run(message: func.ServiceBusMessage) -> Verdict:
        verdict = handle_file_request(message, job)
        [queued] = bus.peek("etl-queue")  # the lock expires while the file loads
        bus.abandon(replace(queued, lock_token=str(message.lock_token)))
        return verdict

    first = run_once(
        bus, LocalTrigger("etl_queue_worker", "etl-queue", None, 3, loses_its_lock_mid_run)
    )
    assert isinstance(first, Complete)
    [again] = bus.peek("etl-queue")  # settling with the lost lock failed: redelivered
    assert again.delivery_count == 1

    second = run_once(
        bus,
        LocalTrigger(
            "etl_queue_worker", "etl-queue", None, 3, lambda m: handle_file_request(m, job)
        ),
    )
    assert isinstance(second, Complete)
    assert "skipped" in second.note
    assert bus.peek("etl-queue") == []
    assert SqliteInstrumentStore(tmp_path / "p.db").count() == 2
    with sqlite3.connect(tmp_path / "p.db") as db:
        statuses = [row[0] for row in db.execute("SELECT status FROM etl_runs ORDER BY id")]
    assert statuses == ["loaded", "skipped"]
    assert sum(1 for r in esma.requests if r.url.host == "firds.esma.europa.eu") == 1
