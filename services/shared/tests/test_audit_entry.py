"""Audit entries: the record body, masked changes, the outbox row in the caller's transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, create_engine, func, select
from sqlalchemy.orm import Session

from platform_common.audit import AUDIT_SUBJECT, AuditEntry, record_audit
from platform_common.correlation import _current
from platform_common.identity import Caller, Role
from platform_common.outbox import outbox_table

ADMIN = Caller("u-admin-0001", frozenset({Role.ADMIN, Role.RISK_MANAGER}))


def test_record_has_schema_1_fields_and_masks_changed_personal_fields() -> None:
    entry = AuditEntry.by(
        ADMIN,
        "user.update",
        "user",
        "u-alice-1234",
        before={"email": "alice@example.com", "roles": "trader", "active": True},
        after={"email": "alice@example.com", "roles": "trader,viewer", "active": True},
        occurred_at=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    )
    token = _current.set("corr-1")
    try:
        record = entry.record("users")
    finally:
        _current.reset(token)
    assert record == {
        "schema": 1,
        "id": entry.id,
        "service": "users",
        "occurred_at": "2026-12-01T12:00:00+00:00",
        "actor": {"id": "u-admin-0001", "roles": ["admin", "risk_manager"]},
        "action": "user.update",
        "resource": {"type": "user", "id": "u-alice-1234"},
        "outcome": "success",
        "status_code": 200,
        "correlation_id": "corr-1",
        # only what changed; unchanged personal fields are not repeated
        "changes": {"before": {"roles": "trader"}, "after": {"roles": "trader,viewer"}},
        "details": None,
    }


def test_created_resource_changes_are_all_fields_masked() -> None:
    entry = AuditEntry.by(
        ADMIN, "user.create", "user", "u-bob", after={"email": "bob@example.com", "id": "u-bob"}
    )
    assert entry.changes() == {
        "before": {},
        "after": {"email": "b***@example.com", "id": "u-bob"},
    }
    assert AuditEntry.by(ADMIN, "orders.list", "order", None).changes() is None


def test_bad_entries_are_refused() -> None:
    with pytest.raises(ValueError, match="outcome 'ok' is not one of success, denied"):
        AuditEntry.by(ADMIN, "x", "y", None, outcome="ok")
    with pytest.raises(ValueError, match="needs an action and a resource type"):
        AuditEntry.by(ADMIN, "", "y", None)


def test_record_audit_joins_the_callers_transaction() -> None:
    metadata = MetaData()
    outbox = outbox_table(metadata)
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    entry = AuditEntry.by(ADMIN, "order.cancel", "order", "o-1", status_code=200)
    with Session(engine) as session:
        record_audit(session, outbox, entry, service="orders", destination="audit-queue")
        session.rollback()  # the change failed: its record goes with it
        assert session.scalar(select(func.count()).select_from(outbox)) == 0
        record_audit(session, outbox, entry, service="orders", destination="audit-queue")
        session.commit()
        row = session.execute(select(outbox)).one()
    assert (row.message_id, row.destination, row.subject) == (
        entry.id,
        "audit-queue",
        AUDIT_SUBJECT,
    )
    assert json.loads(row.body)["resource"] == {"type": "order", "id": "o-1"}
    assert row.correlation_id == entry.id  # outside a request the record's id correlates
