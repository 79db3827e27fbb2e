"""Which fields are personal data, and how they are masked in logs, telemetry and audit diffs.

One table (`PERSONAL_FIELDS`) names every field that holds personal data in the platform's
models, requests and events, with the kind of value it holds; the kind decides the mask.
Seed 004's example: `john.doe@company.com` is logged as `joh***@company.com`.

Masks keep just enough to tell two values apart in an incident (the first characters, an
e-mail's domain) and never the whole value. Secrets (passwords, hashes) keep nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any
from urllib.parse import quote, unquote

MASK = "***"


class PersonalKind(StrEnum):
    """What a personal field holds; each kind has its own mask."""

    EMAIL = "email"
    NAME = "name"
    # An id that points at one person (user ids, caller ids): pseudonymous, but linkable.
    IDENTIFIER = "identifier"
    # Free text written about or for a person (notification titles and bodies).
    FREE_TEXT = "free_text"
    SECRET = "secret"  # noqa: S105 (a kind name, not a password)


PERSONAL_FIELDS: Mapping[str, PersonalKind] = {
    # users-api: accounts and credentials
    "email": PersonalKind.EMAIL,
    "email_key": PersonalKind.EMAIL,
    "username": PersonalKind.EMAIL,  # the gateway's basic-auth user name is the e-mail
    "display_name": PersonalKind.NAME,
    "password": PersonalKind.SECRET,
    "current_password": PersonalKind.SECRET,
    "new_password": PersonalKind.SECRET,
    "password_hash": PersonalKind.SECRET,
    # every service: who a record belongs to or who acted
    "user_id": PersonalKind.IDENTIFIER,
    "caller_id": PersonalKind.IDENTIFIER,
    "actor_id": PersonalKind.IDENTIFIER,
    "requested_by": PersonalKind.IDENTIFIER,
    # users-api: notifications are written for one person
    "title": PersonalKind.FREE_TEXT,
    "body": PersonalKind.FREE_TEXT,
}

# Deliberately loose: anything shaped like an address is masked, even if it is not one.
_EMAIL = re.compile(r"(?P<local>[A-Za-z0-9._%+\-]+)@(?P<domain>[A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
# URL paths that carry a user id: `/v1/users/<id>...` (the gateway's `/users/v1/users/<id>`
# too; the `v1` after the gateway's prefix and route templates such as `{user_id}` are not
# ids). Access logs, HTTP client logs and exception texts quote such paths.
_USER_PATH = re.compile(r"(?P<prefix>/users/)(?!v\d+(?:[/?#\s\"']|$))(?P<id>[^/?#\s\"'{}]+)")
# Query parameters named like a personal field (`?user_id=...`, `&email=...`).
_PERSONAL_QUERY = re.compile(r"(?P<prefix>[?&](?P<name>[A-Za-z_]+)=)(?P<value>[^&#\s\"']*)")
# SQL Server quotes the clashing key in error 2601/2627: "The duplicate key value is (...)."
# https://learn.microsoft.com/sql/relational-databases/errors-events/database-engine-events-and-errors-2000-to-2999
_DUPLICATE_KEY = re.compile(r"(?P<prefix>duplicate key value is \()(?P<value>[^)]*)(?=\))")


def mask_email(value: str) -> str:
    """`john.doe@company.com` -> `joh***@company.com`; a value without `@` is masked whole.

    At most three characters and never more than half the local part: `tom@x.com` shows
    `t***`, not all of `tom`.
    """
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return MASK
    shown = min(3, max(1, len(local) // 2))
    return f"{local[:shown]}{MASK}@{domain}"


def mask_name(value: str) -> str:
    """`John Doe` -> `J*** D***`: the initials, never the name."""
    words = value.split()
    return " ".join(f"{word[0]}{MASK}" for word in words) if words else MASK


def mask_identifier(value: str) -> str:
    """`u-alice-1234` -> `u-a***`: enough to tell ids apart in a log, not to read one.

    A mask is left as it is (a record masked at creation passes a handler's filter too).
    """
    if value in (MASK, f"{value[:3]}{MASK}") and len(value) in (3, 6):
        return value
    return f"{value[:3]}{MASK}" if len(value) > 6 else MASK


def mask_text(text: str) -> str:
    """Free text (log messages, exception texts, URLs) with its personal values masked:
    e-mail-shaped tokens, user ids in `/users/<id>` paths, personal query parameters and
    the key values a database quotes in a duplicate-key error."""
    if not text:
        return text
    masked = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    if "/users/" in masked:
        masked = _USER_PATH.sub(lambda m: m["prefix"] + mask_identifier(unquote(m["id"])), masked)
    if "=" in masked:
        masked = _PERSONAL_QUERY.sub(_mask_query, masked)
    if "duplicate key" in masked:
        masked = _DUPLICATE_KEY.sub(lambda m: m["prefix"] + MASK, masked)
    return masked


def _mask_query(match: re.Match[str]) -> str:
    name = match["name"]
    if not is_personal(name) or not match["value"]:
        return match.group(0)
    return match["prefix"] + quote(str(mask_value(name, unquote(match["value"]))), safe="*@")


def mask_whole(_value: str) -> str:
    """Free text and secrets keep nothing: no part of them is safe to show."""
    return MASK


_MASKERS: Mapping[PersonalKind, Callable[[str], str]] = {
    PersonalKind.EMAIL: mask_email,
    PersonalKind.NAME: mask_name,
    PersonalKind.IDENTIFIER: mask_identifier,
    PersonalKind.FREE_TEXT: mask_whole,
    PersonalKind.SECRET: mask_whole,
}


def _folded(field: str) -> str:
    """`displayName`, `display-name` and `display_name` are one field."""
    return field.replace("_", "").replace("-", "").lower()


_FOLDED_FIELDS: Mapping[str, PersonalKind] = {_folded(k): v for k, v in PERSONAL_FIELDS.items()}


def _kind(field: str) -> PersonalKind | None:
    return PERSONAL_FIELDS.get(field) or _FOLDED_FIELDS.get(_folded(field))


def is_personal(field: str) -> bool:
    return _kind(field) is not None


def mask_value(field: str, value: Any) -> Any:
    """The masked value of `field`; values of other fields pass through unchanged.

    None stays None (absence is not personal); non-text personal values are masked whole.
    """
    kind = _kind(field)
    if kind is None or value is None:
        return value
    if not isinstance(value, str):
        return MASK
    return _MASKERS[kind](value)


def mask_mapping(data: Any) -> Any:
    """A copy of `data` (dicts, lists, scalars) with every personal field masked, at any depth.

    Text under other keys still has e-mail addresses masked: a reason or a message may
    quote one.
    """
    if isinstance(data, Mapping):
        return {
            key: mask_value(key, value) if is_personal(str(key)) else mask_mapping(value)
            for key, value in data.items()
        }
    if isinstance(data, list | tuple):
        return [mask_mapping(item) for item in data]
    if isinstance(data, str):
        return mask_text(data)
    return data


_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
# Set on a record once masked, so a second handler's filter does not mask the masks again.
MASKED_ATTR = "personal_data_masked"


class PersonalDataFilter(logging.Filter):
    """Masks a record before any handler formats it: the message (with its arguments
    merged, so `%s` of an e-mail is caught) and every `extra` attribute.

    A handler filter, not a logger one: filters on a logger do not see records that
    propagate from its children, and every platform log line goes through the root's
    handlers (the JSON handler, Azure Monitor's exporter).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, MASKED_ATTR, False):
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format
            message = f"{record.msg} {record.args!r}"
        record.msg = mask_text(message)
        record.args = None
        for key, value in list(vars(record).items()):
            if key in _STANDARD_ATTRS:
                continue
            if is_personal(key):
                setattr(record, key, mask_value(key, value))
            elif isinstance(value, str | Mapping | list | tuple):
                setattr(record, key, mask_mapping(value))
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        setattr(record, MASKED_ATTR, True)
        return True


def install_personal_data_masking(logger: logging.Logger | None = None) -> None:
    """Mask every record of the process; idempotent.

    Two layers, because log lines come from more places than the root's handlers: a record
    factory masks each record's message and exception text as it is made, whatever logger
    and handler it then reaches (uvicorn's access log has its own handler and does not
    propagate; httpx quotes request URLs; the Functions host adds its own handler), and
    the filter on every handler of `logger` (the root by default) also masks the `extra`
    attributes, which are set on a record after the factory has made it.
    """
    _install_masking_record_factory()
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())


def _install_masking_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_personal_data", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _mask_message(record)
        if record.exc_info and not record.exc_text:
            # What formatters print for the exception: made once here, masked.
            record.exc_text = mask_text(_EXCEPTION_FORMATTER.formatException(record.exc_info))
        return record

    factory.masks_personal_data = True  # type: ignore[attr-defined]
    # Keep whatever the previous factory added (the correlation id), in front of it.
    factory.adds_correlation_id = getattr(  # type: ignore[attr-defined]
        previous, "adds_correlation_id", False
    )
    logging.setLogRecordFactory(factory)


_EXCEPTION_FORMATTER = logging.Formatter()


def _mask_message(record: logging.LogRecord) -> None:
    """Mask the record's message, keeping its arguments where a formatter reads them.

    uvicorn's access formatter unpacks `record.args` (client, method, path, version,
    status), so arguments are masked one by one when that yields the same masked message;
    otherwise (a personal value split between format and argument) the merged, masked
    message replaces both.
    """
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit the format
        message = f"{record.msg} {record.args!r}"
    masked = mask_text(message)
    if masked == message:
        return
    if isinstance(record.args, tuple) and isinstance(record.msg, str):
        masked_args = tuple(mask_text(a) if isinstance(a, str) else a for a in record.args)
        try:
            if mask_text(record.msg) % masked_args == masked:
                record.msg, record.args = mask_text(record.msg), masked_args
                return
        except (TypeError, ValueError):
            pass
    record.msg, record.args = masked, None
