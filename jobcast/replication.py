"""Whether what a process wrote is on a replica: asked before deleting the only other copy of
something on the strength of a commit.

Behind Sentinel, Redis replicates asynchronously: a failover promotes a replica that may lack
the primary's last writes. A file job's outcome is one such write. When it is lost and the job's
Celery message is not (it reached the replica before the run began), the promoted replica hands
the message out again and the job runs a second time; it must still find its upload. So a
worker deletes an upload only once a replica has the outcome (`WAIT`), or when there is no
replica it could be lost to; the api does the same with the upload of a job cancelled while
queued (a lost cancel leaves the job queued). With Redis reached by URL there is no failover
and nothing to ask.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
import redis.asyncio as aioredis

from jobcast.rediskeys import REPLICATION_PROBE_KEY
from jobcast.settings import Settings

#: Seconds a primary found with no replica is taken to still have none: after a failover the
#: new primary has none until the old one rejoins, and each WAIT would last its whole timeout.
ALONE_RECHECK_SECONDS = 5.0

P = TypeVar("P", redis.client.Pipeline, aioredis.client.Pipeline)


class ReplicaCheck:
    """One per process: `written_through(client)` before deleting what a commit made needless."""

    def __init__(
        self, enabled: bool, timeout_ms: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.enabled, self.timeout_ms, self._clock = enabled, timeout_ms, clock
        self._alone_until = float("-inf")

    @classmethod
    def of(cls, settings: Settings) -> ReplicaCheck:
        return cls(bool(settings.sentinels), settings.redis_replica_wait_ms)

    def written_through(self, client: redis.Redis) -> bool:
        """Whether every write this process has had answered is on a replica, or none could be
        lost to a failover (no Sentinel, or no replica connected to the primary). False when
        the replica did not answer in time or Redis is away (the primary may be dying)."""
        if self._needless():
            return True
        try:
            if self._acked(self._probe(client.pipeline(transaction=False)).execute()):
                return True
            return self._alone(connected_replicas(client))
        except redis.RedisError:
            return False

    async def written_through_async(self, client: aioredis.Redis) -> bool:
        """`written_through` for the api's asyncio client."""
        if self._needless():
            return True
        try:
            if self._acked(await self._probe(client.pipeline(transaction=False)).execute()):
                return True
            return self._alone(_replicas_in(await client.role()))
        except redis.RedisError:
            return False

    def _needless(self) -> bool:
        return not self.enabled or self._clock() < self._alone_until

    def _probe(self, pipe: P) -> P:
        # WAIT counts the writes of the connection it is sent on; the probe, sent on that
        # connection, comes after every write this process has had answered, and a replica
        # receives writes in order.
        pipe.set(REPLICATION_PROBE_KEY, "1", ex=60)
        pipe.wait(1, self.timeout_ms)
        return pipe

    @staticmethod
    def _acked(replies: list[Any]) -> bool:
        return int(replies[1]) >= 1

    def _alone(self, replicas: int) -> bool:
        """No replica connected: nothing a failover could promote, so nothing to lose."""
        if replicas:
            return False
        self._alone_until = self._clock() + ALONE_RECHECK_SECONDS
        return True


def connected_replicas(client: redis.Redis) -> int:
    """Replicas connected to the primary now."""
    return _replicas_in(client.role())


def _replicas_in(role: Any) -> int:
    """`ROLE`'s reply: a primary lists its connected replicas third."""
    return len(role[2]) if role and role[0] in ("master", b"master") else 0
