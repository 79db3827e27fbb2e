"""platform_common.erasure: pseudonyms, the purge clock, and outbox scrubbing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from platform_common.erasure import (
    PSEUDONYM_PATTERN,
    PurgeRequest,
    derived_pseudonym,
    new_pseudonym,
    purge_cutoff,
    record_erasure,
    scrub_outbox,
)
from platform_common.errors import ProblemError
from platform_common.outbox import outbox_table


def test_pseudonyms_have_the_contract_shape_and_derived_ones_depend_on_the_salt() -> None:
    assert re.fullmatch(PSEUDONYM_PATTERN, new_pseudonym())
    assert new_pseudonym() != new_pseudonym()
    one = derived_pseudonym("salt-a", "tom")
    assert re.fullmatch(PSEUDONYM_PATTERN, one)
    assert one == derived_pseudonym("salt-a", "tom")
    assert one not in (derived_pseudonym("salt-b", "tom"), derived_pseudonym("salt-a", "tina"))


def test_a_client_clock_is_refused_outside_local() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    body = PurgeRequest(now=now)
    assert purge_cutoff(body, "local", 10) == now - timedelta(days=10)
    with pytest.raises(ProblemError) as refused:
        purge_cutoff(body, "prod", 10)
    assert refused.value.status == 422
    assert "ENVIRONMENT=local" in str(refused.value.detail)
    assert purge_cutoff(None, "prod", 10) < datetime.now(UTC) - timedelta(days=9)
    with pytest.raises(ProblemError) as early:
        purge_cutoff(PurgeRequest(now=datetime(1, 1, 2, tzinfo=UTC)), "local", 10)
    assert early.value.status == 422


def test_scrub_deletes_delivered_rows_and_rewrites_pending_ones() -> None:
    metadata = sa.MetaData()
    outbox = outbox_table(metadata)
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    now = datetime.now(UTC)

    def row(message_id: str, data: object, published: bool) -> dict[str, object]:
        return {
            "message_id": message_id,
            "destination": "events-topic",
            "subject": "OrderCreated",
            "body": json.dumps({"data": data}),
            "created_at": now,
            "published_at": now if published else None,
            "attempts": 0,
        }

    with engine.begin() as conn:
        conn.execute(
            sa.insert(outbox),
            [
                row("sent", {"user_id": "tom"}, True),
                row("pending", {"user_id": "tom", "nested": [{"by": "tom"}]}, False),
                row("other", {"user_id": "tomas", "note": "tom's friend"}, True),
            ],
        )
        counts = scrub_outbox(conn, outbox, "tom", "erased-" + "0" * 32)
        left = {r.message_id: json.loads(r.body) for r in conn.execute(sa.select(outbox))}
    assert counts == {"outbox_deleted": 1, "outbox_pseudonymised": 1}
    assert set(left) == {"pending", "other"}
    assert left["pending"]["data"] == {
        "user_id": "erased-" + "0" * 32,
        "nested": [{"by": "erased-" + "0" * 32}],
    }
    assert left["other"]["data"]["user_id"] == "tomas"


def test_a_recorded_erasure_is_found_whole_and_a_mixed_pair_is_a_conflict() -> None:
    from platform_common.erasure import ErasureRequest, conflicting_erasure, erasures_table

    metadata = sa.MetaData()
    table = erasures_table(metadata)
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    tom, tina = new_pseudonym(), new_pseudonym()
    first = ErasureRequest(user_id="tom", pseudonym=tom)
    with engine.begin() as conn:
        assert conflicting_erasure(conn, table, first) is None
        record_erasure(conn, table, user_id="tom", pseudonym=tom, requested_by="w", counts={"a": 1})
        record_erasure(conn, table, user_id="tina", pseudonym=tina, requested_by="w", counts={})
        again = conflicting_erasure(conn, table, first)
        assert again is not None
        assert (again.pseudonym, again.counts) == (tom, {"a": 1})
        # Each half names a different erasure (one read, both rows): a conflict, not a repeat.
        for mixed in (
            ErasureRequest(user_id="tom", pseudonym=tina),
            ErasureRequest(user_id="tom", pseudonym=new_pseudonym()),
            ErasureRequest(user_id="someone", pseudonym=tom),
        ):
            with pytest.raises(ProblemError) as refused:
                conflicting_erasure(conn, table, mixed)
            assert refused.value.status == 409
