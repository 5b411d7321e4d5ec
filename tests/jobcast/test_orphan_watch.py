"""A process `jobcast up` started ends within its stop's grace once the launcher is killed, its
own children too, even when its stop hangs; one whose launcher lives is left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

from jobcast.orphan_watch import LAUNCHER_PID_VARIABLE
from tests.support.processes import still_running, wait_for

GRACE = 0.5

#: A part whose stop hangs: it ignores SIGTERM, and its own child (a pool process) sleeps on.
PART = textwrap.dedent(f"""
    import os, signal, sys, time
    from jobcast import orphan_watch
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    assert orphan_watch.start(grace={GRACE}) is not None
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
    print(os.getpid(), flush=True)
    time.sleep(60)
""")

#: A launcher: starts the part in a session of its own, names itself to it, waits to be killed.
LAUNCHER = textwrap.dedent(f"""
    import os, subprocess, sys, time
    env = {{**os.environ, {LAUNCHER_PID_VARIABLE!r}: str(os.getpid())}}
    subprocess.Popen([sys.executable, "-c", sys.argv[1]], env=env, start_new_session=True)
    time.sleep(60)
""")


@contextmanager
def launched() -> Iterator[tuple[subprocess.Popen[str], list[psutil.Process]]]:
    """The launcher, and the part with its child once both run."""
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, PART], stdout=subprocess.PIPE, text=True
    )
    try:
        assert launcher.stdout is not None
        part = psutil.Process(int(launcher.stdout.readline()))
        wait_for(lambda: len(part.children()) == 1, 10, "the part's own child")
        procs = [part, *part.children()]
        yield launcher, procs
    finally:
        launcher.kill()
        launcher.wait()
        if still_running(procs, 0):
            os.killpg(procs[0].pid, signal.SIGKILL)  # the part's session: it and its child


def test_a_part_whose_launcher_is_killed_ends_with_its_children_after_the_grace() -> None:
    with launched() as (launcher, procs):
        # Read before the kill: read after, a descheduled test could start its clock late and
        # see the part end less than the grace "after" it (0.494 s of 0.5, seen once).
        killed = time.monotonic()
        launcher.kill()
        assert still_running(procs, GRACE + 5) == []
        took = time.monotonic() - killed
    assert took >= GRACE  # its own stop had the grace first


def test_a_part_whose_launcher_lives_is_left_running() -> None:
    with launched() as (_, procs):
        time.sleep(GRACE + 1)
        assert still_running(procs, 0) == procs
