"""What a Redis URL (`JOBCAST_REDIS_URL`) must be, and how one is shown without its password."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

#: The schemes of a Redis URL every part reads: redis-py's `unix://` is not one, since kombu
#: (the workers' broker) takes its path for the database number and fails.
REDIS_URL_SCHEMES = ("redis", "rediss")
#: What a Redis URL looks like, for a message refusing one.
REDIS_URL_SHAPE = "redis://[:PASSWORD@]HOST[:PORT][/DB]"


def redis_url_problem(url: str) -> str | None:
    """Why redis-py could not use `url` (its scheme, host, port or database), or None."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return "a unix socket is not supported (the workers' broker cannot use one): use TCP"
    if parts.scheme not in REDIS_URL_SCHEMES:
        return f"not a Redis URL: write it {REDIS_URL_SHAPE} (or rediss:// for TLS)"
    if not parts.hostname:
        return f"names no host: write it {REDIS_URL_SHAPE}"
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        return "its port is not a number from 1 to 65535"
    database = parts.path.strip("/")
    if database and not database.isdigit():
        return f"its database ({database!r}, after the host) is not a number"
    return None


def masked_url(url: str) -> str:
    """`url` with its password shown as `***`, for a message or the log."""
    parts = urlsplit(url)
    userinfo, at, address = parts.netloc.rpartition("@")
    netloc = f"{userinfo.split(':', 1)[0]}:***@{address}" if at and ":" in userinfo else None
    query = re.sub(r"(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    if netloc is None and query == parts.query:
        return url  # nothing to hide; rebuilt, `unix:///path` would lose its empty host
    return urlunsplit(parts._replace(netloc=netloc or parts.netloc, query=query))
