"""Erasure and retention, shared by the four services: pseudonyms, records, outbox scrubbing.

An erasure (GDPR Art. 17) replaces a user's id by a pseudonym `erased-<32 hex>` wherever a
record must be kept (orders and settlements: MiFID II Art. 16(6) and 25, five years), and
deletes what is only personal. Each service keeps one `erasures` row per pseudonym, so the
same request again answers the same body and changes nothing; the row holds the sha256 of
the original id (to recognise a repeat), never the id itself.

Retention pseudonymises with a pseudonym *derived* per user: `erased-` + the first 32 hex of
sha256(salt ":" user id), the salt random and stored once per database. One user's old
records stay linkable to each other (a regulator's question about one client still has an
answer), nobody without the database can compute it from the id (the salt is 256 random
bits), and a database copy without the salt table cannot either. No HMAC key to manage:
the salt never leaves the database it pseudonymises.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from platform_common.audit import AUDIT_SUBJECT, audit_change
from platform_common.errors import ProblemError
from platform_common.text import NoControlCharacters
from platform_common.types import UtcTimestamp

PSEUDONYM_PREFIX = "erased-"
PSEUDONYM_PATTERN = r"^erased-[0-9a-f]{32}$"
Db = Session | Connection


def new_pseudonym() -> str:
    """A random pseudonym (an erasure): nothing links it to the id it replaces."""
    return PSEUDONYM_PREFIX + secrets.token_hex(16)


def id_digest(user_id: str) -> str:
    """What an erasures row keeps of the original id: enough to recognise a repeat request."""
    return hashlib.sha256(user_id.encode()).hexdigest()


def derived_pseudonym(salt: str, user_id: str) -> str:
    """The retention pseudonym of `user_id` in the database whose salt this is."""
    return PSEUDONYM_PREFIX + hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()[:32]


# --- request and response bodies -----------------------------------------------------------


class ErasureRequest(BaseModel):
    """What the workers send each service for one UserErased event."""

    model_config = ConfigDict(extra="forbid")

    user_id: Annotated[str, Field(min_length=1, max_length=128), NoControlCharacters] = Field(
        description="The erased user's original id."
    )
    pseudonym: str = Field(
        pattern=PSEUDONYM_PATTERN,
        description="The pseudonym users-api chose: `erased-` and 32 lower-case hex digits.",
    )


class ErasureOut(BaseModel):
    """One service's record of an erasure; a repeat answers the same."""

    pseudonym: str
    erased_at: UtcTimestamp
    requested_by: str
    counts: dict[str, int] = Field(description="Rows changed or deleted, per kind.")


class ErasureStatus(ErasureOut):
    """An erasure and whether it is finished everywhere (users-api's GET)."""

    completed_at: UtcTimestamp | None = Field(
        None,
        description=(
            "When the workers reported every service done and users-api deleted the "
            "UserErased event's row; null while the erasure is propagating."
        ),
    )

    def answer(self) -> ErasureOut:
        """The erasure as first answered: a repeat's body does not change as it propagates."""
        return ErasureOut.model_validate(self.model_dump(exclude={"completed_at"}))


class PurgeRequest(BaseModel):
    """Optional body of a retention purge; `now` is honoured only when ENVIRONMENT=local."""

    model_config = ConfigDict(extra="forbid")

    now: UtcTimestamp | None = Field(
        None, description="The purge's clock (tests on ENVIRONMENT=local only)."
    )


class PurgeOut(BaseModel):
    retention_days: int
    cutoff: UtcTimestamp = Field(description="Records older than this were purged.")
    counts: dict[str, int]


def purge_cutoff(body: PurgeRequest | None, environment: str, retention_days: int) -> datetime:
    """The instant before which records go; a client's clock only on a developer's machine."""
    now = body.now if body is not None else None
    if now is not None and environment != "local":
        raise ProblemError(
            422,
            "Clock not accepted",
            f"`now` is accepted only when ENVIRONMENT=local (this is {environment}); "
            "send no body to purge by the service's clock.",
        )
    try:
        return (now or datetime.now(UTC)) - timedelta(days=retention_days)
    except OverflowError as exc:
        raise ProblemError(
            422,
            "Clock not accepted",
            f"`now` minus the retention ({retention_days} days) is before year 1; "
            "send a later time.",
        ) from exc


def require_workers(caller_id: str, workers_caller_id: str, action: str) -> None:
    """Internal routes the workers alone call: the role grant plus the pinned caller id."""
    if caller_id != workers_caller_id:
        raise ProblemError(403, "Forbidden", f"{action} is reserved to the workers' identity.")


# --- tables ------------------------------------------------------------------------------


