"""Aging on the `files` queue: a message left waiting at the head of a lower priority moves up.

File jobs are queued at a priority by their owner's backlog (`jobcast.files_priority`), and
kombu takes every message of a higher priority first, so a steady stream of other principals'
first jobs could hold a deep backlog back for good. Every `queue_aging_interval` (on the first
reconciler sweep that long after the last aging run: one worker, sweeping every
`reconcile_interval`) aging looks at the message next taken from priorities 3, 6 and 9; one that
was already next at the previous aging run waited a whole aging interval unserved and becomes
the next taken from the priority above. A message climbs one priority per run at most, so a
backlog gets at least one job through every few aging intervals whatever else arrives.
"""

from __future__ import annotations

import redis

from celeryconfig import FILES_QUEUE
from jobcast import scripts
from jobcast.rediskeys import PRIORITIES, priority_queue

#: (a lower priority, the one above), the highest first: a message moved up in this run is not
#: seen again until the next one.
STEPS = tuple(zip(PRIORITIES, (0, *PRIORITIES[:-1]), strict=True))

#: Each lower priority's list -> the message next taken from it, as an aging run saw it.
Heads = dict[str, str]


def promote_waited(client: redis.Redis, seen: Heads, queue: str = FILES_QUEUE) -> tuple[Heads, int]:
    """Move up each message of `queue` that is still next in its priority since the run that
    saw `seen`; (what this run sees next in each, for the next run; how many moved)."""
    moved = 0
    for low, high in STEPS:
        source = priority_queue(queue, low)
        head = seen.get(source)
        if head is not None:
            target = priority_queue(queue, high)
            moved += int(scripts.run(client, "queue_promote", [source, target], [head]))
    pipe = client.pipeline(transaction=False)
    for low, _ in STEPS:
        pipe.lindex(priority_queue(queue, low), -1)
    heads = pipe.execute()
    now = {priority_queue(queue, low): h for (low, _), h in zip(STEPS, heads, strict=True)}
    return {name: head for name, head in now.items() if head is not None}, moved


class AgingCadence:
    """When aging runs among sweeps that come more often: on the first sweep at least
    `interval` seconds after its last run (every sweep if they come slower)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: float | None = None

    def due(self, now: float) -> bool:
        """Whether aging runs at `now` (a monotonic time); if so, counts it as run."""
        if self._last is not None and now - self._last < self.interval:
            return False
        self._last = now
        return True
