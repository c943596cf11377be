"""Errors the hub answers with, and the one handler that renders them.

Each error class carries its HTTP status and a stable ``code`` as class
attributes; :func:`install_error_handlers` turns any of them, FastAPI's request
validation errors, Starlette's HTTP errors and unexpected exceptions into the one
JSON shape of the API::

    {"error": {"code": "servable_not_found", "message": "...", "details": ...}}

The client's ``raise_for_status`` maps ``code`` (and the status) back to a typed
exception::

    ApiError                      500 internal_error
    ├── BadRequest                400 bad_request
    ├── Unauthenticated           401 unauthenticated
    ├── Forbidden                 403 permission_denied
    ├── NotFound                  404 not_found
    │   ├── ServableNotFound      404 servable_not_found
    │   └── TaskNotFound          404 task_not_found
    ├── Conflict                  409 conflict
    ├── PayloadTooLarge           413 payload_too_large
    ├── InvalidDocument           422 invalid_metadata
    ├── InvalidUpload             422 invalid_upload
    ├── InvalidRequest            422 invalid_request
    ├── RateLimited               429 rate_limited
    └── Unavailable               503 unavailable
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "InvalidDocument",
    "InvalidRequest",
    "InvalidUpload",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "ServableNotFound",
    "TaskNotFound",
    "Unauthenticated",
    "Unavailable",
    "error_body",
    "install_error_handlers",
]

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the hub reports to the caller.

    Attributes:
        status: HTTP status of the response (class attribute).
        code: Stable machine-readable name of the error (class attribute).
        message: What went wrong and what to do about it.
        details: Extra structured information (e.g. the list of problems), or ``None``.
        headers: Extra response headers (e.g. ``Retry-After``).
    """

    status: int = 500
    code: str = "internal_error"

    def __init__(
        self, message: str, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}


class BadRequest(ApiError):
    """The request is malformed in a way the caller can fix."""

    status, code = 400, "bad_request"


class Unauthenticated(ApiError):
    """No valid credentials: missing, wrong, expired or revoked token, or a wrong password."""

    status, code = 401, "unauthenticated"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message, details, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    """The caller is known but may not do this (e.g. publish over another user's servable)."""

    status, code = 403, "permission_denied"


class NotFound(ApiError):
    """Nothing by that name, or nothing the caller may see (never a 403, so nothing leaks)."""

    status, code = 404, "not_found"


class ServableNotFound(NotFound):
    """No servable (or version) by that name that the caller may see."""

    code = "servable_not_found"


class TaskNotFound(NotFound):
    """No task with that id that the caller may see."""

    code = "task_not_found"


class Conflict(ApiError):
    """The request clashes with what exists (e.g. a user name that is taken)."""

    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    """The upload, or what it unpacks to, is bigger than the hub allows."""

    status, code = 413, "payload_too_large"


class InvalidDocument(ApiError):
    """The metadata document or its files are not valid; ``details`` lists every problem."""

    status, code = 422, "invalid_metadata"


class InvalidUpload(ApiError):
    """The uploaded zip is unsafe or broken (paths leaving the folder, links, ...); ``details`` lists each."""

    status, code = 422, "invalid_upload"


class InvalidRequest(ApiError):
    """A parameter or body field does not have the expected type or form."""

    status, code = 422, "invalid_request"


class InvalidInput(ApiError):
    """The inputs of a run do not match the servable's declared argument types."""

    status, code = 422, "invalid_input"


class RateLimited(ApiError):
    """Too many attempts; ``Retry-After`` says when to try again."""

    status, code = 429, "rate_limited"


class Unavailable(ApiError):
    """The hub cannot serve this right now (e.g. a part it needs is not configured)."""

    status, code = 503, "unavailable"


#: Codes for Starlette's own HTTP errors (unknown route, wrong method, bad form body, ...).
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    422: "invalid_request",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The JSON body of every error response."""
    return {"error": {"code": code, "message": message, "details": details}}


def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers
    )


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "field": ".".join(str(p) for p in err.get("loc", ())),
            "message": str(err.get("msg", "")),
        }
        for err in exc.errors()
    ]
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return JSONResponse(
        error_body("invalid_request", f"invalid request: {summary}", problems), status_code=422
    )


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such route: {request.method} {request.url.path} (the API lives under /api/v1, see /docs)"
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(
        error_body(
            "internal_error",
            f"the hub failed to handle {request.method} {request.url.path}: "
            f"{type(exc).__name__}; see the hub's log",
        ),
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Render every error raised while handling a request in the one JSON shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
