"""Which priority a new file job's task is queued at: the more file jobs its owner already has
queued or running, the later its new ones are taken.

The `files` queue is served in order within a priority, and kombu's Redis transport takes every
message of priority 0 before any of 3, 6 and 9 (`rediskeys.queue_lists`). So a principal's first
`cap` jobs at a time (`files_max_running_per_principal`) go at 0 and a backlog sinks by depth:
another principal's first job is taken before the rest of a thousand queued ahead of it, even on
a worker with one slot, where the running cap (`workers.files.fairness`) never applies. Nothing
is deferred or re-queued for it. Under a sustained load of others' first jobs the deepest
backlog would wait for good; the reconciler moves a message that waited a whole interval at the
head of its priority to the head of the one above (`workers.queue_aging`).
"""

from __future__ import annotations

from jobcast.rediskeys import PRIORITIES

#: Upper bounds (exclusive), in multiples of the cap, of the owner's active jobs taking each of
#: the lower priorities: [cap, 4 cap) -> 3, [4 cap, 16 cap) -> 6, beyond -> 9.
_DEPTHS = (4, 16)


def priority(active: int, cap: int) -> int:
    """The priority of a file job whose owner has `active` others queued or running; 0 (the
    first taken) when the cap is off (0)."""
    if cap <= 0 or active < cap:
        return 0
    for bound, level in zip(_DEPTHS, PRIORITIES, strict=False):
        if active < bound * cap:
            return level
    return PRIORITIES[-1]
