"""The local runner: the blueprints' triggers, real ServiceBusMessage objects, verdicts applied."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions.servicebus import ServiceBusMessage

from platform_common.local_bus import LocalFileBus, LockLostError
from platform_common.messaging import BusMessage
from workers_app.local_runner import LocalTrigger, run_once, triggers
from workers_app.runtime import build_runtime
from workers_app.settings import WorkersSettings
from workers_app.settlement import RETRIES_EXHAUSTED, Complete, DeadLetter, Retry, Verdict

WORKERS_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture
def bus(tmp_path: Path) -> LocalFileBus:
    return LocalFileBus(tmp_path / "bus.db")


def order_command(message_id: str = "cmd-1") -> BusMessage:
    return BusMessage(message_id=message_id, subject="OrderCreated", body="{}", session_id="o-1")


def trigger(handler: Any, max_delivery_count: int = 5) -> LocalTrigger:
    return LocalTrigger("orders_queue_worker", "orders-queue", None, max_delivery_count, handler)


def test_the_runner_covers_every_function_of_the_app(tmp_path: Path) -> None:
    # A fresh copy of function_app.py: the host indexes an app object once (get_functions
    # refuses a second call), and test_app.py indexes the imported one.
    spec = importlib.util.spec_from_file_location(
        "function_app_copy", WORKERS_DIR / "function_app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    function_app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(function_app)

    settings = WorkersSettings(messaging_mode="local-file", local_bus_path=str(tmp_path / "b.db"))
    runtime = build_runtime(settings)
    assert isinstance(runtime.bus, LocalFileBus)  # the workers publish on the shared file
    registered = {
        str(f.get_function_name()): f.get_bindings_dict()["bindings"][0]
        for f in function_app.app.get_functions()
        if f.get_bindings_dict()["bindings"][0]["type"] == "serviceBusTrigger"
    }
    local = {t.function: t for t in triggers(runtime)}
    assert set(local) == set(registered)
    for name, binding in registered.items():
        entity = binding.get("queueName") or binding["topicName"]
        setting = entity.strip("%").lower()
        assert local[name].entity == getattr(settings, setting), name
        if "subscriptionName" in binding:
            sub = binding["subscriptionName"].strip("%").lower()
            assert local[name].subscription == getattr(settings, sub), name


def test_the_handler_gets_a_real_message_and_complete_removes_it(bus: LocalFileBus) -> None:
    seen: list[func.ServiceBusMessage] = []

    def handler(message: func.ServiceBusMessage) -> Verdict:
        seen.append(message)
        return Complete("done")

    bus.send("orders-queue", order_command())
    assert isinstance(run_once(bus, trigger(handler)), Complete)

    [message] = seen
    assert isinstance(message, ServiceBusMessage)
    assert (message.message_id, message.session_id, message.delivery_count) == ("cmd-1", "o-1", 1)
    assert message.get_body() == b"{}"
    assert bus.peek("orders-queue") == []
    assert run_once(bus, trigger(handler)) is None


def test_a_retry_abandons_then_the_last_delivery_dead_letters(bus: LocalFileBus) -> None:
    def down(_message: func.ServiceBusMessage) -> Verdict:
        raise ConnectionError("orders-api down")

    bus.send("orders-queue", order_command())
    for _ in range(2):
        assert isinstance(run_once(bus, trigger(down, max_delivery_count=3)), Retry)
    verdict = run_once(bus, trigger(down, max_delivery_count=3))

    assert isinstance(verdict, DeadLetter)
    [dead] = bus.peek("orders-queue", dead_letter=True)
    assert dead.dead_letter_reason == RETRIES_EXHAUSTED
    assert "orders-api down" in (dead.dead_letter_description or "")
    assert dead.delivery_count == 3


def test_a_dead_letter_verdict_keeps_reason_and_description(bus: LocalFileBus) -> None:
    bus.send("orders-queue", order_command())
    run_once(bus, trigger(lambda _m: DeadLetter("MalformedMessage", "body is not JSON")))
    [dead] = bus.peek("orders-queue", dead_letter=True)
    assert (dead.dead_letter_reason, dead.dead_letter_description) == (
        "MalformedMessage",
        "body is not JSON",
    )


def test_a_lock_lost_during_the_handler_leaves_the_message_for_redelivery(
    bus: LocalFileBus,
) -> None:
    def loses_its_lock(message: func.ServiceBusMessage) -> Verdict:
        # The lock goes (here: released through its token) before the handler settles.
        [queued] = bus.peek("orders-queue")
        bus.abandon(replace(queued, lock_token=str(message.lock_token)))
        return Complete("done")

    bus.send("orders-queue", order_command())
    assert isinstance(run_once(bus, trigger(loses_its_lock)), Complete)  # logged, not raised

    [still] = bus.peek("orders-queue")
    assert still.message.message_id == "cmd-1"
    assert still.delivery_count == 1
    assert bus.peek("orders-queue", dead_letter=True) == []


def test_settling_with_a_stale_lock_raises(bus: LocalFileBus) -> None:
    bus.send("orders-queue", order_command())
    received = bus.receive("orders-queue")
    assert received is not None
    bus.abandon(received)
    with pytest.raises(LockLostError):
        bus.complete(received)
