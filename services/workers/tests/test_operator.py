"""The etl-queue handler, the operator's HTTP actions and the dead-letter replay."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import azure.functions as func
import httpx
from azure.servicebus import ServiceBusSubQueue

from platform_common.messaging import InMemoryBus
from workers_app.deadletters import ServiceBusReplayer
from workers_app.etl import SqliteInstrumentStore
from workers_app.etl_day import FILE_REQUEST, EtlJob, handle_file_request
from workers_app.operator_api import replay_dead_letters, start_etl_run
from workers_app.settlement import MALFORMED, UNPROCESSABLE, Complete, DeadLetter, Retry
from workers_app.staging import InMemoryBlobStore

from .conftest import sb_message
from .test_etl_day import GOOD, Esma, _zipped

DAY = date(2026, 11, 30)


def _job(esma: Esma, tmp_path: Path) -> tuple[EtlJob, InMemoryBlobStore]:
    blobs = InMemoryBlobStore()
    job = EtlJob(
        esma=httpx.Client(
            base_url="https://registers.esma.europa.eu", transport=httpx.MockTransport(esma)
        ),
        blobs=blobs,
        store=lambda: SqliteInstrumentStore(tmp_path / "p.db"),
        staging_container="raw",
        archive_container="archive",
        file_types=("FULINS",),
        max_file_bytes=10_000_000,
    )
    return job, blobs


def _post(
    body: bytes = b"", params: dict[str, str] | None = None, **route: str
) -> func.HttpRequest:
    return func.HttpRequest(
        "POST", "/api/operator", body=body, params=params or {}, route_params=route
    )


def test_operator_starts_a_run_the_queue_worker_then_loads(tmp_path: Path) -> None:
    job, blobs = _job(Esma({GOOD: _zipped("FULINS_E_20261130_01of01.xml")}), tmp_path)
    bus = InMemoryBus()

    answer = start_etl_run(_post(b'{"day": "2026-11-30"}'), job, bus, "etl-queue", DAY)

    assert answer.status_code == 202
    assert json.loads(answer.get_body()) == {
        "day": "2026-11-30",
        "queued": [GOOD],
        "queue": "etl-queue",
    }
    (queued,) = bus.messages["etl-queue"]
    assert queued.subject == FILE_REQUEST
    # Starting the same day again queues the same id, which duplicate detection drops.
    start_etl_run(_post(b'{"day": "2026-11-30"}'), job, bus, "etl-queue", DAY)
    assert len(bus.messages["etl-queue"]) == 1

    verdict = handle_file_request(sb_message(queued.body, message_id=queued.message_id), job)

    assert verdict == Complete(f"{GOOD} loaded (archived as loaded/2026-11-30/{GOOD})")
    assert blobs.names("archive") == [f"loaded/2026-11-30/{GOOD}"]
    assert SqliteInstrumentStore(tmp_path / "p.db").count() == 2


def test_operator_refuses_bad_days_with_the_reason(tmp_path: Path) -> None:
    job, _ = _job(Esma({}), tmp_path)
    bus = InMemoryBus()
    for body, detail in (
        (b"{", "Body is not JSON"),
        (b'{"day": "30/11/2026"}', "is not YYYY-MM-DD"),
        (b'{"day": "2026-12-02"}', "in the future"),
        (b'{"day": "2026-11-30", "force": true}', 'only field is "day"'),
    ):
        answer = start_etl_run(_post(body), job, bus, "etl-queue", DAY)
        assert answer.status_code == 400, body
        problem = json.loads(answer.get_body())
        assert detail in f"{problem['title']}: {problem['detail']}"
    assert bus.messages == {}


def test_register_outage_is_503_to_the_operator(tmp_path: Path) -> None:
    job, _ = _job(Esma({}), tmp_path)
    down = EtlJob(
        **{
            **job.__dict__,
            "esma": httpx.Client(
                base_url="https://registers.esma.europa.eu",
                transport=httpx.MockTransport(lambda r: httpx.Response(502)),
            ),
        }
    )
    assert start_etl_run(_post(), down, InMemoryBus(), "etl-queue", DAY).status_code == 503


def _file_message(**data: Any) -> func.ServiceBusMessage:
    body = {
        "type": FILE_REQUEST,
        "id": "f-1",
        "aggregate_id": GOOD,
        "aggregate_version": 0,
        "data": {
            "day": "2026-11-30",
            "file_name": GOOD,
            "download_link": f"https://firds.esma.europa.eu/firds/{GOOD}",
            **data,
        },
    }
    return sb_message(json.dumps(body))


def test_file_jobs_poison_and_outage(tmp_path: Path) -> None:
    job, blobs = _job(Esma({}), tmp_path)  # the file is not on ESMA's host: 404

    missing = handle_file_request(_file_message(), job)
    bad_name = handle_file_request(_file_message(file_name="../x.zip"), job)
    elsewhere = handle_file_request(_file_message(download_link="file:///etc/passwd"), job)
    bad_day = handle_file_request(_file_message(day="yesterday"), job)

    assert isinstance(missing, DeadLetter)
    assert missing.reason == UNPROCESSABLE
    assert "404" in missing.description
    for verdict in (bad_name, elsewhere, bad_day):
        assert isinstance(verdict, DeadLetter)
        assert verdict.reason == MALFORMED
    assert blobs.blobs == {}

    down = EtlJob(
        **{
            **job.__dict__,
            "esma": httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503))),
        }
    )
    assert isinstance(handle_file_request(_file_message(), down), Retry)


@dataclass
class Dead:
    """A dead-lettered message as azure-servicebus's receiver hands it over."""

    message_id: str
    body: bytes
    session_id: str | None = None
    correlation_id: str | None = None
    subject: str | None = "OrderCreated"
    content_type: str | None = "application/json"
    application_properties: dict[str, Any] | None = None
    dead_letter_reason: str | None = "RetriesExhausted"


