"""uvicorn's HTTP protocol with four guards against clients that hold connections open
(slowloris): a deadline for a request's headers, one for its body, one for an answer's writes
that make no progress, and a cap on one address's open connections.

uvicorn closes neither a connection whose headers or body never complete nor one of many from a
single address, so a client could open connections until the api ran out of file descriptors: then
every new connection was reset and uploads on open ones failed. Started by import string,
`uvicorn --http api.http_protocol:GuardedHttpProtocol` (as `jobcast up` does)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import cast
from weakref import WeakKeyDictionary

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from api.closing_transport import ClosingTransport
from api.middleware import CUT_STATUS
from api.uploads import UPLOAD_PATHS
from api.write_progress import WriteProgressWatch
from jobcast.settings import get_settings

log = logging.getLogger("jobcast.api")

_OVER_CAP_BODY = (
    b'{"error": {"code": "unavailable", "message": "Too many open connections from your '
    b'address; close some and retry.", "details": null}}'
)
#: Sent to a connection over its address's cap, before closing it: cheap, and says why.
OVER_CAP_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"retry-after: 5\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_OVER_CAP_BODY), _OVER_CAP_BODY)
)

_BODY_TOO_SLOW_BODY = (
    b'{"error": {"code": "request_timeout", "message": "The request body came too slowly; '
    b'send it whole and retry.", "details": null}}'
)
#: Sent to a request whose body did not arrive in time, unless its answer has begun.
BODY_TOO_SLOW_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    b"connection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_BODY_TOO_SLOW_BODY), _BODY_TOO_SLOW_BODY)
)
_MULTIPART = b"multipart/form-data"

# One count per server (per api process), of its open HTTP connections by client address.
_open_by_server: WeakKeyDictionary[ServerState, Counter[str]] = WeakKeyDictionary()


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose headers or body come too slowly,
    dropping one whose client stopped reading its answer, and refusing one over its address's cap
    (`JOBCAST_API_HEADER_TIMEOUT`, `JOBCAST_API_BODY_TIMEOUT`, `JOBCAST_API_SEND_TIMEOUT`,
    `JOBCAST_API_MAX_CONNECTIONS_PER_ADDRESS`)."""

    _header_deadline: asyncio.TimerHandle | None = None
    _counted_as: str | None = None
    _header_seconds = 0.0
    _body_deadline: asyncio.TimerHandle | None = None
    _body_seconds = 0.0
    _send_seconds = 0.0
    _write_watch: WriteProgressWatch | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        settings = get_settings()
        # Read once per connection: the deadline is armed again for each request it carries.
        self._header_seconds = settings.api_header_timeout
        self._body_seconds = settings.api_body_timeout
        self._send_seconds = settings.api_send_timeout
        if not self._take_a_place(settings.api_max_connections_per_address):
            log.warning("refused a connection from %s: over its address's cap", self.client)
            transport.write(OVER_CAP_RESPONSE)
            transport.close()
            return
        self._arm_header_deadline()  # a connection that sends nothing is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        self._disarm_body_deadline()
        self._stop_write_watch()
        self._give_back_place()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # The next request on a kept-alive connection: the time runs from its first byte.
        if self._header_deadline is None:
            self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        super().on_headers_complete()
        # The app waits for a body without end; an upload has its own idle timeout (answered
        # 408 upload_stalled by its route) and may rightly take hours.
        if not self._is_upload():
            self._body_deadline = self.loop.call_later(self._body_seconds, self._body_too_slow)

    def on_message_complete(self) -> None:
        self._disarm_body_deadline()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        # The answer's tail may still wait in the buffer, below the mark that pauses writing: a
        # close (keep-alive's end, `connection: close`) would wait for it without end.
        if self.transport.get_write_buffer_size():
            self._watch_writes()
        super().on_response_complete()

    def pause_writing(self) -> None:
        super().pause_writing()
        self._watch_writes()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._write_watch is not None:
            self._write_watch.drained()

    def handle_websocket_upgrade(self) -> None:
        # The transport goes to the WebSocket protocol, whose own per-address and per-principal
        # caps count it from now; this protocol never hears of its close.
        self._disarm_header_deadline()
        self._disarm_body_deadline()
        self._stop_write_watch()
        self._give_back_place()
        # The WebSocket protocol closes through it: a client that stops reading cannot hold the
        # connection, and its session, open by never taking the last frames.
        grace = get_settings().ws_close_timeout
        self.transport = cast(asyncio.Transport, ClosingTransport(self.transport, grace))
        super().handle_websocket_upgrade()

    def _arm_header_deadline(self) -> None:
        self._header_deadline = self.loop.call_later(self._header_seconds, self._headers_too_slow)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            log.info("closed a connection from %s: its headers came too slowly", self.client)
            self.transport.close()

    def _disarm_body_deadline(self) -> None:
        if self._body_deadline is not None:
            self._body_deadline.cancel()
            self._body_deadline = None

    def _is_upload(self) -> bool:
        # By route, not by Content-Type alone: a JSON route sent a multipart type reads its
        # body before refusing it 415, so the type alone would escape the deadline.
        scope = self.scope
        if scope["method"] != "POST" or scope["path"] not in UPLOAD_PATHS:
            return False
        return any(
            name == b"content-type" and value.lower().startswith(_MULTIPART)
            for name, value in scope["headers"]
        )

    def _body_too_slow(self) -> None:
        self._body_deadline = None
        if self.transport.is_closing():
            return
        log.info("closed a connection from %s: its request body came too slowly", self.client)
        if self.cycle is not None and not self.cycle.response_started:
            self.transport.write(BODY_TOO_SLOW_RESPONSE)
            # So the access line and metrics say what the client got, not the app's answer to
            # the disconnect below (a 400 for a body cut short), which never leaves.
            self.cycle.scope[CUT_STATUS] = 408  # type: ignore[literal-required]
        # The app's wait for the body ends too: it reads a disconnect.
        self.transport.close()

    def _watch_writes(self) -> None:
        if self._write_watch is None:  # made for the few connections whose writes back up
            self._write_watch = WriteProgressWatch(
                self.transport, self.loop, self._send_seconds, self._stopped_reading
            )
        self._write_watch.start()

    def _stop_write_watch(self) -> None:
        if self._write_watch is not None:
            self._write_watch.stop()

    def _stopped_reading(self) -> None:
        log.info("dropped a connection from %s: its client stopped reading the answer", self.client)
        # Not `close()`, which waits for the unsent bytes: the request's task reads a disconnect
        # (a download's file is closed) and the connection's place is given back.
        self.transport.abort()

    def _take_a_place(self, cap: int) -> bool:
        address = self.client[0] if self.client else ""
        counts = _open_by_server.setdefault(self.server_state, Counter())
        if cap and counts[address] >= cap:
            return False
        counts[address] += 1
        self._counted_as = address
        return True

    def _give_back_place(self) -> None:
        if self._counted_as is None:
            return
        counts = _open_by_server[self.server_state]
        counts[self._counted_as] -= 1
        if counts[self._counted_as] <= 0:
            del counts[self._counted_as]
        self._counted_as = None
