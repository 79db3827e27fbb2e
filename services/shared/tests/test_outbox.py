"""Outbox: same-transaction writes, rollback together, retry on bus failure, stable ids."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, func, insert, select
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from platform_common.messaging import BusMessage, InMemoryBus
from platform_common.outbox import DomainEvent, OutboxDispatcher, enqueue, outbox_table


class FlakyBus(InMemoryBus):
    """Fails the first `failures` sends, like a throttled or unreachable namespace."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def send(self, destination: str, message: BusMessage) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("namespace unreachable")
        super().send(destination, message)


@pytest.fixture
def store(tmp_path: Path) -> tuple[sessionmaker[Session], Table, Table]:
    metadata = MetaData()
    things = Table("things", metadata, Column("id", String(10), primary_key=True))
    box = outbox_table(metadata)
    engine = create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    metadata.create_all(engine)
    return sessionmaker(engine), things, box


def count(factory: sessionmaker[Session], table: Table) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def event(version: int = 1) -> DomainEvent:
    return DomainEvent("ThingCreated", "t1", version, {"name": "thing"})


def test_outbox_rows_commit_with_the_change(
    store: tuple[sessionmaker[Session], Table, Table],
) -> None:
    factory, things, box = store
    with factory() as session:
        session.execute(insert(things).values(id="t1"))
        enqueue(session, box, event(), ["q", "topic"])
        session.commit()
    assert count(factory, things) == 1
    assert count(factory, box) == 2


def test_failure_rolls_back_change_and_outbox_together(
    store: tuple[sessionmaker[Session], Table, Table],
) -> None:
    factory, things, box = store
    with factory() as session:
        session.execute(insert(things).values(id="t1"))
        enqueue(session, box, event(), ["topic"])
        with pytest.raises(IntegrityError):  # same message id twice -> unique violation
            enqueue(session, box, event(), ["topic"])
        session.rollback()
    assert count(factory, things) == 0
    assert count(factory, box) == 0


def test_dispatcher_retries_and_marks_published(
    store: tuple[sessionmaker[Session], Table, Table],
) -> None:
    factory, _things, box = store
    with factory() as session:
        enqueue(session, box, event(1), ["topic"])
        enqueue(session, box, event(2), ["topic"])
        session.commit()
    bus = FlakyBus(failures=1)
    dispatcher = OutboxDispatcher(factory, box, bus)
    assert dispatcher.dispatch_pending() == 1
    with factory() as session:
        failed = session.execute(select(box).where(box.c.published_at.is_(None))).one()
    assert failed.attempts == 1
    assert "unreachable" in failed.last_error
    assert dispatcher.dispatch_pending() == 1
    assert dispatcher.dispatch_pending() == 0
    assert [json.loads(m.body)["aggregate_version"] for m in bus.messages["topic"]] == [2, 1]
    # Every message about one aggregate carries its id as the session (orders-queue order).
    assert {(m.correlation_id, m.session_id) for m in bus.messages["topic"]} == {("t1", "t1")}


def test_message_ids_are_deterministic_and_deduplicated() -> None:
    assert event(1).message_id == event(1).message_id
    assert event(1).message_id != event(2).message_id
    bus = InMemoryBus()
    message = BusMessage(event(1).message_id, "ThingCreated", event(1).body())
    bus.send("topic", message)
    bus.send("topic", message)
    assert len(bus.messages["topic"]) == 1


def test_concurrent_pass_skips_instead_of_double_sending(
    store: tuple[sessionmaker[Session], Table, Table],
) -> None:
    factory, _things, box = store
    with factory() as session:
        enqueue(session, box, event(1), ["topic"])
        session.commit()
    lock = threading.Lock()
    bus = InMemoryBus()
    dispatcher = OutboxDispatcher(factory, box, bus, lock=lock)
    with lock:  # another pass is running
        assert dispatcher.dispatch_pending() == 0
    assert dispatcher.dispatch_pending() == 1
    assert len(bus.messages["topic"]) == 1