@dataclass
class FakeServiceBus:
    """The ServiceBusClient surface the replayer uses, holding one queue's dead letters."""

    dead: list[Dead]
    sent: list[Any] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    opened: list[tuple[str, Any]] = field(default_factory=list)

    def get_queue_receiver(self, *, queue_name: str, sub_queue: Any, max_wait_time: float) -> Any:
        self.opened.append((queue_name, sub_queue))
        bus = self

        class Receiver:
            def __enter__(self) -> Receiver:
                return self

            def __exit__(self, *exc: object) -> None:
                return None

            def receive_messages(self, max_message_count: int, max_wait_time: float) -> list[Dead]:
                batch, bus.dead[:] = bus.dead[:max_message_count], bus.dead[max_message_count:]
                return batch

            def complete_message(self, message: Dead) -> None:
                bus.completed.append(message.message_id)

        return Receiver()

    def get_queue_sender(self, *, queue_name: str) -> Any:
        bus = self

        class Sender:
            def __enter__(self) -> Sender:
                return self

            def __exit__(self, *exc: object) -> None:
                return None

            def send_messages(self, message: Any) -> None:
                bus.sent.append(message)

        return Sender()


def test_replay_resends_with_a_new_id_then_completes() -> None:
    client = FakeServiceBus(
        [Dead(f"m-{i}", b'{"x": %d}' % i, session_id="order-1") for i in range(3)]
    )
    replayer = ServiceBusReplayer(client, frozenset({"orders-queue"}))

    answer = replay_dead_letters(_post(params={"max": "2"}, entity="orders-queue"), replayer)

    assert answer.status_code == 200
    assert json.loads(answer.get_body()) == {
        "entity": "orders-queue",
        "replayed": 2,
        "message_ids": ["m-0", "m-1"],
    }
    assert client.opened == [("orders-queue", ServiceBusSubQueue.DEAD_LETTER)]
    assert client.completed == ["m-0", "m-1"]
    first = client.sent[0]
    assert first.message_id not in ("m-0", "m-1")
    assert first.session_id == "order-1"
    assert b"".join(first.body) == b'{"x": 0}'
    assert first.application_properties["replayed_from"] == "m-0"
    assert first.application_properties["dead_letter_reason"] == "RetriesExhausted"
    assert len(client.dead) == 1


def test_replay_refuses_what_it_cannot_replay() -> None:
    replayer = ServiceBusReplayer(FakeServiceBus([]), frozenset({"orders-queue"}))
    unknown = replay_dead_letters(_post(entity="events-topic"), replayer)
    assert unknown.status_code == 404
    assert "allowed: orders-queue" in unknown.get_body().decode()
    assert (
        replay_dead_letters(_post(params={"max": "0"}, entity="orders-queue"), replayer).status_code
        == 400
    )
    local = replay_dead_letters(_post(entity="orders-queue"), None)
    assert local.status_code == 409
