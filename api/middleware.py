"""ASGI middleware: the api's front door, one layer for every HTTP request.

It caps headers and URL (431/414) and JSON bodies (413), applies CORS, and gives each request
its context: an id (`X-Request-ID`), `X-Process-Time`, `X-Content-Type-Options: nosniff`,
metrics and one access log line (a passing liveness probe's only with `JOBCAST_LOG_PROBES`); it
answers a route's unhandled exception (a bug) too, so that 500 carries them. One layer, not
four: each ASGI layer costs a coroutine and a `send` wrapper per request, a fifth of what
`/healthz` cost. Plain ASGI (not
BaseHTTPMiddleware), so streamed uploads and downloads pass through without being buffered.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import random
import re
import time
from typing import Any
from urllib.parse import unquote

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import metrics
from api.errors import BodyTooLargeError, error_body, error_response, unhandled_error
from jobcast.logs import RecordTemplate
from jobcast.schemas.text import escape_controls

access_log = logging.getLogger("jobcast.access")
log = logging.getLogger("jobcast.api")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: On every answer: a JSON body or a downloaded artifact is never sniffed into HTML or a script.
_NOSNIFF = (b"x-content-type-options", b"nosniff")

#: Header and URL caps. uvicorn's httptools parser accepts megabytes of headers, so the api
#: refuses oversized ones itself (the h11 parser has its own, similar limit).
MAX_HEADER_BYTES = 32 * 1024
MAX_URL_BYTES = 8 * 1024
_ENCODED_SLASH = re.compile(rb"%2[fF]")
#: A scope key: the status the HTTP protocol (`api.http_protocol`) answered a request with itself
#: before cutting its connection; the app's own answer, sent after, never reached the client.
CUT_STATUS = "jobcast.cut_status"
#: Its passing answers are not logged unless `JOBCAST_LOG_PROBES` asks: a prober hits every api
#: process every few seconds, and the line was a fifth of the probe's CPU (bench/front.py).
LIVENESS_PROBE = "/healthz"


class FrontDoorMiddleware:
    """Outermost HTTP layer (WebSockets are routed before it, `api.routes.ws`). In order: the
    request context, the header and URL caps, CORS (Starlette's, for requests with an `Origin`),
    the JSON body cap (multipart uploads are streamed under the upload route's own cap)."""

    def __init__(
        self, app: ASGIApp, max_json_body_bytes: int, cors: dict[str, Any], log_probes: bool
    ) -> None:
        self.app, self.max_body, self.log_probes = app, max_json_body_bytes, log_probes
        self.cors = CORSMiddleware(app, **cors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        _keep_encoded_slashes(scope)
        exchange = _Exchange(scope, receive, send, self.max_body)
        scope.setdefault("state", {})["request_id"] = exchange.request_id
        metrics.IN_FLIGHT.enter()
        try:
            await self._serve(scope, exchange)
        finally:
            metrics.IN_FLIGHT.leave()
            elapsed = time.perf_counter() - exchange.started
            status = scope.get(CUT_STATUS) or exchange.status or 500
            metrics.observe(scope["method"], _route_template(scope), status, elapsed)
            if self.log_probes or status != 200 or scope["path"] != LIVENESS_PROBE:
                _log_access(scope, exchange.request_id, status, elapsed)

    async def _serve(self, scope: Scope, exchange: _Exchange) -> None:
        head, send = exchange.head, exchange.send
        refusal = head.refusal()
        if refusal is not None:
            await _send_json(send, *refusal)
            return
        if head.origin is None:
            exchange.vary_origin = True  # as Starlette's CORS does: caches must vary on Origin
        else:
            headers = Headers(scope=scope)
            if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
                await _preflight(self.cors, headers)(scope, exchange.upstream, send)
                return
            send = functools.partial(self.cors.send, send=send, request_headers=headers)
        try:
            await self._limit_body(scope, exchange, send)
        except asyncio.CancelledError:
            await _cut_by_stop(scope, exchange, send)
        except Exception:
            # Answered here, not by Starlette's outermost error layer: its 500 went out past
            # this one, without the request id and nosniff (and uvicorn logged it twice).
            if exchange.status is not None:
                raise  # the answer has started: uvicorn cuts the connection
            await _send_json(send, 500, unhandled_error(exchange.request_id))

    async def _limit_body(self, scope: Scope, exchange: _Exchange, send: Send) -> None:
        if exchange.head.multipart:
            await self.app(scope, exchange.upstream, send)
            return
        if exchange.head.length is not None and exchange.head.length > self.max_body:
            await self._refuse_body(send)
            return
        try:
            await self.app(scope, exchange.receive, send)
        except BodyTooLargeError:
            if exchange.status is None:  # nothing sent yet: the 413 can still be the answer
                await self._refuse_body(send)

    async def _refuse_body(self, send: Send) -> None:
        message = f"Request body is larger than {self.max_body} bytes."
        await _send_json(send, 413, error_body("payload_too_large", message))


class _Exchange:
    """One request as the front door follows it: its head, id and start time, the status once
    the answer starts, and the `send` / `receive` the app gets (bound methods: one object per
    request rather than a closure for each)."""

    __slots__ = (
        "downstream",
        "head",
        "max_body",
        "received",
        "request_id",
        "started",
        "status",
        "upstream",
        "vary_origin",
    )

    def __init__(self, scope: Scope, receive: Receive, send: Send, max_body: int) -> None:
        self.head = _RequestHead(scope)
        self.request_id = self.head.request_id or _new_request_id()
        self.started = time.perf_counter()
        self.upstream, self.downstream, self.max_body = receive, send, max_body
        self.status: int | None = None
        self.received = 0
        self.vary_origin = False

    async def send(self, message: Message) -> None:
        """The response start gains the context headers on its way out."""
        if message["type"] == "http.response.start":
            self.status = message["status"]
            elapsed = f"{time.perf_counter() - self.started:.6f}".encode()
            headers = list(message.get("headers", ()))
            if self.vary_origin:
                _add_vary_origin(headers)
            headers.append((b"x-process-time", elapsed))
            headers.append((b"x-request-id", self.request_id.encode()))
            headers.append(_NOSNIFF)
            message = {**message, "headers": headers}
        await self.downstream(message)

    async def receive(self) -> Message:
        """The request's messages, counted against the JSON body cap."""
        message = await self.upstream()
        self.received += len(message.get("body", b""))
        if self.received > self.max_body:
            raise BodyTooLargeError(self.max_body)
        return message


class _RequestHead:
    """What the front door needs from the request's headers, read in one pass."""

    __slots__ = (
        "header_bytes",
        "length",
        "multipart",
        "origin",
        "request_id",
        "url_bytes",
    )

    def __init__(self, scope: Scope) -> None:
        self.request_id: str | None = None
        self.origin: bytes | None = None
        self.length: int | None = None
        self.multipart = False
        self.header_bytes = 0
        self.url_bytes = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
        seen: set[bytes] = set()
        for name, value in scope.get("headers", []):
            self.header_bytes += len(name) + len(value)
            if name in _WANTED and name not in seen:  # the first of repeated headers counts
                seen.add(name)
                self._read(name, value)

    def _read(self, name: bytes, value: bytes) -> None:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            self.request_id = given if _REQUEST_ID.match(given) else None
        elif name == b"origin":
            self.origin = value
        elif name == b"content-length":
            self.length = int(value) if value.isdigit() else None
        else:
            self.multipart = value.lower().startswith(b"multipart/form-data")

    def refusal(self) -> tuple[int, dict[str, Any]] | None:
        if self.url_bytes > MAX_URL_BYTES:
            return 414, error_body("uri_too_long", f"URL longer than {MAX_URL_BYTES} bytes.")
        if self.header_bytes > MAX_HEADER_BYTES:
            message = f"Request headers larger than {MAX_HEADER_BYTES} bytes."
            return 431, error_body("headers_too_large", message)
        return None


_WANTED = frozenset({b"x-request-id", b"origin", b"content-length", b"content-type"})


def _new_request_id() -> str:
    # 64 random bits as hex: an id names a request in logs and error reports and guards nothing,
    # so the process's PRNG serves (secrets.token_hex made a getrandom call per request).
    return f"{random.getrandbits(64):016x}"


def _keep_encoded_slashes(scope: Scope) -> None:
    """An encoded slash stays inside its path segment: the server decodes `%2F` in the path
    routes match, so the job `../me` (`/jobs/..%2Fme`) was routed as `/jobs/../me`, "No route",
    rather than to the job route, which says there is no such job. No id holds a slash."""
    raw = scope.get("raw_path")
    if not raw or b"%2" not in raw:
        return
    # httpx's in-process transport puts the query in `raw_path` too.
    raw_path = raw.partition(b"?")[0]
    if _ENCODED_SLASH.search(raw_path):
        parts = _ENCODED_SLASH.split(raw_path)
        scope["path"] = "%2F".join(unquote(part.decode("ascii")) for part in parts)


def _add_vary_origin(headers: list[tuple[bytes, bytes]]) -> None:
    """`Vary: Origin` added to the response's headers, merged into a `Vary` it already has."""
    varies = [i for i, (name, _) in enumerate(headers) if name.lower() == b"vary"]
    if not varies:
        headers.append((b"vary", b"Origin"))
        return
    merged = b", ".join([*(headers[i][1] for i in varies), b"Origin"])
    headers[varies[0]] = (b"vary", merged)
    for i in reversed(varies[1:]):
        del headers[i]


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


#: Made and handled directly: Logger.info would also look up its caller's source file and line,
#: which no formatter of ours prints, on every request.
_ACCESS_RECORDS = RecordTemplate(
    access_log, logging.INFO, "%s %s %s %.1fms request_id=%s principal=%s pid=%d"
)


def _log_access(scope: Scope, request_id: str, status: int, elapsed: float) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    principal_id = getattr(scope.get("state", {}).get("principal"), "id", None)
    # The path only: a query string could carry a single-use ticket, which has no place in logs.
    path = escape_controls(scope["path"])
    duration_ms = round(elapsed * 1000, 3)
    # The pid tells apart the processes of one `--api-processes N` (one port, one log file), as
    # a JSON line's `pid` (every record's) does.
    pid = os.getpid()
    args = (scope["method"], path, status, duration_ms, request_id, principal_id or "-", pid)
    record = _ACCESS_RECORDS.make(
        args,
        {
            "request_id": request_id,
            "principal_id": principal_id,
            "method": scope["method"],
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
        },
    )
    access_log.handle(record)


#: What a client whose request a stopping api cut is told (`_cut_by_stop`).
CUT_BY_STOP = (
    "This api process stopped before it finished your request: it may or may not have been "
    "applied. Send it again (to another api process, or to this one once it is back); with the "
    "same Idempotency-Key (jobs) or client_order_id (orders) it is applied at most once."
)


async def _cut_by_stop(scope: Scope, exchange: _Exchange, send: Send) -> None:
    """A request still running when the api's shutdown grace ran out: uvicorn cancels it
    (`--timeout-graceful-shutdown`, which `jobcast up` gives) and would log the cancellation as a
    traceback and answer a bare text 500. The route's own clean-up has run by now (a streamed
    upload's partial file is deleted as the cancellation unwinds it); the client is told it may
    send the request again, and the log says in one line which request was cut. The task ends
    here, as the cancellation asked."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
    log.warning(
        "%s %s cut short: the api is stopping and its shutdown grace ran out (request_id=%s)",
        scope["method"],
        escape_controls(scope["path"]),
        exchange.request_id,
    )
    if exchange.status is None:  # else uvicorn closes the connection on an unfinished answer
        stopping = [(b"retry-after", b"1"), (b"connection", b"close")]
        await _send_json(send, 503, error_body("shutting_down", CUT_BY_STOP), stopping)


async def _send_json(
    send: Send,
    status: int,
    body: dict[str, Any],
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    # Spelled as FastAPI's JSONResponse spells every other error body.
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _preflight(cors: CORSMiddleware, headers: Headers) -> Response:
    """Starlette's preflight answer; a refused one (plain text there, "Disallowed CORS origin")
    in the error shape every other 4xx has, with the same CORS headers."""
    answer = cors.preflight_response(headers)
    if answer.status_code != 400:
        return answer
    what = bytes(answer.body).decode().removeprefix("Disallowed CORS ")
    kept = {k: v for k, v in answer.headers.items() if k.lower().startswith(("access-", "vary"))}
    return error_response(
        400,
        "cors_refused",
        f"This cross-origin request is not allowed ({what}): its origin, method or headers "
        "are not in JOBCAST_CORS_ORIGINS and the methods and headers the API takes.",
        None,
        kept,
    )
