"""Where `jobcast up`'s Flower saves what it saw: one file per Redis its stack runs on.

Flower lists every task of its saved state as if the Redis it watches had run it. A data dir
run on its embedded Redis, then with `--ha` or on the operator's Redis (`JOBCAST_REDIS_URL`,
`JOBCAST_REDIS_SENTINELS`), showed the other Redis's tasks, which this one knows nothing of.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

from jobcast.settings import Settings


def flower_state_db(settings: Settings, ha: bool) -> Path:
    """The state file of a stack started with `settings` (before its embedded Redis, if any,
    set the URL) under `<data dir>/flower`: `state` on the embedded server, `state-ha` on the
    embedded Sentinel group, `state-<digest of where Redis is>` on the operator's."""
    state = settings.data_dir / "flower"
    if settings.sentinels:
        return state / f"state-{_digest(settings.redis_sentinel_master, settings.redis_sentinels)}"
    if settings.redis_url:
        return state / f"state-{_digest(*_address(settings.redis_url))}"
    return state / ("state-ha" if ha else "state")


def _address(url: str) -> tuple[str, ...]:
    # Not the password: a password changed is the same Redis, with the same tasks.
    parts = urlsplit(url)
    return (parts.hostname or "", str(parts.port or 6379), parts.path.strip("/") or "0")


def _digest(*parts: str) -> str:
    return hashlib.sha256(" ".join(parts).encode()).hexdigest()[:12]
