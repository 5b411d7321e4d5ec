"""One log line for a WebSocket's start, uvicorn's `"WebSocket /ws" [accepted]`, and one for its
end, Jobcast's `WebSocket closed: …` (`realtime/session.py`).

The websockets library, which uvicorn runs each socket on, adds "connection open" and
"connection closed" at INFO on `uvicorn.error`: no address, path or session, so nothing an
operator can act on that the two lines above do not say, and in a reconnect storm of thousands
of sockets they were half the api's log and a few per cent of its CPU.

uvicorn logs a text frame that is not UTF-8 at ERROR, with a traceback: the client's fault, not
the api's, already answered with close 1007 (which the end line records). It is kept at INFO,
without the traceback, so no client can fill the log with tracebacks or page an operator.
"""

from __future__ import annotations

import logging

#: The library's own lines, matched on their constant message (they carry no arguments).
DROPPED = frozenset({"connection open", "connection closed"})
#: uvicorn's lines for a client's own mistakes, logged as errors of the server.
CLIENT_FAULTS = frozenset({"Invalid UTF-8 sequence received from client."})


class LibraryLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in CLIENT_FAULTS:
            return _as_client_fault(record)
        return record.msg not in DROPPED


def _as_client_fault(record: logging.LogRecord) -> bool:
    """Demote `record` to INFO without its traceback; False if INFO is not logged."""
    record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
    record.exc_info = record.exc_text = None
    return logging.getLogger(record.name).isEnabledFor(logging.INFO)


def install() -> None:
    """Idempotent: once on `uvicorn.error`, however often the app is created."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, LibraryLines) for f in logger.filters):
        logger.addFilter(LibraryLines())
