"""Correlation ids: one id per request, from the gateway or made here, on everything it causes.

The gateway sends `X-Correlation-Id` (API Management: its request id when the client sent
none). A service takes it when well-formed (1-64 of `A-Za-z0-9._-`, so it is safe in logs
and headers and fits the outbox column), replaces it otherwise, echoes it on the response,
adds it to every log record made while serving the request, to calls to other services
(`outgoing_headers`) and to the messages the request publishes (the outbox row).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CORRELATION_ID_HEADER = "X-Correlation-Id"
_VALID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def accepted_correlation_id(raw: str | None) -> str:
    """`raw` when it is a well-formed id, a new id otherwise (absent, empty, too long, odd)."""
    if raw is not None and _VALID.fullmatch(raw):
        return raw
    return new_correlation_id()


def current_correlation_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    return _current.get()


def outgoing_headers() -> dict[str, str]:
    """What a call to another service adds, so its logs join this request's."""
    correlation_id = _current.get()
    return {CORRELATION_ID_HEADER: correlation_id} if correlation_id else {}


@contextmanager
def correlated(raw: str | None) -> Iterator[str]:
    """Outside a request (a worker handling a message): the message's correlation id, or a
    new one when it has none or an odd one, for the calls and messages the handler makes."""
    token = _current.set(accepted_correlation_id(raw))
    try:
        yield _current.get() or ""
    finally:
        _current.reset(token)


class CorrelationIdMiddleware:
    """Pure ASGI: sets the id for the request's context and echoes it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = None
        wanted = CORRELATION_ID_HEADER.lower().encode()
        for name, value in scope["headers"]:
            if name == wanted:
                raw = value.decode("latin-1")
                break
        correlation_id = accepted_correlation_id(raw)
        token = _current.set(correlation_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[CORRELATION_ID_HEADER] = correlation_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)


def install_log_correlation() -> None:
    """Every log record gets `correlation_id` (None outside a request); idempotent.

    A record factory rather than a handler filter, so records reach every handler with it
    (the JSON handler and Azure Monitor's, which exports extra attributes as dimensions).
    """
    if getattr(logging.getLogRecordFactory(), "adds_correlation_id", False):
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if not hasattr(record, "correlation_id"):
            record.correlation_id = _current.get()
        return record

    factory.adds_correlation_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
