"""One log line for a WebSocket's start, uvicorn's `"WebSocket /ws" [accepted]`, and one for its
end, Jobcast's `WebSocket closed: …` (`realtime/session.py`).

The websockets library, which uvicorn runs each socket on, adds "connection open" and
"connection closed" at INFO on `uvicorn.error`: no address, path or session, so nothing an
operator can act on that the two lines above do not say, and in a reconnect storm of thousands
of sockets they were half the api's log and a few per cent of its CPU.
"""

from __future__ import annotations

import logging

#: The library's own lines, matched on their constant message (they carry no arguments).
DROPPED = frozenset({"connection open", "connection closed"})


class DropLibraryLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg not in DROPPED


def install() -> None:
    """Idempotent: once on `uvicorn.error`, however often the app is created."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, DropLibraryLines) for f in logger.filters):
        logger.addFilter(DropLibraryLines())
