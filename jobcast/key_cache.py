"""An api process's short memory of the keys it has looked up, so most requests skip Redis.

A revocation evicts its key at once on the process that revoked it and on every process its
pub/sub message (`KEY_REVOKED_CHANNEL`) reaches; entries also expire after `KEY_CACHE_SECONDS`,
which bounds how long a process that missed the message (its pub/sub connection was down) still
accepts the key.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from jobcast.keys import KeyInfo

#: Seconds a looked-up key is trusted without asking Redis again: the longest a revoked key
#: still works on an api process that missed the revocation's pub/sub message.
KEY_CACHE_SECONDS = 5.0
#: Keys remembered at most; past it the cache starts over (lookups refill it).
KEY_CACHE_MAX_ENTRIES = 10_000


class KeyCache:
    """Valid keys by digest, each until its expiry or its key's revocation."""

    def __init__(
        self, ttl: float = KEY_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl, self._clock = ttl, clock
        self._entries: dict[str, tuple[float, KeyInfo]] = {}
        #: Bumped by every eviction: a lookup that started before one must not store its answer
        #: (it may have read the key just before it was revoked).
        self.generation = 0

    def get(self, digest: str) -> KeyInfo | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[digest]
            return None
        return entry[1]

    def put(self, info: KeyInfo, generation: int) -> None:
        """Remember `info`, unless a key was evicted since `generation` was read."""
        if info.revoked or generation != self.generation:
            return
        if len(self._entries) >= KEY_CACHE_MAX_ENTRIES:
            self._entries.clear()
        self._entries[info.digest] = (self._clock() + self._ttl, info)

    def evict(self, key_id: str) -> None:
        """Forget the key `key_id` (it was revoked)."""
        self.generation += 1
        for digest in [d for d, (_, info) in self._entries.items() if info.key_id == key_id]:
            del self._entries[digest]
