"""The local-file bus keeps the Service Bus behaviour the workers rely on, across processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from platform_common.local_bus import (
    MAX_DELIVERY_COUNT_EXCEEDED,
    PLATFORM_TOPOLOGY,
    LocalFileBus,
    LocalSubscription,
    LocalTopic,
    LockLostError,
    Topology,
    label_filter,
)
from platform_common.messaging import BusMessage, build_bus
from platform_common.settings import MessagingSettings

SHARED_DIR = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def msg(message_id: str, subject: str = "OrderCreated", session: str | None = "o-1") -> BusMessage:
    return BusMessage(message_id=message_id, subject=subject, body="{}", session_id=session)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bus(tmp_path: Path, clock: Clock) -> LocalFileBus:
    return LocalFileBus(tmp_path / "bus.db", clock=clock)


def test_duplicate_detection_drops_a_repeat_within_the_window(
    bus: LocalFileBus, clock: Clock
) -> None:
    bus.send("orders-queue", msg("a"))
    bus.send("orders-queue", msg("a"))
    assert [m.message.message_id for m in bus.peek("orders-queue")] == ["a"]
    clock.now += 11 * 60  # orders-queue's window is ten minutes
    bus.send("orders-queue", msg("a"))
    assert len(bus.peek("orders-queue")) == 2


def test_a_session_queue_refuses_a_message_without_a_session(bus: LocalFileBus) -> None:
    with pytest.raises(ValueError, match="requires sessions"):
        bus.send("orders-queue", msg("a", session=None))


def test_one_session_is_handed_out_in_order_and_one_at_a_time(bus: LocalFileBus) -> None:
    bus.send("orders-queue", msg("o1-first", session="o-1"))
    bus.send("orders-queue", msg("o1-second", session="o-1"))
    bus.send("orders-queue", msg("o2-first", session="o-2"))

    first = bus.receive("orders-queue")
    other = bus.receive("orders-queue")
    assert first is not None
    assert other is not None
    assert first.message.message_id == "o1-first"
    assert other.message.message_id == "o2-first"  # o-1 is locked: its second waits
    assert bus.receive("orders-queue") is None

    bus.abandon(first)
    again = bus.receive("orders-queue")
    assert again is not None
    assert again.message.message_id == "o1-first"
    assert again.delivery_count == 2
    bus.complete(again)
    second = bus.receive("orders-queue")
    assert second is not None
    assert second.message.message_id == "o1-second"


def test_an_expired_lock_redelivers_and_the_old_lock_cannot_settle(
    bus: LocalFileBus, clock: Clock
) -> None:
    bus.send("etl-queue", msg("job", session=None))
    first = bus.receive("etl-queue")
    assert first is not None
    clock.now += 5 * 60 + 1  # etl-queue locks for five minutes
    with pytest.raises(LockLostError, match="expired"):
        bus.complete(first)
    second = bus.receive("etl-queue")
    assert second is not None
    assert second.delivery_count == 2
    with pytest.raises(LockLostError, match="no longer locked"):
        bus.complete(first)
    bus.complete(second)
    assert bus.peek("etl-queue") == []


def test_renewing_a_lock_keeps_the_message(bus: LocalFileBus, clock: Clock) -> None:
    bus.send("etl-queue", msg("job", session=None))
    received = bus.receive("etl-queue")
    assert received is not None
    clock.now += 4 * 60
    renewed = bus.renew_lock(received)
    clock.now += 4 * 60
    assert bus.receive("etl-queue") is None
    bus.complete(renewed)


def test_past_the_max_delivery_count_a_message_is_dead_lettered(bus: LocalFileBus) -> None:
    bus.send("etl-queue", msg("job", session=None))  # max delivery count 3
    for _ in range(3):
        received = bus.receive("etl-queue")
        assert received is not None
        bus.abandon(received)
    assert bus.receive("etl-queue") is None
    [dead] = bus.peek("etl-queue", dead_letter=True)
    assert dead.dead_letter_reason == MAX_DELIVERY_COUNT_EXCEEDED
    assert dead.delivery_count == 3


def test_dead_letter_keeps_reason_and_description(bus: LocalFileBus) -> None:
    bus.send("orders-queue", msg("poison"))
    received = bus.receive("orders-queue")
    assert received is not None
    bus.dead_letter(received, "MalformedMessage", "body is not JSON")
    assert bus.peek("orders-queue") == []
    [dead] = bus.peek("orders-queue", dead_letter=True)
    assert (dead.dead_letter_reason, dead.dead_letter_description) == (
        "MalformedMessage",
        "body is not JSON",
    )


def test_topic_copies_to_each_subscription_its_filter_admits(bus: LocalFileBus) -> None:
    bus.send("events-topic", msg("e1", subject="OrderAccepted", session=None))
    bus.send("events-topic", msg("e2", subject="OrderFilled", session=None))
    every = [m.message.message_id for m in bus.peek("events-topic", "topic-worker")]
    notifiable = [m.message.message_id for m in bus.peek("events-topic", "notifications")]
    assert every == ["e1", "e2"]
    assert notifiable == ["e2"]
    # Each subscription settles its own copy.
    copy = bus.receive("events-topic", "notifications")
    assert copy is not None
    bus.complete(copy)
    assert len(bus.peek("events-topic", "topic-worker")) == 2


def test_filters_the_bus_cannot_express_are_refused() -> None:
    assert label_filter("sys.Label = 'X'") == frozenset({"X"})
    assert label_filter(None) is None
    with pytest.raises(ValueError, match="not supported by the local bus"):
        Topology(
            queues={},
            topics={"t": LocalTopic("t", (LocalSubscription("s", 60, 5, "user.x > 3"),))},
        )


def test_unknown_entities_are_named(bus: LocalFileBus) -> None:
    with pytest.raises(ValueError, match="unknown entity 'nope'"):
        bus.send("nope", msg("a"))
    with pytest.raises(ValueError, match="unknown subscription 'x' of 'events-topic'"):
        bus.receive("events-topic", "x")


SENDER = """
import sys
from pathlib import Path
from platform_common.local_bus import LocalFileBus
from platform_common.messaging import BusMessage
bus = LocalFileBus(Path(sys.argv[1]))
for i in range(50):
    bus.send("thirdparty-queue", BusMessage(f"{sys.argv[2]}-{i}", "Enrich", "{}"))
