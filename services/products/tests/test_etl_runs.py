"""ETL run records: reported once by the workers, refused when inconsistent, read by admins."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from platform_common.testing import caller_headers
from products_service.main import create_app
from products_service.settings import ProductsSettings, get_settings

WORKERS = caller_headers("svc-workers", "admin")
ADMIN = caller_headers("ops-admin", "admin")
URL = "/internal/v1/etl-runs"
SHA = "ab" * 32


def report(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "file_name": "FULINS_E_20261130_01of01.zip",
        "file_sha256": SHA,
        "outcome": "loaded",
        "records": 4,
        "valid": 3,
        "written": 3,
        "rejected": 1,
        "batches": 1,
        "error": None,
        "duration_ms": 1250,
        "started_at": "2026-12-01T07:30:00Z",
        "finished_at": "2026-12-01T07:30:01.250000Z",
        "rejects": [{"position": 2, "isin": "US0378331006", "reason": "isin: check digit"}],
    }
    body.update(changes)
    return body


@pytest.fixture
def client(products_settings: ProductsSettings) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: products_settings
    with TestClient(app) as test_client:
        yield test_client


def test_a_run_is_recorded_once_and_read_back_with_its_rejects(client: TestClient) -> None:
    body = report()
    created = client.post(URL, json=body, headers=WORKERS)
    assert created.status_code == 201, created.text
    assert created.json()["recorded_by"] == "svc-workers"

    again = client.post(URL, json=body, headers=WORKERS)
    assert again.status_code == 200, again.text
    assert again.json() == created.json()

    page = client.get("/v1/etl-runs", headers=ADMIN).json()
    assert page["total"] == 1
    assert page["items"][0]["id"] == body["id"]
    one = client.get(f"/v1/etl-runs/{body['id']}", headers=ADMIN).json()
    assert one["rejects"] == body["rejects"]
    assert (one["records"], one["written"], one["duration_ms"]) == (4, 3, 1250)


def test_the_same_id_with_other_figures_is_a_conflict(client: TestClient) -> None:
    body = report()
    assert client.post(URL, json=body, headers=WORKERS).status_code == 201
    changed = client.post(URL, json={**body, "written": 2}, headers=WORKERS)
    assert changed.status_code == 409, changed.text
    assert "reported once" in changed.json()["detail"]


def test_list_filters_by_outcome_and_hash_newest_first(client: TestClient) -> None:
    loaded = report(started_at="2026-12-01T07:00:00Z", finished_at="2026-12-01T07:00:01Z")
    rerun = report(written=0, started_at="2026-12-01T08:00:00Z", finished_at="2026-12-01T08:00:01Z")
    rejected = report(
        outcome="rejected",
        file_sha256="cd" * 32,
        valid=0,
        written=0,
        batches=0,
        error="truncated XML at line 40",
    )
    for body in (loaded, rerun, rejected):
        assert client.post(URL, json=body, headers=WORKERS).status_code == 201
    by_hash = client.get("/v1/etl-runs", params={"file_sha256": SHA}, headers=ADMIN).json()
    assert [r["id"] for r in by_hash["items"]] == [rerun["id"], loaded["id"]]
    bad = client.get("/v1/etl-runs", params={"outcome": "rejected"}, headers=ADMIN).json()
    assert [(r["id"], r["error"]) for r in bad["items"]] == [
        (rejected["id"], "truncated XML at line 40")
    ]


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"written": 5}, "written 5 exceeds valid 3"),
        ({"rejected": 3}, "exceeds records 4"),
        ({"rejected": 0, "valid": 3}, "1 rejects listed but rejected is 0"),
        ({"outcome": "rejected", "written": 0, "valid": 0}, "a rejected run needs its error"),
        ({"outcome": "failed"}, "a failed run needs its error"),
        ({"error": "boom"}, "a loaded run has no error"),
        (
            {"outcome": "rejected", "valid": 0, "error": "bad zip"},
            "a rejected run wrote nothing",
        ),
        ({"outcome": "skipped", "error": None}, "a skipped run read nothing"),
        ({"file_sha256": None}, "a loaded run needs file_sha256"),
        ({"finished_at": "2026-12-01T07:29:00Z"}, "finished_at is before started_at"),
        ({"file_name": "../etc/passwd"}, "file_name"),
        ({"id": "not-a-uuid"}, "id"),
        ({"rejects": [{"position": 1, "reason": ""}]}, "reason"),
    ],
)
def test_an_impossible_report_is_refused_with_the_reason(
    client: TestClient, changes: dict[str, Any], says: str
) -> None:
    answer = client.post(URL, json=report(**changes), headers=WORKERS)
    assert answer.status_code == 422, answer.text
    assert says in answer.text


def test_only_the_workers_identity_records_runs(client: TestClient) -> None:
    answer = client.post(URL, json=report(), headers=ADMIN)
    assert answer.status_code == 403, answer.text
    assert "workers' identity" in answer.json()["detail"]
    assert client.get("/v1/etl-runs", headers=ADMIN).json()["total"] == 0


def test_an_unknown_run_is_404_and_a_bad_id_422(client: TestClient) -> None:
    missing = client.get(f"/v1/etl-runs/{uuid.uuid4()}", headers=ADMIN)
    assert missing.status_code == 404
    assert client.get("/v1/etl-runs/x", headers=ADMIN).status_code == 422


def test_a_skipped_run_needs_no_hash(client: TestClient) -> None:
    body = report(
        outcome="skipped",
        file_sha256=None,
        records=0,
        valid=0,
        written=0,
        rejected=0,
        batches=0,
        rejects=[],
    )
    assert client.post(URL, json=body, headers=WORKERS).status_code == 201
