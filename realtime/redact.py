"""Keep credentials out of logs: uvicorn logs each WebSocket's path with its query string.

A ticket is meant for the URL; a key is not, but a client may put one there all the same
(`?key=jc_…`). Every query value on a logged path is redacted, not only those of known names:
a name we did not think of must not let a secret through. Our own access log (api/middleware.py)
logs paths without their query, so only uvicorn's WebSocket lines need this.
"""

from __future__ import annotations

import logging
import re

#: A path with its query string, as uvicorn formats `"WebSocket /ws?…"`.
_PATH_WITH_QUERY = re.compile(r"^/[^?\s]*\?")
#: Longest query name kept in a log line (`access_token` fits); a longer "name" may be a secret
#: sent without a value (`/ws?jc_…=`), and a key is longer than this.
MAX_KEPT_NAME = 32


def redact_query(text: str) -> str:
    """`/ws?ticket=wst_x&room=a` → `/ws?ticket=[redacted]&room=[redacted]`; other text as is."""
    start = _PATH_WITH_QUERY.match(text)
    if start is None:
        return text
    query = text[start.end() :]
    items = (_redacted_item(item) for item in query.split("&"))
    return text[: start.end()] + "&".join(items)


def _redacted_item(item: str) -> str:
    name, equals, _value = item.partition("=")
    if not item or (equals and len(name) <= MAX_KEPT_NAME):
        return f"{name}=[redacted]" if item else item
    return "[redacted]"


class RedactQueries(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(redact_query(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    """Idempotent: once per logger, however often the app is created."""
    for name in ("uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueries) for f in logger.filters):
            logger.addFilter(RedactQueries())
