"""SQLite writers of one engine take turns on a Python lock instead of SQLite's busy loop."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.exc import OperationalError

from platform_common.db import SQLiteWriteQueue, build_engine
from platform_common.settings import ServiceSettings

metadata = MetaData()
things = Table(
    "things", metadata, Column("id", Integer, primary_key=True), Column("name", String(20))
)


def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=0")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """build_engine's engine, but SQLite itself gives up at once on a locked database: a
    writer that reaches SQLite while another holds the lock fails with "database is locked",
    so these tests see whether the queue, not SQLite's busy loop, did the waiting."""
    engine = build_engine(ServiceSettings(database_url=f"sqlite:///{tmp_path / 'w.db'}"))
    event.listen(engine, "connect", _no_busy_wait)  # runs after build_engine's pragmas
    metadata.create_all(engine)
    return engine


def _second_writer(
    engine: Engine, started: threading.Event, done: threading.Event, errors: list[Exception]
) -> None:
    with engine.connect() as conn:
        started.set()
        try:
            conn.execute(insert(things).values(name="second"))
            conn.commit()
        except OperationalError as exc:
            errors.append(exc)
    done.set()


def test_second_writer_waits_for_the_first_commit_in_the_queue(engine: Engine) -> None:
    started, done = threading.Event(), threading.Event()
    errors: list[Exception] = []
    with engine.connect() as first:
        first.execute(insert(things).values(name="first"))  # takes the turn
        thread = threading.Thread(target=_second_writer, args=(engine, started, done, errors))
        thread.start()
        started.wait(5)
        time.sleep(0.3)
        assert not done.is_set(), errors or "the second writer must wait for the first"
        # Reads need no turn while a write is pending.
        with engine.connect() as reader:
            assert reader.execute(select(things)).all() == []
        first.commit()
    assert done.wait(5)
    thread.join(5)
    assert errors == []
    with engine.connect() as conn:
        assert [r.name for r in conn.execute(select(things).order_by(things.c.id))] == [
            "first",
            "second",
        ]


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_rollback_or_checkin_gives_the_turn_back(engine: Engine, end: str) -> None:
    started, done = threading.Event(), threading.Event()
    errors: list[Exception] = []
    first = engine.connect()
    first.execute(insert(things).values(name="dropped"))
    thread = threading.Thread(target=_second_writer, args=(engine, started, done, errors))
    thread.start()
    started.wait(5)
    time.sleep(0.1)
    assert not done.is_set()
    if end == "rollback":
        first.rollback()
    first.close()
    assert done.wait(5)
    thread.join(5)
    assert errors == []
    with engine.connect() as conn:
        assert [r.name for r in conn.execute(select(things))] == ["second"]


def test_reads_and_pragmas_take_no_turn(engine: Engine) -> None:
    with engine.connect() as writer:
        writer.execute(text("UPDATE things SET name = 'x'"))  # text() statements count too
        finished = threading.Event()

        def read() -> None:
            with engine.connect() as conn:
                conn.execute(select(things)).all()
                conn.execute(text("PRAGMA journal_mode")).all()
            finished.set()

        threading.Thread(target=read).start()
        assert finished.wait(2)
        writer.commit()


def test_a_turn_not_granted_in_time_falls_through_to_sqlite(tmp_path: Path) -> None:
    """After its timeout the queue lets the writer on to SQLite (which then decides), so a
    stuck turn can never hang a request forever."""
    bare = create_engine(f"sqlite:///{tmp_path / 'd.db'}", connect_args={"timeout": 0})
    metadata.create_all(bare)
    SQLiteWriteQueue(timeout=0.2).attach(bare)
    with bare.connect() as first, bare.connect() as second:
        first.execute(insert(things).values(name="a"))
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            second.execute(insert(things).values(name="b"))
        assert 0.15 < time.monotonic() - started < 2
        first.commit()
