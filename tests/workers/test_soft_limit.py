"""SoftLimit: a soft time limit whose exception a library swallows still stops the task."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from workers.soft_limit import SoftLimit


def test_a_swallowed_soft_limit_is_raised_again_by_check() -> None:
    previous = signal.getsignal(signal.SIGUSR1)
    with SoftLimit() as limit:
        limit.check()  # not signalled yet: nothing happens
        # As redis-py's metrics do: a broad `except Exception` around the line the signal hits.
        with contextlib.suppress(Exception):
            os.kill(os.getpid(), signal.SIGUSR1)
            signal.sigtimedwait([], 0)  # a point where the handler has surely run
        with pytest.raises(SoftTimeLimitExceeded):
            limit.check()
    assert signal.getsignal(signal.SIGUSR1) is previous
