"""Notifications: recorded by the workers' identity only, idempotent on id, listed per user."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient

from platform_common.testing import caller_headers

ADMIN = caller_headers("ada", "admin")
WORKERS = caller_headers("svc-workers", "admin")
URL = "/internal/v1/notifications"


def _user(client: TestClient, user_id: str) -> None:
    body = {
        "id": user_id,
        "display_name": user_id,
        "email": f"{user_id}@example.com",
        "roles": ["trader"],
    }
    assert client.post("/v1/users", json=body, headers=ADMIN).status_code == 201


def _note(note_id: str, user_id: str = "tom", **extra: Any) -> dict[str, Any]:
    return {
        "id": note_id,
        "user_id": user_id,
        "kind": "OrderFilled",
        "title": "Order filled",
        "body": "Your order o-1 was filled at 189.50.",
        "reference": "o-1",
        "occurred_at": "2026-12-01T09:30:00+01:00",
        **extra,
    }


def test_record_then_list_own_newest_first(users_client: TestClient) -> None:
    _user(users_client, "tom")
    _user(users_client, "tina")
    assert users_client.post(URL, json=_note("n-1"), headers=WORKERS).status_code == 201
    assert users_client.post(URL, json=_note("n-2"), headers=WORKERS).status_code == 201
    other = _note("n-3", user_id="tina")
    assert users_client.post(URL, json=other, headers=WORKERS).status_code == 201

    page = users_client.get("/v1/me/notifications", headers=caller_headers("tom")).json()

    assert page["total"] == 2
    assert [n["id"] for n in page["items"]] == ["n-2", "n-1"]
    assert page["items"][0]["reference"] == "o-1"


def test_only_the_workers_identity_may_record(users_client: TestClient) -> None:
    _user(users_client, "tom")
    for headers in (ADMIN, caller_headers("svc-workers", "trader"), caller_headers("tom")):
        answer = users_client.post(URL, json=_note("n-1"), headers=headers)
        assert answer.status_code == 403, answer.text
    assert users_client.post(URL, json=_note("n-1")).status_code == 401
    mine = users_client.get("/v1/me/notifications", headers=caller_headers("tom")).json()
    assert mine["total"] == 0


def test_the_same_id_twice_is_a_no_op_and_other_terms_are_409(users_client: TestClient) -> None:
    _user(users_client, "tom")
    first = users_client.post(URL, json=_note("n-1"), headers=WORKERS)
    # The same instant written in UTC is the same notification.
    again = users_client.post(
        URL, json=_note("n-1", occurred_at="2026-12-01T08:30:00Z"), headers=WORKERS
    )
    changed = users_client.post(URL, json=_note("n-1", title="Other"), headers=WORKERS)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert changed.status_code == 409
    assert "other terms" in changed.json()["detail"]


def test_concurrent_deliveries_record_one_notification(users_client: TestClient) -> None:
    _user(users_client, "tom")
    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(
            pool.map(
                lambda _i: users_client.post(URL, json=_note("n-9"), headers=WORKERS).status_code,
                range(8),
            )
        )
    assert sorted(set(codes)) in ([201], [200, 201])
    assert codes.count(201) == 1
    page = users_client.get("/v1/me/notifications", headers=caller_headers("tom")).json()
    assert page["total"] == 1


def test_bad_notifications_are_422_naming_the_field(users_client: TestClient) -> None:
    _user(users_client, "tom")
    unknown = users_client.post(URL, json=_note("n-1", user_id="nobody"), headers=WORKERS)
    naive = users_client.post(
        URL, json=_note("n-2", occurred_at="2026-12-01T09:30:00"), headers=WORKERS
    )
    control = users_client.post(URL, json=_note("n-3", title="bad\u202etitle"), headers=WORKERS)

    assert unknown.status_code == 422
    assert "No user nobody" in unknown.json()["detail"]
    assert naive.status_code == 422
    assert "timezone" in json.dumps(naive.json()["errors"])
    assert control.status_code == 422
    assert control.json()["errors"][0]["loc"][-1] == "title"


def test_the_internal_route_is_not_in_the_gateway_openapi(users_client: TestClient) -> None:
    paths = users_client.get("/openapi.json").json()["paths"]
    assert "/v1/me/notifications" in paths
    assert "/internal/v1/notifications" not in paths
    # The one internal operation documented (authenticate, for fuzzing and typing) carries
    # the mark the gateway's importer drops operations by.
    internal = {p: item for p, item in paths.items() if p.startswith("/internal")}
    assert list(internal) == ["/internal/v1/authenticate"]
    assert all(op["x-internal"] is True for item in internal.values() for op in item.values())
