"""A task's soft time limit that cannot be lost.

Celery's prefork pool enforces the soft limit by signalling the pool process, whose handler
raises `SoftTimeLimitExceeded` in the main thread at whatever line runs then. If that line is
inside someone else's `except Exception` (redis-py wraps its per-command metrics in one), the
exception is swallowed and the task runs on as if no limit existed. `SoftLimit` also notes that
the signal came, so the task can raise it again at a point of its choosing (`check`).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

from billiard.pool import SIG_SOFT_TIMEOUT
from celery.exceptions import SoftTimeLimitExceeded


class SoftLimit:
    """`with SoftLimit() as limit:` ... `limit.check()` raises once the soft limit was signalled,
    even if the exception the pool's own handler raised was swallowed on the way."""

    def __init__(self) -> None:
        self.exceeded = False
        self._previous: Any = None

    def __enter__(self) -> SoftLimit:
        # Handlers can only be set from the main thread; other pools have no soft limit anyway.
        if SIG_SOFT_TIMEOUT is not None and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(SIG_SOFT_TIMEOUT, self._on_signal)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._previous is not None:
            signal.signal(SIG_SOFT_TIMEOUT, self._previous)

    def check(self) -> None:
        if self.exceeded:
            raise SoftTimeLimitExceeded()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.exceeded = True
        if callable(self._previous):
            self._previous(signum, frame)  # the pool's handler: raises here and now
        else:
            raise SoftTimeLimitExceeded()
