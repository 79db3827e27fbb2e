"""Audit records: who did what to which resource, when, with what outcome.

A record is an outbox row (platform_common.outbox) addressed to the audit queue, written in
the same transaction as the change it describes: no change commits without its record, and
a rolled-back change leaves none. The outbox dispatcher publishes it like any event; the
workers append it to the immutable audit store (one blob per record, named by its id, so a
re-publish finds the blob already there).

Changes carry the fields before and after with personal fields masked
(platform_common.personal_data): the store cannot be altered, so it must never hold a
value an erasure would have to remove. The actor's id stays as it is: it is the
pseudonymous account id, and the record is kept under a legal obligation (MiFID II record
keeping; GDPR Art. 17(3)(b) exempts it from erasure).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Table
from sqlalchemy.orm import Session

from platform_common.correlation import current_correlation_id
from platform_common.identity import Caller
from platform_common.outbox import insert_into
from platform_common.personal_data import mask_mapping

AUDIT_SUBJECT = "AuditRecord"
AUDIT_SCHEMA = 1
# Records about writes that never reached the handler (a 422, a 403) and reads have no
# transaction of their own to join; they get one, committed with the record alone.
Outcome = Literal["success", "denied", "rejected", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("success", "denied", "rejected", "failed")


@dataclass(frozen=True)
class AuditEntry:
    """One audited action. `before`/`after` are the changed resource's fields (unmasked
    here; masked when the body is built)."""

    action: str
    resource_type: str
    resource_id: str | None
    actor_id: str
    actor_roles: tuple[str, ...]
    outcome: Outcome = "success"
    status_code: int = 200
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    details: Mapping[str, Any] | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"audit outcome {self.outcome!r} is not one of {', '.join(OUTCOMES)}")
        if not self.action or not self.resource_type:
            raise ValueError("an audit entry needs an action and a resource type")

    @classmethod
    def by(
        cls,
        caller: Caller,
        action: str,
        resource_type: str,
        resource_id: str | None,
        **fields: Any,
    ) -> AuditEntry:
        """An entry for the caller the gateway forwarded."""
        return cls(
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            actor_id=caller.caller_id,
            actor_roles=tuple(sorted(role.value for role in caller.roles)),
            **fields,
        )

    def changes(self) -> dict[str, Any] | None:
        """Before and after, masked; only the fields that differ (all of them on create)."""
        if self.before is None and self.after is None:
            return None
        before = dict(self.before or {})
        after = dict(self.after or {})
        changed = sorted(
            key
            for key in before.keys() | after.keys()
            if before.get(key, _ABSENT) != after.get(key, _ABSENT)
        )
        return {
            "before": mask_mapping({k: before[k] for k in changed if k in before}),
            "after": mask_mapping({k: after[k] for k in changed if k in after}),
        }

    def record(self, service: str) -> dict[str, Any]:
        """The record as the audit store keeps it (schema 1)."""
        return {
            "schema": AUDIT_SCHEMA,
            "id": self.id,
            "service": service,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
            "actor": {"id": self.actor_id, "roles": list(self.actor_roles)},
            "action": self.action,
            "resource": {"type": self.resource_type, "id": self.resource_id},
            "outcome": self.outcome,
            "status_code": self.status_code,
            "correlation_id": current_correlation_id(),
            "changes": self.changes(),
            "details": mask_mapping(dict(self.details)) if self.details is not None else None,
        }

    def body(self, service: str) -> str:
        return json.dumps(self.record(service), default=str, sort_keys=True)


_ABSENT = object()


def record_audit(
    session: Session | Connection,
    outbox: Table,
    entry: AuditEntry,
    *,
    service: str,
    destination: str,
) -> None:
    """Add the entry's outbox row to the caller's transaction; nothing is committed here."""
    body = entry.body(service)
    session.execute(
        insert_into(outbox),
        [
            {
                "message_id": entry.id,
                "destination": destination,
                "subject": AUDIT_SUBJECT,
                "body": body,
                "correlation_id": current_correlation_id() or entry.id,
                "created_at": entry.occurred_at,
                "attempts": 0,
            }
        ],
    )
