"""The operator's audit search over records shipped into Azurite: filters, ranges, pages."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func
import pytest

from platform_common.audit import AuditEntry
from workers_app.audit_store import AuditBlobStore, ship_audit_record
from workers_app.operator_api import search_audit_records
from workers_app.settlement import Complete

from .conftest import sb_message

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class CountingStore(AuditBlobStore):
    """The Azurite store, counting downloads: filtering must not need them."""

    reads = 0

    def read(self, name: str) -> bytes:
        self.reads += 1
        return super().read(name)


def ship(store: AuditBlobStore, service: str, hours_ago: float, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "action": "order.create",
        "resource_type": "order",
        "resource_id": f"o-{uuid.uuid4().hex[:6]}",
        "actor_id": "tom",
        "actor_roles": ("trader",),
        "status_code": 201,
        "occurred_at": NOW - timedelta(hours=hours_ago),
        **fields,
    }
    entry = AuditEntry(**values)
    assert isinstance(ship_audit_record(sb_message(entry.body(service)), store), Complete)
    record: dict[str, Any] = json.loads(entry.body(service))
    return record


@pytest.fixture
def store(azurite: str) -> CountingStore:
    found = CountingStore.from_connection_string(azurite, f"search-{uuid.uuid4().hex[:12]}")
    assert isinstance(found, CountingStore)
    return found


def get(store: AuditBlobStore | None, **params: str) -> tuple[int, dict[str, Any]]:
    request = func.HttpRequest("GET", "/api/operator/audit-records", body=b"", params=params)
    answer = search_audit_records(request, store, NOW)
    body: dict[str, Any] = json.loads(answer.get_body())
    return answer.status_code, body


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["items"]]


def test_filters_by_metadata_newest_first(store: CountingStore) -> None:
    order = ship(store, "orders", 1, resource_id="o-42")
    cancel = ship(store, "orders", 0.5, action="order.cancel", resource_id="o-42")
    denied = ship(store, "orders", 2, outcome="denied", status_code=403, resource_id="o-42")
    other = ship(store, "orders", 3, actor_id="ann")
    user = ship(store, "users", 4, action="user.update", resource_type="user", resource_id="tom")
    settlement = ship(store, "payments", 5, resource_type="settlement", resource_id="o-42")

    status, everything = get(store)
    assert status == 200
    assert ids(everything) == [r["id"] for r in (cancel, order, denied, other, user, settlement)]
    assert everything["items"][0] == cancel  # the stored record itself
    assert everything["continuation"] is None

    store.reads = 0
    _, by_resource = get(store, actor="tom", resource_type="order", resource_id="o-42")
    assert ids(by_resource) == [cancel["id"], order["id"], denied["id"]]
    assert store.reads == 3  # only the matches were downloaded
    assert ids(get(store, service="users")[1]) == [user["id"]]
    assert ids(get(store, actor="ann")[1]) == [other["id"]]
    assert ids(get(store, action="order.cancel")[1]) == [cancel["id"]]
    assert ids(get(store, outcome="denied")[1]) == [denied["id"]]
    assert ids(get(store, resource_type="settlement", service="payments")[1]) == [settlement["id"]]
    assert get(store, actor="nobody")[1]["items"] == []


def test_ranges_span_days_and_default_to_the_last_24_hours(store: CountingStore) -> None:
    today = ship(store, "orders", 2)  # 2026-12-01 10:00
    yesterday = ship(store, "orders", 20)  # 2026-11-30 16:00
    older = ship(store, "orders", 30)  # 2026-11-30 06:00, outside the default window
    last_week = ship(store, "orders", 24 * 7)  # 2026-11-24 12:00

    assert ids(get(store)[1]) == [today["id"], yesterday["id"]]
    assert get(store)[1]["query"] == {
        "from": "2026-11-30T12:00:00+00:00",
        "to": "2026-12-01T12:00:00+00:00",
    }
    week = get(store, **{"from": "2026-11-24", "to": "2026-12-01T12:00:00Z"})[1]
    assert ids(week) == [today["id"], yesterday["id"], older["id"], last_week["id"]]
    # from is inclusive, to exclusive; offsets are honoured.
    exact = get(store, **{"from": "2026-11-30T06:00:00Z", "to": "2026-11-30T18:00:00+02:00"})[1]
    assert ids(exact) == [older["id"]]
    assert ids(get(store, **{"from": "2026-11-24T12:00:00Z", "to": "2026-11-25"})[1]) == [
        last_week["id"]
    ]


def test_limit_and_continuation_page_through_without_gaps_or_repeats(
    store: CountingStore,
) -> None:
    shipped = [ship(store, "orders", hours, resource_id="o-7") for hours in range(1, 29, 4)]
    ship(store, "orders", 3, resource_id="o-8")
    newest_first = [r["id"] for r in shipped]  # hours 1, 5, ... 25: already newest first

    pages: list[list[str]] = []
    tokens: list[str] = []
    params = {"resource_id": "o-7", "limit": "3", "from": "2026-11-30T00:00:00Z"}
    token: str | None = None
    while True:
        status, body = get(store, **params, **({"continuation": token} if token else {}))
        assert status == 200, body
        pages.append(ids(body))
        token = body["continuation"]
        if token is None:
            break
        tokens.append(token)
        ship(store, "orders", 0.1, resource_id="o-7")  # newer arrivals never shift a page
    assert pages == [newest_first[:3], newest_first[3:6], newest_first[6:]]

    alone = get(store, continuation=tokens[0], limit="3")[1]
    assert ids(alone) == newest_first[3:6]  # the token carries the query
    assert (
        ids(get(store, continuation=tokens[0], limit="2", resource_id="o-7")[1])
        == (newest_first[3:5])
    )
    status, other = get(store, continuation=tokens[0], resource_id="o-8")
    assert status == 400
    assert other["title"] == "Continuation of another query"
    assert "resource_id" in other["detail"]


@pytest.mark.parametrize(
    ("params", "title", "detail"),
    [
        ({"limit": "0"}, "Invalid limit", "from 1 to 500"),
        ({"limit": "501"}, "Invalid limit", "from 1 to 500"),
        ({"limit": "ten"}, "Invalid limit", "from 1 to 500"),
        ({"from": "yesterday"}, "Invalid from", "not ISO-8601"),
        ({"to": "2026-12-01T10:00:00"}, "Invalid to", "no UTC offset"),
        ({"from": "2026-12-01", "to": "2026-11-30"}, "Invalid range", "must be before to"),
        ({"from": "2026-10-01", "to": "2026-11-02"}, "Range too long", "at most 31 days"),
        ({"service": "billing"}, "Invalid service", "users, products, orders, payments"),
        ({"outcome": "ok"}, "Invalid outcome", "success, denied, rejected, failed"),
        ({"actor": ""}, "Invalid actor", "1 to 256 characters"),
        ({"user": "tom"}, "Unknown parameter", "allowed are action, actor, continuation"),
        ({"continuation": "bm90LWEtdG9rZW4"}, "Invalid continuation", "not a token"),
    ],
)
def test_bad_parameters_are_400_problems_naming_them(
    store: CountingStore, params: dict[str, str], title: str, detail: str
) -> None:
    status, problem = get(store, **params)
    assert status == 400
    assert problem["title"] == title
    assert detail in problem["detail"], problem["detail"]


def test_a_forged_continuation_is_refused(store: CountingStore) -> None:
    def forged(**fields: object) -> str:
        token = {
            "from": "2026-11-30T00:00:00+00:00",
            "to": "2026-12-01T00:00:00+00:00",
            "filters": {},
            "at": "2026-11-30T12:00:00+00:00",
            "name": "2026/11/30/orders/x.json",
            **fields,
        }
        return base64.urlsafe_b64encode(json.dumps(token).encode()).decode()

    assert get(store, continuation=forged())[0] == 200
    for token in (
        forged(filters={"owner": "tom"}),
        forged(**{"from": "2020-01-01T00:00:00+00:00"}),
        forged(at="2026-11-30T12:00:00"),
        forged(filters=["actor"]),
    ):
        status, problem = get(store, continuation=token)
        assert (status, problem["title"]) == (400, "Invalid continuation"), token


def test_31_days_and_the_function_key_parameter_are_accepted(store: CountingStore) -> None:
    assert get(store, **{"from": "2026-10-31T12:00:00Z", "code": "function-key"})[0] == 200


def test_no_store_is_a_conflict_not_an_error() -> None:
    status, problem = get(None)
    assert status == 409
    assert "AUDIT_BLOB_ACCOUNT_URL" in problem["detail"]