def erasures_table(metadata: MetaData) -> Table:
    """One row per erasure a service carried out (its answer to a repeat)."""
    return Table(
        "erasures",
        metadata,
        Column("pseudonym", String(40), primary_key=True),
        Column("user_digest", String(64), nullable=False, unique=True),
        Column("erased_at", DateTime(timezone=True), nullable=False),
        Column("requested_by", String(128), nullable=False),
        Column("counts", Text, nullable=False),
        Column("completed_at", DateTime(timezone=True), nullable=True),
    )


def salt_table(metadata: MetaData) -> Table:
    """The database's one retention salt (row id 1), made by the first purge."""
    return Table(
        "pseudonym_salt",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("salt", String(64), nullable=False),
    )


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def find_erasure(
    db: Db, table: Table, *, user_id: str | None, pseudonym: str | None
) -> ErasureStatus | None:
    """The recorded erasure of this original id or under this pseudonym."""
    conditions = []
    if user_id is not None:
        conditions.append(table.c.user_digest == id_digest(user_id))
    if pseudonym is not None:
        conditions.append(table.c.pseudonym == pseudonym)
    if not conditions:
        return None
    for condition in conditions:
        row = db.execute(select(table).where(condition)).first()
        if row is not None:
            return ErasureStatus(
                pseudonym=row.pseudonym,
                erased_at=_aware(row.erased_at),
                requested_by=row.requested_by,
                counts=json.loads(row.counts),
                completed_at=_aware(row.completed_at) if row.completed_at else None,
            )
    return None


def record_erasure(
    db: Db,
    table: Table,
    *,
    user_id: str,
    pseudonym: str,
    requested_by: str,
    counts: Mapping[str, int],
) -> ErasureOut:
    """Insert the erasures row in the caller's transaction (a duplicate raises IntegrityError)."""
    erased_at = datetime.now(UTC)
    db.execute(
        insert(table),
        [
            {
                "pseudonym": pseudonym,
                "user_digest": id_digest(user_id),
                "erased_at": erased_at,
                "requested_by": requested_by,
                "counts": json.dumps(dict(counts), sort_keys=True),
            }
        ],
    )
    return ErasureOut(
        pseudonym=pseudonym, erased_at=erased_at, requested_by=requested_by, counts=dict(counts)
    )


def conflicting_erasure(db: Db, table: Table, body: ErasureRequest) -> ErasureOut | None:
    """The recorded erasure for this request; 409 when the id or pseudonym was used otherwise.

    One statement reads both: two would let a concurrent delivery's commit land between
    them, and the same request would look like a different one.
    """
    digest = id_digest(body.user_id)
    rows = db.execute(
        select(table).where(or_(table.c.pseudonym == body.pseudonym, table.c.user_digest == digest))
    ).all()
    if not rows:
        return None
    (row, *others) = rows
    if others or row.pseudonym != body.pseudonym or row.user_digest != digest:
        raise ProblemError(
            409,
            "Erasure conflicts with an earlier one",
            "This user id or pseudonym was already erased with a different counterpart; "
            "an erasure is repeated with the same user_id and pseudonym.",
        )
    return ErasureOut(
        pseudonym=row.pseudonym,
        erased_at=_aware(row.erased_at),
        requested_by=row.requested_by,
        counts=json.loads(row.counts),
    )


def mark_completed(db: Db, table: Table, pseudonym: str) -> datetime:
    completed_at = datetime.now(UTC)
    db.execute(
        update(table).where(table.c.pseudonym == pseudonym).values(completed_at=completed_at)
    )
    return completed_at


def rowcount(result: Any) -> int:
    """Rows a DELETE or UPDATE matched (Session.execute types its result loosely)."""
    return int(result.rowcount or 0)


def retention_salt(db: Db, table: Table) -> str:
    """The database's salt, created (256 random bits) by the first caller that needs it."""
    found = db.execute(select(table.c.salt).where(table.c.id == 1)).scalar()
    if found is not None:
        return str(found)
    salt = secrets.token_hex(32)
    conn = db.connection() if isinstance(db, Session) else db
    try:
        with conn.begin_nested():
            conn.execute(insert(table), [{"id": 1, "salt": salt}])
    except IntegrityError:  # a concurrent first purge stored its own: use that one
        stored = db.execute(select(table.c.salt).where(table.c.id == 1)).scalar_one()
        return str(stored)
    return salt


# --- the outbox ---------------------------------------------------------------------------


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _mentions(value: Any, user_id: str) -> bool:
    if isinstance(value, str):
        return value == user_id
    if isinstance(value, Mapping):
        return any(_mentions(v, user_id) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, user_id) for v in value)
    return False


def _replaced(value: Any, user_id: str, pseudonym: str) -> Any:
    if isinstance(value, str):
        return pseudonym if value == user_id else value
    if isinstance(value, Mapping):
        return {k: _replaced(v, user_id, pseudonym) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, user_id, pseudonym) for v in value]
    return value


