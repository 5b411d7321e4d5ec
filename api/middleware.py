"""ASGI middleware: request id, `X-Process-Time`, metrics, access log, JSON body size cap.

Written as plain ASGI (not BaseHTTPMiddleware) so streamed uploads and downloads pass through
without being buffered.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import metrics
from api.errors import error_body

access_log = logging.getLogger("jobcast.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class RequestContextMiddleware:
    """Gives each request an id, times it, counts it, and logs one line when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed = time.perf_counter() - started
                headers = list(message.get("headers", []))
                headers.append((b"x-process-time", f"{elapsed:.6f}".encode()))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        metrics.IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            metrics.IN_FLIGHT.dec()
            elapsed = time.perf_counter() - started
            metrics.observe(scope["method"], _route_template(scope), status, elapsed)
            _log_access(scope, request_id, status, elapsed)


def _log_access(scope: Scope, request_id: str, status: int, elapsed: float) -> None:
    principal_id = getattr(scope.get("state", {}).get("principal"), "id", None)
    # The path only: a query string could carry a single-use ticket, which has no place in logs.
    path = escape_controls(scope["path"])
    duration_ms = round(elapsed * 1000, 3)
    access_log.info(
        "%s %s %s %.1fms request_id=%s principal=%s",
        scope["method"],
        path,
        status,
        duration_ms,
        request_id,
        principal_id or "-",
        extra={
            "request_id": request_id,
            "principal_id": principal_id,
            "method": scope["method"],
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
        },
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """`text` with control characters as `\\xNN`: a path cannot forge or break a log line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


#: Header and URL caps. uvicorn's httptools parser accepts megabytes of headers, so the api
#: refuses oversized ones itself (the h11 parser has its own, similar limit).
MAX_HEADER_BYTES = 32 * 1024
MAX_URL_BYTES = 8 * 1024


class HeaderLimitMiddleware:
    """431 for oversized headers, 414 for an oversized URL, before any route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            url_bytes = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
            header_bytes = sum(len(k) + len(v) for k, v in scope.get("headers", []))
            if url_bytes > MAX_URL_BYTES:
                await _refuse(
                    scope, send, 414, "uri_too_long", f"URL longer than {MAX_URL_BYTES} bytes."
                )
                return
            if header_bytes > MAX_HEADER_BYTES:
                await _refuse(
                    scope,
                    send,
                    431,
                    "headers_too_large",
                    f"Request headers larger than {MAX_HEADER_BYTES} bytes.",
                )
                return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, status: int, code: str, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1009, "reason": code})
        return
    await _send_json(send, status, error_body(code, message))


class BodyTooLargeError(Exception):
    pass


class JsonBodyLimitMiddleware:
    """Refuses request bodies over `max_bytes` with 413, except multipart uploads, which the
    upload route streams to disk under its own, larger cap."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_multipart(scope):
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        received, started = 0, False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLargeError:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = error_body(
            "payload_too_large", f"Request body is larger than {self.max_bytes} bytes."
        )
        await _send_json(send, 413, body)


def _is_multipart(scope: Scope) -> bool:
    content_type = _header(scope, b"content-type") or ""
    return content_type.lower().startswith("multipart/form-data")


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    import json

    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
