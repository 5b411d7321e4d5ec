"""When to send a request again, and after how long: pure rules, no I/O.

429 means the server refused before doing anything, so any request may be sent again; so may
a 408, an upload cut when it went quiet (`upload_stalled`): nothing of it was kept, and an
Idempotency-Key is claimed only once the file is stored, so a repeat cannot make a second job.
A 503 or a dropped connection may come after the server acted, so only requests that are safe
to repeat are retried: reads, deletes, and writes carrying a key that makes a repeat return the
first answer (`Idempotency-Key` on a submit, `client_order_id` on an order).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from time import time

RETRIED_STATUSES = frozenset({408, 429, 503})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    #: Attempts after the first one.
    max_retries: int = 4
    #: First backoff in seconds; doubles each attempt, with jitter.
    backoff: float = 0.5
    #: Longest single wait, whatever `Retry-After` asks for.
    max_wait: float = 30.0

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempt counts from 0)."""
        asked = parse_retry_after(retry_after)
        if asked is not None:
            return min(asked, self.max_wait)
        jittered = self.backoff * float(2**attempt) * random.uniform(0.5, 1.0)  # noqa: S311
        return min(jittered, self.max_wait)


def may_retry_status(status: int, repeatable: bool) -> bool:
    return status in (408, 429) or (status == 503 and repeatable)


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time())
    except (TypeError, ValueError):
        return None
