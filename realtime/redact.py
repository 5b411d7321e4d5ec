"""Keep single-use tickets out of logs: uvicorn logs each WebSocket's path with its query."""

from __future__ import annotations

import logging
import re

_TICKET = re.compile(r"(ticket=)[^&\s\"]+")


class RedactTickets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                _TICKET.sub(r"\1[redacted]", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def install() -> None:
    """Idempotent: once per logger, however often the app is created."""
    for name in ("uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTickets) for f in logger.filters):
            logger.addFilter(RedactTickets())
