"""The services' local-file bus knows the same entities as infra/messaging/entities.py.

The services cannot import the infra package (it is not shipped with them), so the local
bus carries its own copy of the topology; this keeps the copy honest.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from infra.messaging.entities import QueueSpec, TopicSpec, queues, topics

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "shared"))
from platform_common.local_bus import PLATFORM_TOPOLOGY, label_filter

_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


def seconds(iso: str | None) -> float | None:
    """PT#H#M#S (the forms entities.py uses for locks and duplicate windows) in seconds."""
    if iso is None:
        return None
    match = _DURATION.match(iso)
    assert match, f"unexpected duration {iso!r}"
    hours, minutes, secs = (int(part or 0) for part in match.groups())
    return float(hours * 3600 + minutes * 60 + secs)


def test_queues_match_the_infra_table() -> None:
    spec: QueueSpec
    assert set(PLATFORM_TOPOLOGY.queues) == {q.name for q in queues()}
    for spec in queues():
        local = PLATFORM_TOPOLOGY.queues[spec.name]
        assert local.lock_seconds == seconds(spec.lock_duration), spec.name
        assert local.max_delivery_count == spec.max_delivery_count, spec.name
        assert local.requires_session == spec.requires_session, spec.name
        window = seconds(spec.duplicate_detection_window)
        expected = window if spec.requires_duplicate_detection else None
        assert local.duplicate_detection_seconds == expected, spec.name


def test_topics_and_subscription_filters_match_the_infra_table() -> None:
    spec: TopicSpec
    assert set(PLATFORM_TOPOLOGY.topics) == {t.name for t in topics()}
    for spec in topics():
        local = PLATFORM_TOPOLOGY.topics[spec.name]
        window = seconds(spec.duplicate_detection_window)
        expected = window if spec.requires_duplicate_detection else None
        assert local.duplicate_detection_seconds == expected, spec.name
        assert [s.name for s in local.subscriptions] == [s.name for s in spec.subscriptions]
        for mine, theirs in zip(local.subscriptions, spec.subscriptions, strict=True):
            assert mine.lock_seconds == seconds(theirs.lock_duration), theirs.name
            assert mine.max_delivery_count == theirs.max_delivery_count, theirs.name
            # Same admitted labels (the local bus refuses filters it cannot express).
            assert label_filter(mine.sql_filter) == label_filter(theirs.sql_filter), theirs.name
