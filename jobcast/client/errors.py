"""What can go wrong, as exceptions: one type per error family, each carrying what the server said.

Every error answer of the API has one shape (`{"error": {"code", "message", "details"}}`), so an
exception keeps the stable `code` to switch on, the `message` saying what to fix, the `details`
and the request id to quote when asking an operator about it.
"""

from __future__ import annotations

from typing import Any


class JobcastError(Exception):
    """Base of every client error.

    `status` is the HTTP status the server answered, or, for a request the client refused
    itself before sending it (`local` is then True: bad job params, no key, an empty id), the
    status the server answers that request with. It is None where no HTTP status applies: a
    WebSocket's errors, an address where nothing answers, a wait that ran out of time, a job's
    outcome learnt from its events. `request_id` is the server's, when it answered."""

    def __init__(
        self,
        code: str,
        message: str,
        details: Any = None,
        *,
        status: int | None = None,
        request_id: str | None = None,
        local: bool = False,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.details = code, message, details
        self.status, self.request_id, self.local = status, request_id, local


class AuthenticationError(JobcastError):
    """401: no key, an unknown or revoked one (also a WebSocket closed with 4001)."""


class PermissionDeniedError(JobcastError):
    """403: an admin route without an admin key, or a path naming another principal."""


class NotFoundError(JobcastError):
    """404: no such record, or it is not yours (the server does not tell them apart)."""


class GoneError(JobcastError):
    """410: your record expired."""


class ConflictError(JobcastError):
    """409: the record is not in a state that allows this (`not_finished`, `job_failed`...)."""


class InvalidRequestError(JobcastError):
    """400, 413, 415, 422: the request itself is wrong; `details` says where."""


class RateLimitedError(JobcastError):
    """429 after the client's retries ran out (or a WebSocket `rate_limited`)."""


class UnavailableError(JobcastError):
    """503 after the retries ran out, or the server could not be reached at all."""


class UploadStalledError(UnavailableError):
    """408 `upload_stalled`: the upload sent nothing for the server's idle limit (`details`
    `idle_timeout_s`), so it was cut and nothing was kept: no job, no Idempotency-Key claimed.
    Raised once the retries ran out, or at once for a body that cannot be sent again (a pipe)."""


class ServerError(JobcastError):
    """500 and other 5xx: a bug on the server; quote `request_id` to its operators."""


class JobFailedError(JobcastError):
    """The job ended `failed`: `code` is the job's error code (`ragged_rows`, `empty_file`...).
    `status` is 409 from `result` or `download` (the server's answer), None from `wait`."""


class JobCancelledError(JobcastError):
    """The job ended `cancelled`. `status` is 409 from `result` or `download` (the server's
    answer), None from `wait` (its events said so)."""


class WaitTimeoutError(JobcastError, TimeoutError):
    """`wait` gave up before the job finished (the job goes on); `status` is None."""


class ConfigError(JobcastError):
    """The client's own settings are wrong (an address that is not an http(s) URL); `local`,
    with `status` None: there is no server's answer to it."""


class ClientClosedError(JobcastError, ValueError):
    """The `Client` was used after `close()`, or the `AsyncClient` after `aclose()` (as a
    closed file raises ValueError); `local`, with `status` None: nothing was sent. Make a new
    client instead."""


def client_closed() -> ClientClosedError:
    """The one `client_closed` error, said the same by the sync and the async client."""
    message = (
        "This client is closed (`close()`, `aclose()` or its `with` block ended): make a new one."
    )
    return ClientClosedError("client_closed", message, local=True)


class StreamError(JobcastError):
    """The WebSocket refused a message or closed for good (e.g. `too_many_connections`)."""


_BY_STATUS: dict[int, type[JobcastError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: UploadStalledError,
    409: ConflictError,
    410: GoneError,
    413: InvalidRequestError,
    415: InvalidRequestError,
    422: InvalidRequestError,
    429: RateLimitedError,
    503: UnavailableError,
}

#: WebSocket error codes that mean the same as an HTTP family.
_BY_WS_CODE: dict[str, type[JobcastError]] = {
    "unauthenticated": AuthenticationError,
    "invalid_key": AuthenticationError,
    "key_revoked": AuthenticationError,  # sent before the 4001 close, revoked mid-connection
    "invalid_ticket": AuthenticationError,
    "forbidden": PermissionDeniedError,
    "not_found": NotFoundError,
    "rate_limited": RateLimitedError,
    "unavailable": UnavailableError,
}


def error_for_status(status: int) -> type[JobcastError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else InvalidRequestError


def from_response(status: int, body: Any, request_id: str | None) -> JobcastError:
    """The exception for an error answer; a body not in the error shape still gives one."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        # Not a Jobcast API answering (a proxy, Flower, another server): its page says nothing
        # useful, where it came from does.
        message = f"HTTP {status}, not an answer of the Jobcast API: is the URL the API's address?"
        error = {"code": f"http_{status}", "message": message}
    details = error.get("details")
    if request_id is None and isinstance(details, dict):
        request_id = details.get("request_id")
    code, message = str(error.get("code")), str(error.get("message"))
    family = error_for_status(status)
    if family is UploadStalledError and code != "upload_stalled":
        family = UnavailableError  # the body deadline of any route (`request_timeout`)
    return family(code, message, details, status=status, request_id=request_id)


def from_ws_error(message: dict[str, Any]) -> JobcastError:
    code = str(message.get("code"))
    return _BY_WS_CODE.get(code, StreamError)(code, str(message.get("message")))
