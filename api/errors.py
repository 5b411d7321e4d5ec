"""The one error shape: `{"error": {"code", "message", "details"}}` for every 4xx and 5xx.

Codes are stable strings clients can switch on; messages say what to fix. A 500 carries a
request id (also logged with the traceback) and never the traceback itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kombu.exceptions import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from jobcast.redis_clients import is_redis_full, redis_problem
from jobcast.schemas.errors import field_errors, no_record, summary
from jobcast.schemas.text import escape_controls

log = logging.getLogger("jobcast.api")

#: Default code for a bare HTTP status raised by the framework (unknown route, wrong method...).
STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


class ApiError(Exception):
    """Raise from a route or dependency to answer with the error shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details, headers


def not_found(what: str = "record") -> ApiError:
    """The answer for a record that does not exist *or* belongs to someone else."""
    return ApiError(404, "not_found", no_record(what))


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def spent_headers(request: Request, own: Mapping[str, str] | None = None) -> dict[str, str]:
    """The RateLimit headers of what the request spent before it failed (a read of someone
    else's record, a body that does not validate), under the error's own headers: a client
    sees its budget on every answer that cost it."""
    return {**getattr(request.state, "spent_headers", {}), **(own or {})}


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers = spent_headers(request, exc.headers)
    return error_response(exc.status, exc.code, exc.message, exc.details, headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if _body_not_json(request, exc):
        headers = spent_headers(request)
        return error_response(415, "unsupported_media_type", NOT_JSON, None, headers)
    fields = field_errors(exc.errors())
    message = summary(fields)
    return error_response(422, "validation_error", message, fields, spent_headers(request))


#: The 415 of a route that reads a JSON body and was sent another type (the OpenAPI document
#: gives it to every such route, `api.openapi`).
NOT_JSON = "Send the body as JSON, with Content-Type: application/json."


def _body_not_json(request: Request, exc: RequestValidationError) -> bool:
    """A JSON route sent a body of another declared type (a form, text): FastAPI reads none
    of it and reports the whole body as not an object, which says nothing of the real fault."""
    declared = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if declared == "application/json" or declared.endswith("+json"):
        return False
    # With no type at all, only a body that is there (not a missing one) was left unread.
    return any(
        tuple(err["loc"]) == ("body",) and (declared or err["type"] != "missing")
        for err in exc.errors()
    )


#: FastAPI's whole message for a JSON body it could not decode (not UTF-8, or a number past
#: Python's 4,300-digit limit for converting text to int).
_UNPARSED_BODY = "There was an error parsing the body"


class BodyTooLargeError(Exception):
    """A body without a Content-Length (chunked) passed the JSON body cap as it arrived."""

    def __init__(self, max_body: int) -> None:
        super().__init__(max_body)
        self.max_body = max_body


def _unreadable(cause: BaseException | None) -> str:
    """What to fix in a JSON body Python's decoder gave up on (FastAPI chains its error)."""
    if isinstance(cause, UnicodeDecodeError):
        return f"it is not UTF-8 text (byte {cause.start} cannot start a character)"
    if isinstance(cause, RecursionError):
        return "it is nested too deeply; keep arrays and objects within a few hundred levels"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "it holds a number of more than 4,300 digits"
    return "send UTF-8 text, numbers of at most 4,300 digits, nested at most a few hundred levels"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = STATUS_CODES.get(exc.status_code, "error")
    headers = spent_headers(request, exc.headers)
    detail = str(exc.detail)
    if exc.status_code == 400 and detail == _UNPARSED_BODY:
        if isinstance(exc.__cause__, BodyTooLargeError):  # FastAPI's read wrapped the cap's error
            too_large = f"Request body is larger than {exc.__cause__.max_body} bytes."
            return error_response(413, "payload_too_large", too_large, None, headers)
        detail = f"The body could not be read as JSON: {_unreadable(exc.__cause__)}."
    elif exc.status_code == 405 and detail in _NO_ROUTE:
        allowed = ", ".join(allowed_methods(request))
        headers = {**(headers or {}), "Allow": allowed}
        path = escape_controls(request.url.path)[:200]
        detail = f"{path} does not take {request.method} (it takes {allowed}); see /docs."
    elif exc.status_code == 404 and detail in _NO_ROUTE:
        detail = _no_route(request)
    return error_response(exc.status_code, code, detail, None, headers)


#: Starlette's own words when no route matches the path, or none takes the method.
_NO_ROUTE = frozenset({"Not Found", "Method Not Allowed"})


def _no_route(request: Request) -> str:
    path = escape_controls(request.url.path)[:200]
    said = f"No route {request.method} {path}"
    twin = _slash_twin(request)
    if twin is not None:
        slash = "without" if path.endswith("/") else "with"
        return f"{said}; the path is {escape_controls(twin)[:200]}, {slash} the trailing slash."
    return f"{said}; the routes are listed at /docs."


def _slash_twin(request: Request) -> str | None:
    """The path with its trailing slash added or dropped, if a route takes it with this method
    (routes are matched as routing matches them)."""
    path = request.scope["path"]
    if path == "/":
        return None
    twin = path[:-1] if path.endswith("/") else f"{path}/"
    scope = {**request.scope, "path": twin}
    if any(route.matches(scope)[0] is Match.FULL for route in request.app.routes):
        return twin
    return None


#: The order methods are listed in, in `Allow` and the 405's message.
_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path, asked of the routes as routing asks them.
    Starlette's `Allow` names only the first route matching the path (`PUT /data/{id}` was told
    GET, not PATCH or DELETE)."""
    routes = request.app.routes
    return [
        method
        for method in _METHOD_ORDER
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


def unhandled_error(request_id: str) -> dict[str, Any]:
    """The 500's body for the exception being handled, whose traceback is logged with the
    request id the body gives (the client quotes it; the traceback stays in the log)."""
    log.exception("unhandled error (request id %s)", request_id)
    message = f"Internal error; quote request id {request_id} when reporting it."
    return error_body("internal_error", message, {"request_id": request_id})


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    body = unhandled_error(getattr(request.state, "request_id", "-"))
    return JSONResponse(body, status_code=500)


def _which(request: Request) -> str:
    """The request a log line is about, as the access log names it (the path only: a query
    string may carry a single-use ticket)."""
    request_id = getattr(request.state, "request_id", "-")
    return f"{request.method} {escape_controls(request.url.path)} (request_id={request_id})"


async def _redis_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("Redis unavailable on %s: %s", _which(request), redis_problem(exc, where=True))
    return error_response(
        503,
        "redis_unavailable",
        "The data store is unreachable right now; retry shortly.",
        None,
        {"Retry-After": "2"},
    )


async def _redis_refused(request: Request, exc: Exception) -> JSONResponse:
    if not is_redis_full(exc):  # Redis at maxmemory (noeviction) refuses writes
        return await _unhandled(request, exc)
    log.error("Redis is full and refuses writes on %s: %s", _which(request), exc)
    message = (
        "The data store is full and refuses writes; retry later. Operators: raise "
        "JOBCAST_REDIS_MAXMEMORY or free data (/readyz reports memory pressure)."
    )
    return error_response(503, "redis_full", message, None, {"Retry-After": "30"})


async def _broker_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # A task the broker would not take, where the route had nothing better to answer.
    log.warning("broker unavailable on %s: %s", _which(request), redis_problem(exc, where=True))
    return error_response(
        503,
        "unavailable",
        "The task queue is unreachable right now; retry shortly.",
        None,
        {"Retry-After": "2"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(redis.ConnectionError, _redis_unavailable)
    app.add_exception_handler(redis.TimeoutError, _redis_unavailable)
    app.add_exception_handler(redis.ResponseError, _redis_refused)
    app.add_exception_handler(OperationalError, _broker_unavailable)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)