"""


def test_processes_share_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bus.db"
    LocalFileBus(path)
    env = {**os.environ, "PYTHONPATH": str(SHARED_DIR)}
    senders = [
        subprocess.Popen([sys.executable, "-c", SENDER, str(path), prefix], env=env)
        for prefix in "ab"
    ]
    assert [sender.wait(timeout=60) for sender in senders] == [0, 0]
    received = []
    bus = LocalFileBus(path)
    while (message := bus.receive("thirdparty-queue")) is not None:
        received.append(message.message.message_id)
        bus.complete(message)
    assert sorted(received) == sorted(f"{p}-{i}" for p in "ab" for i in range(50))


def test_messaging_mode_picks_the_bus(tmp_path: Path) -> None:
    settings = MessagingSettings(messaging_mode="local-file", local_bus_path=str(tmp_path / "b.db"))
    assert isinstance(build_bus(settings, {}), LocalFileBus)
    with pytest.raises(ValueError, match="requires LOCAL_BUS_PATH"):
        MessagingSettings(messaging_mode="local-file")
    with pytest.raises(ValueError, match="ENVIRONMENT=local only"):
        MessagingSettings.model_validate(
            {
                "environment": "dev",
                "messaging_mode": "local-file",
                "local_bus_path": str(tmp_path / "b.db"),
                "azure_sql_server": "s",
                "azure_sql_database": "d",
                "azure_client_id": "c",
                "applicationinsights_connection_string": "x",
                "servicebus_fully_qualified_namespace": "n",
            }
        )


def test_the_platform_topology_expresses_every_filter() -> None:
    notifications = PLATFORM_TOPOLOGY.topics["events-topic"].subscriptions[1]
    assert notifications.admits("OrderFilled")
    assert not notifications.admits("OrderAccepted")