def outbox_rows_naming(db: Db, outbox: Table, user_id: str) -> list[Any]:
    """Outbox rows whose JSON body holds `user_id` as a value (at any depth)."""
    # Bodies are json.dumps output (ASCII), so the id appears as its JSON string literal.
    needle = "%" + _like_escape(json.dumps(user_id)) + "%"
    rows = db.execute(
        select(outbox.c.id, outbox.c.subject, outbox.c.body, outbox.c.published_at).where(
            outbox.c.body.like(needle, escape="\\")
        )
    ).all()
    found = []
    for row in rows:
        try:
            body = json.loads(row.body)
        except ValueError:
            continue
        if _mentions(body, user_id):
            found.append(row)
    return found


def audit_replay(session: Session, pseudonym: str) -> None:
    """A repeated erasure request changes nothing but is audited, under the pseudonym: the
    record must not bring back the id the erasure removed (the request's path or body names
    it, and the middleware's own record would)."""
    audit_change(session, resource_id=pseudonym, resource_type="user", details={"replay": True})
    session.commit()


def apply_once(
    session: Session, table: Table, body: ErasureRequest, apply: Callable[[], ErasureOut]
) -> tuple[ErasureOut, bool]:
    """The erasure applied and committed once: (answer, whether this call changed anything).

    A repeat, or a concurrent delivery of the same event that recorded it first (its unique
    key refuses ours), answers as recorded and is audited as a replay.
    """
    done = conflicting_erasure(session, table, body)
    if done is not None:
        audit_replay(session, body.pseudonym)
        return done, False
    try:
        done = apply()
        session.commit()
    except IntegrityError:
        session.rollback()
        raced = conflicting_erasure(session, table, body)
        if raced is None:
            raise
        audit_replay(session, body.pseudonym)
        return raced, False
    return done, True


def scrub_outbox(
    db: Db, outbox: Table, user_id: str, pseudonym: str, *, delete_all: bool = False
) -> dict[str, int]:
    """Published rows naming the user are deleted (they were delivered); unpublished ones are
    rewritten with the pseudonym, so what is still to be sent names nobody. `delete_all`
    deletes unpublished events too (users-api, once the workers have the UserErased event),
    but never an unpublished audit record: it is rewritten, so every change keeps its record
    on its way to the audit store."""
    deleted = rewritten = 0
    for row in outbox_rows_naming(db, outbox, user_id):
        unsent_record = row.published_at is None and row.subject == AUDIT_SUBJECT
        if row.published_at is not None or (delete_all and not unsent_record):
            db.execute(delete(outbox).where(outbox.c.id == row.id))
            deleted += 1
        else:
            body = json.dumps(_replaced(json.loads(row.body), user_id, pseudonym), sort_keys=True)
            db.execute(update(outbox).where(outbox.c.id == row.id).values(body=body))
            rewritten += 1
    return {"outbox_deleted": deleted, "outbox_pseudonymised": rewritten}


def purge_published_outbox(db: Db, outbox: Table, cutoff: datetime) -> int:
    """Delete rows published before `cutoff`: delivered long ago, kept only for diagnosis."""
    return rowcount(
        db.execute(
            delete(outbox).where(outbox.c.published_at.is_not(None), outbox.c.published_at < cutoff)
        )
    )


# --- a service's own tables ------------------------------------------------------------------


def erase_rows(
    db: Db, body: ErasureRequest, *, keep: Sequence[Column[Any]], drop: Sequence[Column[Any]]
) -> dict[str, int]:
    """`keep` columns (records the law requires) take the pseudonym; rows whose `drop` column
    names the user (personal only) are deleted. Counts per table."""
    counts: dict[str, int] = {}
    for column in keep:
        changed = db.execute(
            update(column.table).where(column == body.user_id).values({column.name: body.pseudonym})
        )
        counts[column.table.name] = rowcount(changed)
    for column in drop:
        gone = db.execute(delete(column.table).where(column == body.user_id))
        counts[column.table.name] = rowcount(gone)
    return counts


def pseudonymise_finished(
    db: Db,
    salt: str,
    *,
    owner: Column[Any],
    status: Column[Any],
    finished: Sequence[str],
    changed: Column[Any],
    cutoff: datetime,
) -> int:
    """Finished records last changed before `cutoff` take their owner's derived pseudonym;
    open ones keep the owner (they are still being worked on)."""
    where = (status.in_(finished), changed < cutoff, ~owner.startswith(PSEUDONYM_PREFIX))
    owners = db.execute(select(owner).where(*where).distinct()).scalars().all()
    total = 0
    for user_id in owners:
        result = db.execute(
            update(owner.table)
            .where(owner == user_id, *where)
            .values({owner.name: derived_pseudonym(salt, str(user_id))})
        )
        total += rowcount(result)
    return total
