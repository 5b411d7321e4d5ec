"""Many short blocks bounded in time by one timer: `SharedDeadline`.

`asyncio.timeout` arms a timer of its own for each block and cancels it as the block ends: under
uvloop a libuv timer made and dropped per call, ~10 us, where the api's script lane bounds one
Redis round trip per `GET /jobs/{id}` (bench/front.py: ~385 us of CPU a request on a slow VM).
Here each block only notes its task and its due time in a dict; one timer, running only while
blocks are open, looks at them a few times per period and cancels the tasks past their due
time, as `asyncio.timeout` would. A block ends at most a quarter of the period late.
"""

from __future__ import annotations

import asyncio
from typing import Any

#: How often, as a share of the period, the open blocks are looked at: the most a block can
#: overrun its time.
LOOKS_PER_PERIOD = 4


class SharedDeadline:
    """Bounds blocks to `seconds` each (None bounds nothing), used as `asyncio.timeout` is::

        task = deadline.enter()
        try:
            ...
        except asyncio.CancelledError:
            if deadline.expired(task):
                raise TimeoutError from None
            raise
        finally:
            deadline.leave(task)

    Methods rather than a context manager: an async one costs a generator and an object per
    block, about what the timer it saves costs."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        # Each open block's task: (due time, its pending cancellations when the block began).
        self._due: dict[asyncio.Task[Any], tuple[float, int]] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._looking: asyncio.TimerHandle | None = None

    def enter(self) -> asyncio.Task[Any] | None:
        """Start the current task's block; its token for `expired` and `leave`."""
        task = asyncio.current_task()
        if self.seconds is None or task is None or task in self._due:
            return None  # unbounded, or inside a block of the same task: that one bounds it
        loop = asyncio.get_running_loop()
        self._due[task] = (loop.time() + self.seconds, task.cancelling())
        if self._looking is None:
            self._looking = loop.call_later(self.seconds / LOOKS_PER_PERIOD, self._look)
        return task

    def expired(self, task: asyncio.Task[Any] | None) -> bool:
        """Whether the block's cancellation was its time running out (then taken back, as
        `asyncio.timeout` does) rather than a cancellation from elsewhere."""
        if task is None or task not in self._expired:
            return False
        self._expired.discard(task)
        # As `asyncio.timeout`: a cancel from elsewhere that came with the expiry stays one.
        return task.uncancel() <= self._due[task][1]

    def leave(self, task: asyncio.Task[Any] | None) -> None:
        if task is not None:
            del self._due[task]
            self._expired.discard(task)

    def _look(self) -> None:
        self._looking = None
        if not self._due or self.seconds is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        for task, (due, _) in self._due.items():
            if due <= now and task not in self._expired:
                self._expired.add(task)
                task.cancel()
        self._looking = loop.call_later(self.seconds / LOOKS_PER_PERIOD, self._look)
