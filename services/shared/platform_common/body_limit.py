"""Request-body size limit: 413 problem details before a large body is read.

A declared Content-Length over the limit is refused before the app runs, so no
handler executes and nothing is read. A chunked body is counted as it streams and
refused at the first chunk past the limit. Starlette's RequestBodyLimitMiddleware
checks Content-Length only when the body is read, so a body-less POST (cancel,
settle) would run and commit before its 413; that is why this one is ours.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from platform_common.errors import problem_response

TOO_LARGE = "Content Too Large"


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive`; FastAPI re-raises HTTPExceptions from body parsing as they are."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, TOO_LARGE)
        self.problem_detail = f"The request body exceeds the limit of {limit} bytes."


class BodySizeLimitMiddleware:
    """Pure ASGI middleware; `limit` is read per request so settings overrides apply."""

    def __init__(self, app: ASGIApp, limit: Callable[[], int]) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit()
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, limit, declared)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server (uvicorn/h11) rejects malformed lengths itself
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int, declared: int) -> None:
    request = Request(scope, receive)
    response = problem_response(
        request,
        413,
        TOO_LARGE,
        f"The request body declares {declared} bytes; the limit is {limit}.",
        headers={"Connection": "close"},
    )
    await response(scope, receive, send)
