"""A process `jobcast up` started stops in bounded time even when the launcher is killed.

On Ctrl-C or SIGTERM the launcher stops its children itself: SIGTERM, `STOP_GRACE_SECONDS`, then
SIGKILL. Killed with -9, it can do neither; Linux sends each child the parent-death SIGTERM it
asked for (`jobcast.supervisor`), but nothing is left to SIGKILL a child whose shutdown then
hangs. That was seen, rarely, under load: a files worker and its pool process, once the api,
still running 15 s after a `kill -9` of the launcher (its Redis servers having stopped at the
same moment). The launcher names itself to its children (`LAUNCHER_PID_VARIABLE`); an api or
worker main process started so watches it and, once it is gone, gives its own stop the same
grace and then SIGKILLs its process group, as the launcher would have.

The watch is a pidfd (Linux 5.3+): readable the moment the launcher exits, no polling, no
mistaking a reused pid for it. Where one cannot be had the process runs unwatched, as before.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
import time
from collections.abc import Mapping

#: Set by the launcher in each child's environment: its own pid.
LAUNCHER_PID_VARIABLE = "JOBCAST_LAUNCHER_PID"
#: Seconds the app processes get to stop after SIGTERM before they are killed (the launcher's
#: stop and this watch's alike).
STOP_GRACE_SECONDS = 6.0


def start(
    environ: Mapping[str, str] = os.environ, grace: float = STOP_GRACE_SECONDS
) -> threading.Thread | None:
    """Watch the launcher named in `environ`, if any; the watching thread (None: unwatched).

    Call it in the process that runs the app (not in a process forked from it later: a fork
    has no threads but the one that forked)."""
    pid = environ.get(LAUNCHER_PID_VARIABLE, "")
    if not pid.isdigit():
        return None  # not started by `jobcast up`
    try:
        pidfd = os.pidfd_open(int(pid))
    except (OSError, AttributeError):  # gone already, or no pidfds on this kernel
        return None
    thread = threading.Thread(
        target=_watch, args=(pidfd, grace), name="jobcast-orphan-watch", daemon=True
    )
    thread.start()
    return thread


def _watch(pidfd: int, grace: float) -> None:
    select.select([pidfd], [], [])  # readable once the launcher has exited
    os.close(pidfd)
    # Its parent-death SIGTERM has started this process's stop: the launcher's grace for it.
    time.sleep(grace)
    with contextlib.suppress(OSError):
        os.killpg(os.getpgid(0), signal.SIGKILL)
