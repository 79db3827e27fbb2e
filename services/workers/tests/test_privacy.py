"""propagate_erasure and the retention purge, over the real four services in process."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from orders_service.settings import get_settings as orders_settings
from payments_service.settings import get_settings as payments_settings
from platform_common.testing import caller_headers, database_rows, rows_holding
from products_service.settings import get_settings as products_settings
from users_service.settings import get_settings as users_settings
from workers_app.calls import service_client
from workers_app.privacy import PrivacyWorker, propagate_erasure, purge_all
from workers_app.settlement import (
    MALFORMED,
    RETRIES_EXHAUSTED,
    UNPROCESSABLE,
    Complete,
    DeadLetter,
    Retry,
    decide,
)

from .conftest import ADMIN, Platform, bus_message, sb_message
from .test_event_flow import _deliver_all, _filled_order

EVENTS = "events-topic"


def _database(platform: Platform, client: Any, get_settings: Callable[[], Any]) -> str:
    url: str = client.app.dependency_overrides[get_settings]().database_url
    return url


def _databases(platform: Platform) -> dict[str, str]:
    return {
        "orders": _database(platform, platform.orders, orders_settings),
        "payments": _database(platform, platform.payments, payments_settings),
        "products": _database(platform, platform.products, products_settings),
        "users": _database(platform, platform.users, users_settings),
    }


def _erase_tom(platform: Platform) -> tuple[str, Any]:
    """The admin's erasure; returns the pseudonym and the UserErased message users published."""
    answer = platform.users.post("/v1/users/tom/erasure", headers=caller_headers("ada", "admin"))
    assert answer.status_code == 200, answer.text
    sent = [
        i for i, m in enumerate(platform.users_bus.messages[EVENTS]) if m.subject == "UserErased"
    ]
    assert len(sent) == 1
    return answer.json()["pseudonym"], bus_message(platform.users_bus, EVENTS, sent[0])


def test_an_erasure_reaches_every_service_and_a_redelivery_changes_nothing(
    platform: Platform,
) -> None:
    order = _filled_order(platform)
    _deliver_all(platform)  # the settlement and the notifications exist
    # Tom's refused attempt at reference data leaves products-api an audit record naming him.
    refused = platform.products.post(
        "/v1/instruments", json={}, headers=caller_headers("tom", "trader")
    )
    assert refused.status_code == 403
    assert rows_holding(_databases(platform)["products"], '"tom"')
    pseudonym, message = _erase_tom(platform)
    worker = platform.privacy_worker()

    verdict = propagate_erasure(message, worker)

    assert isinstance(verdict, Complete), verdict
    assert "orders-api, payments-api, products-api, users-api" in verdict.note
    for name, url in _databases(platform).items():
        # Every text column of every table: no id, e-mail or name of Tom's is left.
        assert rows_holding(url, "tom", "Tom") == [], name
    kept = platform.orders.get(f"/v1/orders/{order['id']}", headers=ADMIN).json()
    assert kept["user_id"] == pseudonym
    settlements = platform.payments.get(
        f"/v1/settlements?order_id={order['id']}", headers=ADMIN
    ).json()["items"]
    assert [s["user_id"] for s in settlements] == [pseudonym]

    before = {name: database_rows(url, audit=False) for name, url in _databases(platform).items()}
    again = propagate_erasure(message, worker)
    assert isinstance(again, Complete)
    assert {
        name: database_rows(url, audit=False) for name, url in _databases(platform).items()
    } == before


def _failing(status: int | None) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        if status is None:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(status, json={"title": "down", "detail": f"answered {status}"})

    return service_client(
        "http://down.internal", "svc-workers", ("admin",), 1.0, httpx.MockTransport(handle)
    )