class GatedBus(InMemoryBus):
    """Blocks the first send until released, like a slow namespace mid-pass."""

    def __init__(self) -> None:
        super().__init__()
        self.sending = threading.Event()
        self.release = threading.Event()

    def send(self, destination: str, message: BusMessage) -> None:
        if not self.sending.is_set():
            self.sending.set()
            assert self.release.wait(5)
        super().send(destination, message)


def test_a_kick_during_a_pass_makes_that_pass_publish_the_new_rows(
    store: tuple[sessionmaker[Session], Table, Table],
) -> None:
    factory, _things, box = store
    with factory() as session:
        enqueue(session, box, event(1), ["topic"])
        session.commit()
    bus = GatedBus()
    lock, rerun = threading.Lock(), threading.Event()
    results: list[int] = []
    running = threading.Thread(
        target=lambda: results.append(
            OutboxDispatcher(factory, box, bus, lock=lock, rerun=rerun).dispatch_pending()
        )
    )
    running.start()
    assert bus.sending.wait(5)
    with factory() as session:  # committed while the pass is sending the first row
        enqueue(session, box, event(2), ["topic"])
        session.commit()
    late = OutboxDispatcher(factory, box, bus, lock=lock, rerun=rerun)
    assert asyncio.run(late.kick()) == 0  # no second pass, no thread: the running one goes on
    bus.release.set()
    running.join(5)
    assert results == [2]
    assert count_unpublished(factory, box) == 0


def test_a_batch_is_marked_in_one_commit_and_full_batches_drain(
    store: tuple[sessionmaker[Session], Table, Table],
) -> None:
    factory, _things, box = store
    with factory() as session:
        for version in range(1, 6):
            enqueue(session, box, event(version), ["topic"])
        session.commit()
    commits: list[object] = []
    event_engine = factory.kw["bind"]
    sa_event.listen(event_engine, "commit", commits.append)
    dispatcher = OutboxDispatcher(factory, box, InMemoryBus(), batch_size=2)
    assert dispatcher.dispatch_pending() == 5  # 2 + 2 + 1, one call
    assert len(commits) == 3  # one write per batch, not one per row
    assert count_unpublished(factory, box) == 0


def count_unpublished(factory: sessionmaker[Session], table: Table) -> int:
    with factory() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(table).where(table.c.published_at.is_(None))
            )
            or 0
        )


def test_hand_to_running_pass_only_while_one_runs(
    store: tuple[sessionmaker[Session], Table, Table],
) -> None:
    factory, _things, box = store
    lock, rerun = threading.Lock(), threading.Event()
    dispatcher = OutboxDispatcher(factory, box, InMemoryBus(), lock=lock, rerun=rerun)
    assert not dispatcher.hand_to_running_pass()
    assert not rerun.is_set()
    with lock:
        assert dispatcher.hand_to_running_pass()
        assert rerun.is_set()


def test_kicks_while_a_pass_lingers_share_it(
    store: tuple[sessionmaker[Session], Table, Table],
) -> None:
    factory, _things, box = store
    lock, rerun, scheduled = threading.Lock(), threading.Event(), threading.Event()

    def dispatcher() -> OutboxDispatcher:
        return OutboxDispatcher(
            factory, box, InMemoryBus(), lock=lock, rerun=rerun, scheduled=scheduled, linger=0.05
        )

    async def burst() -> list[int]:
        first = asyncio.create_task(dispatcher().kick())
        await asyncio.sleep(0)  # the first kick is lingering now
        assert scheduled.is_set()
        assert dispatcher().hand_to_running_pass()  # a commit now needs no kick of its own
        with factory() as session:
            enqueue(session, box, event(1), ["topic"])
            enqueue(session, box, event(2), ["topic"])
            session.commit()
        second = await dispatcher().kick()
        return [await first, second]

    assert asyncio.run(burst()) == [2, 0]
    assert not scheduled.is_set()
    assert count_unpublished(factory, box) == 0
