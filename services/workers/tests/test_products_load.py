"""ETL runs into the real products-api over HTTP: batches, idempotency, retries, failures."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

import products_service.main
from platform_common.testing import caller_headers, forwarding_transport, migrated_sqlite
from products_service.settings import ProductsSettings
from products_service.settings import get_settings as products_settings
from workers_app.etl import RunReport, run_file
from workers_app.firds import FirdsRecord, Reject
from workers_app.products_load import (
    LOAD_PATH,
    RUNS_PATH,
    ProductsInstrumentStore,
    RecordError,
    load_file,
    run_record,
)
from workers_app.settings import WorkersSettings

SERVICES_DIR = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DAY = "FULINS_E_20261130_01of01"
WORKERS = caller_headers("svc-workers", "admin")


def _zip(tmp_path: Path, source: str) -> Path:
    path = tmp_path / f"{Path(source).stem}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(FIXTURES / source, arcname=Path(source).name)
    return path


@pytest.fixture
def products(tmp_path: Path) -> Iterator[TestClient]:
    app = products_service.main.create_app()
    url = migrated_sqlite(
        SERVICES_DIR / "products", tmp_path / "products-template.db", tmp_path / "products.db"
    )
    settings = ProductsSettings(database_url=url)
    app.dependency_overrides[products_settings] = lambda: settings
    with TestClient(app) as client:
        yield client


def counting(
    forward: httpx.MockTransport, fail: Callable[[int], httpx.Response | None]
) -> tuple[httpx.MockTransport, list[int]]:
    """A transport that can fail the n-th batch load (from 0) and otherwise forwards.

    Only batch loads are counted and failed; the run's record (RUNS_PATH) is forwarded.
    """
    calls: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == RUNS_PATH:
            return forward.handle_request(request)
        n = len(calls)
        calls.append(n)
        answer = fail(n)
        if answer is not None:
            return answer
        return forward.handle_request(request)

    return httpx.MockTransport(handle), calls


def store(transport: httpx.BaseTransport, attempts: int = 3) -> ProductsInstrumentStore:
    client = httpx.Client(
        base_url="http://products-api.internal", headers=WORKERS, transport=transport
    )
    return ProductsInstrumentStore(client, max_attempts=attempts, backoff_seconds=0)


def test_load_file_lands_every_batch_and_a_rerun_writes_nothing(
    tmp_path: Path, products: TestClient
) -> None:
    settings = WorkersSettings(etl_load_batch_size=1)
    path = _zip(tmp_path, f"{DAY}.xml")

    first = load_file(path, settings, forwarding_transport(products))
    again = load_file(path, settings, forwarding_transport(products))

    assert (first.status, first.records, first.valid, first.rejected) == ("loaded", 6, 3, 3)
    # The second venue of DE0007236101 (its own batch) does not replace the first.
    assert (first.written, first.batches) == (2, 3)
    assert (again.status, again.written) == ("loaded", 0)
    siemens = products.get("/v1/instruments/DE0007236101").json()
    assert (siemens["venue_mic"], siemens["version"]) == ("XETR", 1)
    assert products.get("/v1/instruments/US0378331005").status_code == 200


def test_a_malformed_file_sends_nothing(tmp_path: Path, products: TestClient) -> None:
    transport, calls = counting(forwarding_transport(products), lambda _n: None)
    report = run_file(_zip(tmp_path, "FULINS_E_20261130_truncated.xml"), store(transport), 1)
    assert report.status == "rejected"
    assert "not well-formed" in str(report.error)
    assert calls == []


def test_transient_failures_are_retried_and_the_run_loads(
    tmp_path: Path, products: TestClient
) -> None:
    def fail(n: int) -> httpx.Response | None:
        if n == 0:
            raise httpx.ReadTimeout("slow")
        return httpx.Response(503) if n == 1 else None

    transport, calls = counting(forwarding_transport(products), fail)
    report = run_file(_zip(tmp_path, f"{DAY}.xml"), store(transport), 5)
    assert (report.status, report.written, report.batches) == ("loaded", 2, 1)
    assert len(calls) == 3


def test_a_batch_failing_after_retries_fails_the_run_and_a_rerun_converges(
    tmp_path: Path, products: TestClient
) -> None:
    path = _zip(tmp_path, f"{DAY}.xml")
    # The first batch lands, the second (Siemens' second venue) sends nothing, the third
    # keeps timing out.
    transport, _ = counting(
        forwarding_transport(products),
        lambda n: httpx.Response(504) if n >= 1 else None,
    )
    failed = run_file(path, store(transport, attempts=2), 1)
    assert (failed.status, failed.batches, failed.written) == ("failed", 2, 1)
    assert "after retries" in str(failed.error)
    assert products.get("/v1/instruments/US0378331005").status_code == 404

    rerun = run_file(path, store(forwarding_transport(products)), 1)
    assert (rerun.status, rerun.written) == ("loaded", 1)
    assert products.get("/v1/instruments/US0378331005").status_code == 200


def test_a_client_error_is_not_retried(tmp_path: Path) -> None:
    transport, calls = counting(
        httpx.MockTransport(lambda _r: httpx.Response(201)),
        lambda _n: httpx.Response(403, json={"detail": "nope"}),
    )
    report = run_file(_zip(tmp_path, f"{DAY}.xml"), store(transport), 10)
    assert report.status == "failed"
    assert "403" in str(report.error)
    assert len(calls) == 1


def test_records_products_refuses_become_rejects_at_their_file_position(tmp_path: Path) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == RUNS_PATH:
            return httpx.Response(201)
        assert request.url.path == LOAD_PATH
        rejected = [{"index": 1, "isin": "US0378331005", "reason": "full_name: control character"}]
        return httpx.Response(
            200,
            json={"received": 2, "created": 1, "updated": 0, "unchanged": 0, "rejected": rejected},
        )

    report = run_file(_zip(tmp_path, f"{DAY}.xml"), store(httpx.MockTransport(handle)), 10)
    assert (report.status, report.valid, report.written, report.rejected) == ("loaded", 2, 1, 4)
    refused = [r for r in report.rejects if r.reason.startswith("full_name")]
    assert [(r.position, r.isin) for r in refused] == [(3, "US0378331005")]


def test_first_venue_wins_across_batches() -> None:
    sent: list[list[str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == LOAD_PATH
        items = json.loads(request.content)["items"]
        sent.append([i["venue_mic"] for i in items])
        counts = {"received": len(items), "created": len(items), "updated": 0, "unchanged": 0}
        return httpx.Response(200, json={**counts, "rejected": []})

    target = store(httpx.MockTransport(handle))
    first = FirdsRecord("DE0007236101", "Siemens", "ESVUFR", "EUR", "W38RGI023J3WT1HWRP32", "XETR")
    with target.transaction():
        assert target.upsert("sha", [first]).written == 1
        assert target.upsert("sha", [replace(first, venue_mic="XGAT")]).written == 0
    assert sent == [["XETR"]]


ADMIN = caller_headers("ops-admin", "admin")


def runs(products: TestClient, **params: str) -> list[dict[str, object]]:
    page = products.get("/v1/etl-runs", params=params, headers=ADMIN)
    assert page.status_code == 200, page.text
    items: list[dict[str, object]] = page.json()["items"]
    return items


def test_each_run_is_recorded_by_products_api_and_a_rerun_records_no_change(
    tmp_path: Path, products: TestClient
) -> None:
    settings = WorkersSettings(etl_load_batch_size=2)
    path = _zip(tmp_path, f"{DAY}.xml")

    first = load_file(path, settings, forwarding_transport(products))
    again = load_file(path, settings, forwarding_transport(products))

    recorded = {r["id"]: r for r in runs(products, file_name=path.name)}
    assert set(recorded) == {first.run_id, again.run_id}
    one, two = recorded[first.run_id], recorded[again.run_id]
    assert (one["outcome"], one["records"], one["written"], one["rejected"]) == (
        "loaded",
        6,
        2,
        3,
    )
    assert (two["outcome"], two["written"]) == ("loaded", 0)
    assert one["file_sha256"] == two["file_sha256"] == first.sha256
    detail = products.get(f"/v1/etl-runs/{first.run_id}", headers=ADMIN).json()
    assert len(detail["rejects"]) == 3
    assert all(r["reason"] for r in detail["rejects"])
    assert detail["duration_ms"] >= 0


def test_a_malformed_file_is_recorded_rejected_with_its_reason_and_writes_nothing(
    tmp_path: Path, products: TestClient
) -> None:
    path = _zip(tmp_path, "FULINS_E_20261130_truncated.xml")
    report = load_file(path, WorkersSettings(), forwarding_transport(products))

    (recorded,) = runs(products, outcome="rejected")
    assert recorded["id"] == report.run_id
    assert "not well-formed XML" in str(recorded["error"])
    assert (recorded["written"], recorded["batches"]) == (0, 0)
    # What was read before the fault is counted: two complete records.
    assert (recorded["records"], report.records) == (2, 2)
    assert products.get("/v1/instruments", headers=ADMIN).json()["total"] == 0


def test_a_record_products_api_cannot_take_fails_the_delivery(tmp_path: Path) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == RUNS_PATH:
            return httpx.Response(503)
        counts = {"received": 2, "created": 2, "updated": 0, "unchanged": 0, "rejected": []}
        return httpx.Response(200, json=counts)

    with pytest.raises(RecordError, match="not recorded after retries"):
        run_file(_zip(tmp_path, f"{DAY}.xml"), store(httpx.MockTransport(handle)), 10)


def test_a_run_record_stays_under_products_body_limit(tmp_path: Path, products: TestClient) -> None:
    report = RunReport(file="FULINS_E_20261130_01of01.zip", sha256="0" * 64, status="loaded")
    report.records = report.rejected = 1000
    report.rejects = [Reject(n, "X" * 64, f"reason {n} " + "r" * 990) for n in range(1000)]
    report.finished_at = report.started_at

    body = run_record(report)

    assert 0 < len(body["rejects"]) < 1000
    assert len(json.dumps(body)) < ProductsSettings().max_request_body_bytes
    answer = products.post(RUNS_PATH, json=body, headers=WORKERS)
    assert answer.status_code == 201, answer.text
    assert answer.json()["rejected"] == 1000
