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
