"""Aging on the `files` queue: a message left waiting at the head of a lower priority moves up.

File jobs are queued at a priority by their owner's backlog (`jobcast.files_priority`), and
kombu takes every message of a higher priority first, so a steady stream of other principals'
first jobs could hold a deep backlog back for good. Each reconciler sweep (one worker, every
`reconcile_interval`) looks at the message next taken from priorities 3, 6 and 9; one that was
already next at the previous sweep waited a whole interval unserved and becomes the next taken
from the priority above. A message climbs one priority per sweep at most, so a backlog gets at
least one job through every few intervals whatever else arrives.
"""

from __future__ import annotations

import redis

from celeryconfig import FILES_QUEUE
from jobcast import scripts
from jobcast.rediskeys import PRIORITIES, priority_queue

#: (a lower priority, the one above), the highest first: a message moved up in this sweep is not
#: seen again until the next one.
STEPS = tuple(zip(PRIORITIES, (0, *PRIORITIES[:-1]), strict=True))

#: Each lower priority's list -> the message next taken from it, as a sweep saw it.
Heads = dict[str, str]


def promote_waited(client: redis.Redis, seen: Heads, queue: str = FILES_QUEUE) -> tuple[Heads, int]:
    """Move up each message of `queue` that is still next in its priority since the sweep that
    saw `seen`; (what this sweep sees next in each, for the next sweep; how many moved)."""
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
