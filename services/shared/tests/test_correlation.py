"""Correlation ids: accepted when well-formed, replaced otherwise, echoed and logged."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from platform_common.correlation import accepted_correlation_id
from platform_common.telemetry import JsonFormatter
from platform_common.testing import caller_headers, migrated_sqlite
from users_service.main import create_app
from users_service.settings import UsersSettings, get_settings

from .apps import SERVICES_DIR

ADMIN = caller_headers("ada", "admin")


@pytest.fixture
def users(tmp_path: Path) -> Iterator[TestClient]:
    url = migrated_sqlite(SERVICES_DIR / "users", tmp_path / "template.db", tmp_path / "u.db")
    settings = UsersSettings(database_url=url)
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("good", ["a", "A1._-z", "x" * 64, "0b3e8a7c-5d1f-4e2b-9c1a-7f6e5d4c3b2a"])
def test_well_formed_ids_are_kept(users: TestClient, good: str) -> None:
    answer = users.get("/health/live", headers={"X-Correlation-Id": good})
    assert answer.headers["x-correlation-id"] == good


@pytest.mark.parametrize("bad", ["", "x" * 65, "has space", "semi;colon", "caf\u00e9", "a\tb"])
def test_malformed_ids_are_replaced(bad: str) -> None:
    replaced = accepted_correlation_id(bad)
    assert replaced != bad
    assert uuid.UUID(replaced)


def test_absent_id_is_generated_per_request(users: TestClient) -> None:
    first = users.get("/health/live").headers["x-correlation-id"]
    second = users.get("/health/live").headers["x-correlation-id"]
    assert uuid.UUID(first) != uuid.UUID(second)


def test_error_responses_carry_the_id_too(users: TestClient) -> None:
    answer = users.get("/v1/users", headers={"X-Correlation-Id": "err-1"})
    assert answer.status_code == 401
    assert answer.headers["x-correlation-id"] == "err-1"


def test_log_records_of_a_request_carry_its_id(
    users: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="users_service")
    body = {"id": "tom", "display_name": "Tom", "email": "tom@example.com", "roles": ["trader"]}
    assert users.post("/v1/users", json=body, headers=ADMIN).status_code == 201
    put = users.put(
        "/v1/users/tom/password",
        json={"password": "a long enough passphrase"},
        headers={**ADMIN, "X-Correlation-Id": "log-42"},
    )
    assert put.status_code == 204
    [record] = [r for r in caplog.records if r.getMessage() == "password set"]
    assert getattr(record, "correlation_id", None) == "log-42"
    line = json.loads(JsonFormatter("users-api").format(record))
    assert line["correlation_id"] == "log-42"
    outside = logging.getLogger("users_service").makeRecord(
        "x", logging.INFO, "f", 1, "m", (), None
    )
    assert getattr(outside, "correlation_id", "missing") is None