@pytest.mark.parametrize("status", [None, 503, 429])
def test_a_service_that_is_down_is_retried_then_dead_lettered_with_why(
    platform: Platform, status: int | None
) -> None:
    _pseudonym, message = _erase_tom(platform)
    worker = replace(platform.privacy_worker(), payments=_failing(status))

    verdict = decide(lambda m: propagate_erasure(m, worker), message, 10)
    assert isinstance(verdict, Retry), verdict
    assert "payments-api" in verdict.reason

    last = sb_message(message.get_body(), message_id=message.message_id, delivery_count=10)
    final = decide(lambda m: propagate_erasure(m, worker), last, 10)
    assert isinstance(final, DeadLetter)
    assert final.reason == RETRIES_EXHAUSTED
    # Once payments is back, the redelivery finishes (orders' part is answered as before).
    assert isinstance(propagate_erasure(message, platform.privacy_worker()), Complete)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("{not json", "not JSON"),
        (
            json.dumps(
                {
                    "type": "UserErased",
                    "id": "e-1",
                    "aggregate_id": "x",
                    "aggregate_version": 1,
                    "data": {"user_id": "tom", "pseudonym": "erased-NOTHEX"},
                }
            ),
            "data.pseudonym must match",
        ),
        (
            json.dumps(
                {
                    "type": "UserErased",
                    "id": "e-2",
                    "aggregate_id": "x",
                    "aggregate_version": 1,
                    "data": {"pseudonym": "erased-" + "0" * 32},
                }
            ),
            "data.user_id must be a string",
        ),
    ],
)
def test_a_malformed_erasure_is_dead_lettered_with_its_reason(
    platform: Platform, body: str, why: str
) -> None:
    verdict = propagate_erasure(sb_message(body), platform.privacy_worker())
    assert isinstance(verdict, DeadLetter)
    assert verdict.reason == MALFORMED
    assert why in verdict.description


def test_an_erasure_users_api_never_made_is_unprocessable(platform: Platform) -> None:
    body = {
        "type": "UserErased",
        "id": "e-3",
        "aggregate_id": "x",
        "aggregate_version": 1,
        "data": {"user_id": "tom", "pseudonym": "erased-" + "1" * 32},
    }
    verdict = propagate_erasure(sb_message(json.dumps(body)), platform.privacy_worker())
    assert isinstance(verdict, DeadLetter)
    assert verdict.reason == UNPROCESSABLE
    assert "users-api" in verdict.description


def test_the_purge_calls_every_service_and_reports_the_one_that_failed(platform: Platform) -> None:
    worker: PrivacyWorker = replace(platform.privacy_worker(), products=_failing(None))

    outcomes = purge_all(worker)

    by_service = {o.service: o for o in outcomes}
    assert set(by_service) == {"users-api", "products-api", "orders-api", "payments-api"}
    assert not by_service["products-api"].ok
    assert "ConnectError" in by_service["products-api"].detail
    assert all(by_service[s].ok for s in ("users-api", "orders-api", "payments-api"))
    assert set(by_service["orders-api"].counts) == {
        "orders",
        "idempotency_records",
        "trader_locks",
        "outbox",
    }


class _Timer:
    past_due = False


def test_the_timer_runs_every_purge_then_fails_naming_the_service(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers_app.blueprints import privacy as blueprint
    from workers_app.privacy import PurgeFailedError

    worker = replace(platform.privacy_worker(), users=_failing(503))
    runtime = type("Runtime", (), {"privacy_worker": staticmethod(lambda: worker)})
    monkeypatch.setattr(blueprint, "get_runtime", lambda: runtime)
    timer = blueprint.purge_personal_data._function.get_user_function()

    with pytest.raises(PurgeFailedError, match="users-api") as failed:
        timer(_Timer())
    assert "products-api" not in str(failed.value)  # it ran, and succeeded

    monkeypatch.setattr(blueprint, "get_runtime", lambda: platform_runtime(platform))
    timer(_Timer())  # all four purge: no error


def platform_runtime(platform: Platform) -> Any:
    worker = platform.privacy_worker()
    return type("Runtime", (), {"privacy_worker": staticmethod(lambda: worker)})


def test_an_event_that_is_not_an_erasure_needs_nothing(platform: Platform) -> None:
    body = {
        "type": "OrderCreated",
        "id": "e-9",
        "aggregate_id": "o-1",
        "aggregate_version": 1,
        "data": {"user_id": "tom"},
    }
    verdict = propagate_erasure(sb_message(json.dumps(body)), platform.privacy_worker())
    assert isinstance(verdict, Complete)
    assert platform.orders.get("/v1/orders", headers=ADMIN).json()["total"] == 0
