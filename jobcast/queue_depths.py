"""How many messages wait in a Celery queue: the sum over its priority lists.

kombu's Redis transport keeps one list per priority (`rediskeys.queue_lists`); file jobs are
spread over them (`jobcast.files_priority`), so the queue's own list alone undercounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobcast.rediskeys import queue_lists


def read_depths(pipe: Any, queues: Sequence[str]) -> None:
    """Queue on the (sync or async) pipeline `pipe` the reads `depths` adds up."""
    for queue in queues:
        for name in queue_lists(queue):
            pipe.llen(name)


def depths(queues: Sequence[str], lengths: Sequence[int]) -> dict[str, int]:
    """Each queue's depth from the replies of `read_depths`, in order."""
    per = len(lengths) // len(queues) if queues else 0
    return {q: sum(lengths[i * per : (i + 1) * per]) for i, q in enumerate(queues)}
