"""Whether what a process wrote is on a replica: asked before deleting the only other copy of
something on the strength of a commit.

Behind Sentinel, Redis replicates asynchronously: a failover promotes a replica that may lack
the primary's last writes. A file job's outcome is one such write. When it is lost and the job's
Celery message is not (it reached the replica before the run began), the promoted replica hands
the message out again and the job runs a second time; it must still find its upload. So a
worker deletes an upload only once a replica has the outcome (`WAIT`), or when there is no
replica it could be lost to. With Redis reached by URL there is no failover and nothing to ask.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from jobcast.rediskeys import REPLICATION_PROBE_KEY
from jobcast.settings import Settings

#: Seconds a primary found with no replica is taken to still have none: after a failover the
#: new primary has none until the old one rejoins, and each WAIT would last its whole timeout.
ALONE_RECHECK_SECONDS = 5.0


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
        if not self.enabled or self._clock() < self._alone_until:
            return True
        try:
            # WAIT counts the writes of the connection it is sent on; the probe, sent on that
            # connection, comes after every write this process has had answered, and a
            # replica receives writes in order.
            pipe = client.pipeline(transaction=False)
            pipe.set(REPLICATION_PROBE_KEY, "1", ex=60)
            pipe.wait(1, self.timeout_ms)
            if int(pipe.execute()[1]) >= 1:
                return True
            if not connected_replicas(client):
                self._alone_until = self._clock() + ALONE_RECHECK_SECONDS
                return True
        except redis.RedisError:
            pass
        return False


def connected_replicas(client: redis.Redis) -> int:
    """Replicas connected to the primary now (`ROLE`: a primary lists them third)."""
    role = client.role()
    return len(role[2]) if role and role[0] in ("master", b"master") else 0
