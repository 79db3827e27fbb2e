"""RFC 9457 problem details for every error a service returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """Problem details body (RFC 9457) as documented in OpenAPI."""

    type: str = Field("about:blank", description="URI identifying the problem type.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        None, description="Field-level validation errors, when any."
    )


class ProblemError(Exception):
    """Raised by domain code; rendered as problem details with its status."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str = "about:blank",
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.errors = errors
        self.headers = headers


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type_: str = "about:blank",
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build a problem+json response; `instance` is the request path."""
    body = Problem(
        type=type_,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
    ).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _jsonable_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Keep loc/msg/type only: `input` and `ctx` may hold unserialisable values."""
    return [
        {
            "loc": list(err.get("loc", ())),
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]


async def _handle_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        request,
        exc.status,
        exc.title,
        exc.detail,
        type_=exc.type,
        errors=exc.errors,
        headers=exc.headers,
    )


MALFORMED_BODY = "Malformed request body"


def _malformed_body(request: Request, detail: str, errors: list[dict[str, Any]]) -> JSONResponse:
    """Truncated JSON and invalid UTF-8 share one 400 shape (schema errors stay 422)."""
    return problem_response(request, 400, MALFORMED_BODY, detail, errors=errors)


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _jsonable_errors(exc)
    if errors and all(err["type"] == "json_invalid" for err in errors):
        return _malformed_body(request, "The body is not well-formed JSON.", errors)
    return problem_response(
        request,
        422,
        "Request validation failed",
        "One or more fields are invalid.",
        errors=errors,
    )


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        # FastAPI turns json.loads' UnicodeDecodeError into a bare 400 "error parsing the body".
        return _malformed_body(
            request,
            "The body is not valid UTF-8.",
            [{"loc": ["body", cause.start], "msg": cause.reason, "type": "utf8_invalid"}],
        )
    headers = dict(exc.headers) if exc.headers else None
    detail = getattr(exc, "problem_detail", None)
    return problem_response(request, exc.status_code, str(exc.detail), detail, headers=headers)


async def _handle_stale(request: Request, exc: Exception) -> JSONResponse:
    """An optimistic-lock UPDATE matched no row: someone else changed the record first."""
    logger.info("optimistic lock conflict on %s: %s", request.url.path, exc)
    return problem_response(
        request,
        409,
        "Concurrent modification",
        "The resource changed while this request was processed; reload it and retry.",
    )


async def _handle_integrity(request: Request, exc: Exception) -> JSONResponse:
    """A unique key taken by a concurrent request between our check and our insert."""
    logger.info("integrity conflict on %s: %s", request.url.path, exc)
    return problem_response(
        request,
        409,
        "Conflict",
        "A concurrent request already created or changed this resource; reload it and retry.",
    )


async def _handle_operational(request: Request, exc: Exception) -> JSONResponse:
    """The database did not answer (down, locked past the busy timeout, token refused)."""
    logger.warning("database unavailable on %s: %s", request.url.path, exc)
    return problem_response(
        request,
        503,
        "Database unavailable",
        "The service's database did not answer; retry later.",
        headers={"Retry-After": "5"},
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Route domain, validation, HTTP and database errors (incl. races) to problem+json.

    Races are mapped once here, so no route can turn a lost race into a 500: SQLAlchemy
    raises StaleDataError at the flush of a versioned row and IntegrityError when a
    unique constraint catches a concurrent insert.
    """
    app.add_exception_handler(ProblemError, _handle_problem)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(StaleDataError, _handle_stale)
    app.add_exception_handler(IntegrityError, _handle_integrity)
    app.add_exception_handler(OperationalError, _handle_operational)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": text}
    for code, text in {
        401: "No caller identity forwarded by the gateway",
        403: "Caller lacks the required role",
        404: "Not found",
        409: "Conflict with the resource's current state, or with a concurrent request",
        422: "Validation failed",
        503: "The database or another required dependency is unavailable",
    }.items()
}

# Added by the app factory where they apply: 400 and 413 to operations with a body,
# 400 to operations reading caller headers (see platform_common.app).
MALFORMED_BODY_DESCRIPTION = "Malformed request body: not UTF-8, or not well-formed JSON"
BAD_HEADER_DESCRIPTION = "A caller header is not UTF-8 text or holds control characters"
TOO_LARGE_DESCRIPTION = "Request body larger than MAX_REQUEST_BODY_BYTES"
