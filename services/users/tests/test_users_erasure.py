"""Erasure: one transaction pseudonymises the account, idempotent, audited; and the purge."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from platform_common.erasure import PSEUDONYM_PATTERN, id_digest
from platform_common.testing import caller_headers, rows_holding
from users_service.settings import UsersSettings

ADMIN = caller_headers("ada", "admin")
WORKERS = caller_headers("svc-workers", "admin")
TOM = {"id": "tom-7f3a", "display_name": "Tom Tester", "email": "Tom.Tester@example.com"}


def _tom(client: TestClient, notes: int = 2) -> None:
    body = {**TOM, "roles": ["trader"]}
    assert client.post("/v1/users", json=body, headers=ADMIN).status_code == 201
    put = client.put(
        f"/v1/users/{TOM['id']}/password", json={"password": "a long passphrase"}, headers=ADMIN
    )
    assert put.status_code == 204
    for n in range(notes):
        note = {
            "id": f"n-{n}",
            "user_id": TOM["id"],
            "kind": "OrderFilled",
            "title": "Order filled",
            "body": "Your order was filled.",
            "occurred_at": "2026-12-01T09:30:00Z",
        }
        assert (
            client.post("/internal/v1/notifications", json=note, headers=WORKERS).status_code == 201
        )


def _outbox(settings: UsersSettings) -> list[dict[str, object]]:
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        rows = [
            dict(r) for r in conn.execute(sa.text("SELECT * FROM outbox ORDER BY id")).mappings()
        ]
    engine.dispose()
    return rows


def _changes(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """The outbox without its audit records: what a change (not its record) writes."""
    return [r for r in rows if r["subject"] != "AuditRecord"]


def _records_after(rows: list[dict[str, object]], now: list[dict[str, object]]) -> list[Any]:
    """Audit records written since `rows` was read."""
    seen = {r["id"] for r in rows}
    return [json.loads(str(r["body"])) for r in now if r["id"] not in seen]


def _count(settings: UsersSettings, table: str) -> int:
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        n = int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
    engine.dispose()
    return n


def test_erasure_pseudonymises_the_account_in_one_go(
    users_client: TestClient, users_settings: UsersSettings
) -> None:
    _tom(users_client)

    answer = users_client.post(f"/v1/users/{TOM['id']}/erasure", headers=ADMIN)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    pseudonym = body["pseudonym"]
    assert re.fullmatch(PSEUDONYM_PATTERN, pseudonym)
    assert body["requested_by"] == "ada"
    assert body["counts"]["notifications"] == 2
    # No personal value of Tom is left in any column of any table.
    assert rows_holding(users_settings.database_url, TOM["id"], "Tom Tester", "Tom.Tester") == [
        ("outbox", "body", _user_erased_body(users_settings))
    ]
    account = users_client.get(f"/v1/users/{pseudonym}", headers=ADMIN).json()
    assert account["email"] == f"{pseudonym}@erased.invalid"
    assert (account["roles"], account["active"], account["display_name"]) == (
        [],
        False,
        "Erased user",
    )
    assert users_client.get(f"/v1/users/{TOM['id']}", headers=ADMIN).status_code == 404
    assert _count(users_settings, "notifications") == 0
    # The erasures row keeps the id's digest, never the id.
    engine = sa.create_engine(users_settings.database_url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM erasures")).mappings().one()
    engine.dispose()
    assert (row["user_digest"], row["pseudonym"], row["requested_by"]) == (
        id_digest(TOM["id"]),
        pseudonym,
        "ada",
    )


def _user_erased_body(settings: UsersSettings) -> str:
    erased = [r for r in _outbox(settings) if r["subject"] == "UserErased"]
    assert len(erased) == 1
    return str(erased[0]["body"])[:200]


def test_the_event_and_the_audit_record_join_the_transaction(
    users_client: TestClient, users_settings: UsersSettings
) -> None:
    _tom(users_client)
    pseudonym = users_client.post(f"/v1/users/{TOM['id']}/erasure", headers=ADMIN).json()[
        "pseudonym"
    ]
    rows = _outbox(users_settings)
    erased = [r for r in rows if r["subject"] == "UserErased"]
    assert len(erased) == 1
    assert erased[0]["destination"] == "events-topic"
    event = json.loads(str(erased[0]["body"]))
    assert event["type"] == "UserErased"
    assert event["data"] == {"user_id": TOM["id"], "pseudonym": pseudonym}
    audits = [json.loads(str(r["body"])) for r in rows if r["subject"] == "AuditRecord"]
    erase_records = [a for a in audits if a["action"] == "users.erase"]
    assert len(erase_records) == 1
    record = erase_records[0]
    assert record["resource"] == {"type": "user", "id": pseudonym}
    assert record["actor"]["id"] == "ada"
    assert TOM["id"] not in json.dumps(record)
    assert "Tom" not in json.dumps(record)


def test_a_repeat_answers_the_same_and_changes_nothing(
    users_client: TestClient, users_settings: UsersSettings
) -> None:
    _tom(users_client)
    first = users_client.post(f"/v1/users/{TOM['id']}/erasure", headers=ADMIN)
    rows = _outbox(users_settings)

    again = users_client.post(f"/v1/users/{TOM['id']}/erasure", headers=ADMIN)
    by_pseudonym = users_client.post(
        f"/v1/users/{first.json()['pseudonym']}/erasure", headers=ADMIN
    )

    assert again.status_code == by_pseudonym.status_code == 200
    assert again.json() == by_pseudonym.json() == first.json()
    now = _outbox(users_settings)
    assert _changes(now) == _changes(rows)
    # Each repeat is audited, under the pseudonym only.
    replays = _records_after(rows, now)
    assert [(r["action"], r["details"]) for r in replays] == [("users.erase", {"replay": True})] * 2
    assert {r["resource"]["id"] for r in replays} == {first.json()["pseudonym"]}
    assert TOM["id"] not in json.dumps(replays)
    assert _count(users_settings, "users") == 1
    shown = users_client.get(f"/v1/users/{TOM['id']}/erasure", headers=ADMIN)
    assert shown.status_code == 200
    assert shown.json() == {**first.json(), "completed_at": None}


def test_unknown_users_self_erasure_and_non_admins_are_refused(users_client: TestClient) -> None:
    _tom(users_client, notes=0)
    unknown = users_client.post("/v1/users/nobody-here/erasure", headers=ADMIN)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert "nobody-here" in unknown.json()["detail"]
    assert users_client.get("/v1/users/nobody-here/erasure", headers=ADMIN).status_code == 404
    admin_self = {**TOM, "id": "ada", "email": "ada@example.com", "roles": ["admin"]}
    assert users_client.post("/v1/users", json=admin_self, headers=ADMIN).status_code == 201
    itself = users_client.post("/v1/users/ada/erasure", headers=ADMIN)
    assert itself.status_code == 409
    assert "yourself" in itself.json()["title"]
    for headers in (caller_headers(TOM["id"], "trader"), caller_headers("rita", "risk_manager")):
        assert (
            users_client.post(f"/v1/users/{TOM['id']}/erasure", headers=headers).status_code == 403
        )
    assert users_client.get(f"/v1/users/{TOM['id']}", headers=ADMIN).status_code == 200


def test_the_workers_finish_the_erasure_once_the_event_is_delivered(
    users_client: TestClient, users_settings: UsersSettings
) -> None:
    _tom(users_client)
    pseudonym = users_client.post(f"/v1/users/{TOM['id']}/erasure", headers=ADMIN).json()[
        "pseudonym"
    ]
    body = {"user_id": TOM["id"], "pseudonym": pseudonym}
    assert users_client.post("/internal/v1/erasures", json=body, headers=ADMIN).status_code == 403
    wrong = {"user_id": "someone-else", "pseudonym": pseudonym}
    assert (
        users_client.post("/internal/v1/erasures", json=wrong, headers=WORKERS).status_code == 404
    )
    bad = {"user_id": TOM["id"], "pseudonym": "erased-XYZ"}
    refused = users_client.post("/internal/v1/erasures", json=bad, headers=WORKERS)
    assert refused.status_code == 422
    assert "pseudonym" in refused.text

    done = users_client.post("/internal/v1/erasures", json=body, headers=WORKERS)

    assert done.status_code == 200, done.text
    assert done.json()["completed_at"] is not None
    shown = users_client.get(f"/v1/users/{TOM['id']}/erasure", headers=ADMIN).json()
    assert shown["completed_at"] == done.json()["completed_at"]
    # The admin's repeat still answers what the first request did.
    first = users_client.post(f"/v1/users/{TOM['id']}/erasure", headers=ADMIN).json()
    assert "completed_at" not in first
    assert first["pseudonym"] == pseudonym
    assert rows_holding(users_settings.database_url, TOM["id"], "Tom Tester", "Tom.Tester") == []
    rows = _outbox(users_settings)
    again = users_client.post("/internal/v1/erasures", json=body, headers=WORKERS)
    assert again.json() == done.json()
    now = _outbox(users_settings)
    assert _changes(now) == _changes(rows)
    (replay,) = _records_after(rows, now)
    assert (replay["action"], replay["details"]["replay"]) == ("erasures.apply", True)
    assert TOM["id"] not in json.dumps(replay)


def test_the_purge_deletes_what_is_past_retention(
    users_client: TestClient, users_settings: UsersSettings
) -> None:
    _tom(users_client, notes=1)
    engine = sa.create_engine(users_settings.database_url)
    old = datetime.now(UTC) - timedelta(days=400)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO notifications (id, user_id, kind, title, body, reference, "
                "occurred_at, created_at) VALUES ('old', :u, 'OrderFilled', 't', 'b', NULL, "
                ":at, :at)"
            ),
            {"u": TOM["id"], "at": old},
        )
        conn.execute(sa.text("UPDATE outbox SET published_at = :at"), {"at": old})
    engine.dispose()
    published = len(_outbox(users_settings))
    refused = users_client.post("/internal/v1/retention/purge", headers=ADMIN)
    assert refused.status_code == 403

    purged = users_client.post("/internal/v1/retention/purge", headers=WORKERS)

    assert purged.status_code == 200, purged.text
    assert purged.json()["counts"] == {"notifications": 1, "outbox": published}
    assert purged.json()["retention_days"] == 365
    assert _count(users_settings, "notifications") == 1  # the new one stays
    # Only audit records written since the rows were delivered are left: the refused
    # purge's and the purge's own.
    left = [json.loads(str(r["body"])) for r in _outbox(users_settings)]
    assert [(r["action"], r["outcome"]) for r in left] == [
        ("retention.purge", "denied"),
        ("retention.purge", "success"),
    ]


def test_the_purge_clock_is_only_for_local(users_client: TestClient) -> None:
    _tom(users_client, notes=1)
    later = {"now": (datetime.now(UTC) + timedelta(days=366)).isoformat()}
    purged = users_client.post("/internal/v1/retention/purge", json=later, headers=WORKERS)
    assert purged.json()["counts"]["notifications"] == 1
    naive = users_client.post(
        "/internal/v1/retention/purge", json={"now": "2026-12-01T00:00:00"}, headers=WORKERS
    )
    assert naive.status_code == 422


def test_new_accounts_cannot_take_a_pseudonym_shaped_id(users_client: TestClient) -> None:
    body = {**TOM, "id": "erased-0123", "roles": ["viewer"]}
    answer = users_client.post("/v1/users", json=body, headers=ADMIN)
    assert answer.status_code == 422
    assert "reserved for erased users" in answer.text


def test_concurrent_erasures_of_one_user_erase_it_once(
    users_client: TestClient, users_settings: UsersSettings
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _tom(users_client)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(
                lambda _i: users_client.post(f"/v1/users/{TOM['id']}/erasure", headers=ADMIN),
                range(16),
            )
        )
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["pseudonym"] for a in answers}) == 1
    assert _count(users_settings, "erasures") == 1
    assert len([r for r in _outbox(users_settings) if r["subject"] == "UserErased"]) == 1


def test_an_erasure_committed_between_the_first_look_and_the_lookup_is_answered(
    users_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving a concurrent request can produce: its first look found no erasure,
    and by its lookup of the account the other request had renamed it."""
    from users_service import erasure

    _tom(users_client, notes=0)
    first = users_client.post(f"/v1/users/{TOM['id']}/erasure", headers=ADMIN).json()
    real = erasure.find_erasure  # type: ignore[attr-defined]  # patched where it is used
    looks: list[str | None] = []

    def first_look_misses(*args: Any, **kwargs: Any) -> Any:
        looks.append(kwargs.get("pseudonym"))
        return None if len(looks) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(erasure, "find_erasure", first_look_misses)
    again = users_client.post(f"/v1/users/{TOM['id']}/erasure", headers=ADMIN)

    assert again.status_code == 200, again.text
    assert again.json() == first
    assert len(looks) == 2
