"""Searching the audit store: a time range listed by date prefix, filtered by blob metadata.

Blob names start with the record's UTC day (`<yyyy>/<mm>/<dd>/<service>/`), so a range is
one listing per day (narrowed to one service when it is filtered), each with metadata
(`include=metadata`): the filters never download a record that does not match. Results
run newest first by (occurred_at, name); a continuation token is the last returned key
plus the query it belongs to, so a next page resumes exactly after it even while new
records arrive (those are newer, so they never shift a page).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from platform_common.audit import OUTCOMES
from workers_app.audit_store import (
    AUDIT_SERVICES,
    MAX_ACTOR_ID,
    MAX_NAME,
    MAX_RESOURCE_ID,
    AuditBlobStore,
    StoredBlob,
)

DEFAULT_WINDOW = timedelta(hours=24)
MAX_WINDOW = timedelta(days=31)
DEFAULT_LIMIT, MAX_LIMIT = 100, 500
# Query parameter -> blob metadata name, and the longest value the store ever holds.
FILTERS: dict[str, tuple[str, int]] = {
    "service": ("service", MAX_NAME),
    "actor": ("actor", MAX_ACTOR_ID),
    "resource_type": ("resource_type", MAX_NAME),
    "resource_id": ("resource_id", MAX_RESOURCE_ID),
    "action": ("action", MAX_NAME),
    "outcome": ("outcome", MAX_NAME),
}
# `code` is the function key when it is passed in the query string.
PARAMETERS = frozenset({"from", "to", "limit", "continuation", "code", *FILTERS})


class QueryError(ValueError):
    """A bad parameter: `title` names it, the message says what is allowed."""

    def __init__(self, title: str, detail: str) -> None:
        super().__init__(detail)
        self.title = title


@dataclass(frozen=True)
class AuditQuery:
    start: datetime
    """Inclusive."""
    end: datetime
    """Exclusive."""
    filters: Mapping[str, str]
    limit: int
    after: tuple[datetime, str] | None = None
    """The last key of the previous page (occurred_at, blob name)."""

    def described(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), **self.filters}


def _instant(name: str, raw: str) -> datetime:
    """An ISO-8601 date or date-time with a UTC offset, as UTC."""
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise QueryError(
            f"Invalid {name}",
            f"{name}={raw!r} is not ISO-8601 (e.g. 2026-12-01 or 2026-12-01T08:00:00Z)",
        ) from None
    if len(raw) == 10:  # a bare date: its midnight in UTC
        return parsed.replace(tzinfo=UTC)
    if parsed.tzinfo is None:
        raise QueryError(
            f"Invalid {name}",
            f"{name}={raw!r} has no UTC offset; add Z or +hh:mm (e.g. 2026-12-01T08:00:00Z)",
        )
    return parsed.astimezone(UTC)


def parse_query(params: Mapping[str, str], now: datetime) -> AuditQuery:
    """The query the parameters ask for; QueryError names the first bad one."""
    unknown = sorted(set(params) - PARAMETERS)
    if unknown:
        allowed = ", ".join(sorted(PARAMETERS - {"code"}))
        raise QueryError("Unknown parameter", f"{', '.join(unknown)}: allowed are {allowed}")
    raw_limit = params.get("limit", str(DEFAULT_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise QueryError("Invalid limit", f"limit={raw_limit!r}: an integer from 1 to {MAX_LIMIT}")
    filters: dict[str, str] = {}
    for name, (_, longest) in FILTERS.items():
        if name not in params:
            continue
        value = params[name]
        if not value or len(value) > longest:
            raise QueryError(f"Invalid {name}", f"{name} must be 1 to {longest} characters")
        filters[name] = value
    for name, allowed_values in (("service", AUDIT_SERVICES), ("outcome", OUTCOMES)):
        if name in filters and filters[name] not in allowed_values:
            raise QueryError(
                f"Invalid {name}",
                f"{name}={filters[name]!r}: allowed are {', '.join(allowed_values)}",
            )
    token = params.get("continuation")
    if token:
        return _continued(token, params, filters, int(raw_limit))
    end = _instant("to", params["to"]) if "to" in params else now.astimezone(UTC)
    start = _instant("from", params["from"]) if "from" in params else end - DEFAULT_WINDOW
    if start >= end:
        raise QueryError("Invalid range", f"from ({start.isoformat()}) must be before to")
    if end - start > MAX_WINDOW:
        raise QueryError(
            "Range too long",
            f"from and to are {end - start} apart; at most {MAX_WINDOW.days} days per query",
        )
    return AuditQuery(start, end, filters, int(raw_limit))


def _continued(
    token: str, params: Mapping[str, str], filters: Mapping[str, str], limit: int
) -> AuditQuery:
    """The token's query; any range or filter parameter sent with it must be the token's own."""
    invalid = QueryError("Invalid continuation", "continuation is not a token this search issued")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
        start = datetime.fromisoformat(decoded["from"])
        end = datetime.fromisoformat(decoded["to"])
        after = (datetime.fromisoformat(decoded["at"]), str(decoded["name"]))
        saved = {str(k): str(v) for k, v in dict(decoded["filters"]).items()}
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid from None
    # Unsigned (an operator only ever pages their own query), so checked like parameters.
    if (
        None in (start.tzinfo, end.tzinfo, after[0].tzinfo)
        or not set(saved) <= set(FILTERS)
        or not timedelta(0) < end - start <= MAX_WINDOW
    ):
        raise invalid
    query = AuditQuery(start, end, saved, limit, after)
    given = {name: params[name] for name in ("from", "to") if name in params}
    differs = [name for name, value in filters.items() if saved.get(name) != value]
    differs += [
        name
        for name, raw in given.items()
        if _instant(name, raw) != getattr(query, "start" if name == "from" else "end")
    ]
    if differs:
        raise QueryError(
            "Continuation of another query",
            f"{', '.join(sorted(differs))} differ from the query the continuation belongs to; "
            "send only continuation and limit, or the first page's parameters",
        )
    return query


def _token(query: AuditQuery, last: StoredBlob, at: datetime) -> str:
    payload = {
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "filters": dict(query.filters),
        "at": at.isoformat(),
        "name": last.name,
    }
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _days(start: datetime, end: datetime) -> Iterator[date]:
    """The UTC days the range touches, newest first."""
    day = (end - timedelta(microseconds=1)).date()
    while day >= start.date():
        yield day
        day -= timedelta(days=1)


def _matches(blob: StoredBlob, query: AuditQuery) -> datetime | None:
    """The blob's occurred_at when it is in range and passes every filter."""
    at = blob.occurred_at
    if at is None or not query.start <= at < query.end:
        return None
    for name, value in query.filters.items():
        if blob.metadata.get(FILTERS[name][0]) != value:
            return None
    if query.after is not None and (at, blob.name) >= query.after:
        return None
    return at


@dataclass(frozen=True)
class AuditPage:
    records: list[dict[str, Any]]
    continuation: str | None


def search(store: AuditBlobStore, query: AuditQuery) -> AuditPage:
    """At most `limit` records, newest first, and a token when more match."""
    found: list[tuple[datetime, StoredBlob]] = []
    first_day = query.after[0].date() if query.after else None
    service = query.filters.get("service")
    for day in _days(query.start, query.end):
        if first_day is not None and day > first_day:
            continue
        prefix = f"{day:%Y/%m/%d}/" + (f"{service}/" if service else "")
        matched = [
            (at, blob) for blob in store.list(prefix) if (at := _matches(blob, query)) is not None
        ]
        found.extend(sorted(matched, key=lambda item: (item[0], item[1].name), reverse=True))
        if len(found) > query.limit:
            break
    page = found[: query.limit]
    records = [json.loads(store.read(blob.name)) for _, blob in page]
    more = len(found) > query.limit
    return AuditPage(records, _token(query, page[-1][1], page[-1][0]) if more else None)
