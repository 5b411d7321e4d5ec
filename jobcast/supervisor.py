"""Start child processes, wait for them to be ready, notice deaths, and stop them all.

A child marked `restart` (the workers, Flower, the api) that dies is started again, what was
left of its process group killed first: a worker lost to a `kill -9` or the OOM killer is one
process, not the whole stack. One that keeps dying (`MAX_RESTARTS` within `RESTART_WINDOW`
seconds), or one that is not marked (Redis), ends the stack with its last log lines (or, when
its port was taken, with what the launcher says of a port taken before the start). One the
stack outlives (not `essential`: a Sentinel-managed Redis node) is reaped and told of once, and
not started again.

Each child's output goes to its own log file, rotated by size (`jobcast.logfiles`). Each
child runs in its own session (process group), so stopping it reaches its own children too
(Celery's pool processes, uvicorn's workers), and a Ctrl-C in the terminal reaches only the
launcher, which then stops the children in order.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jobcast.launch_checks import port_refusal, says_address_in_use
from jobcast.logfiles import RotatingLog, pump_into
from jobcast.orphan_watch import LAUNCHER_PID_VARIABLE, STOP_GRACE_SECONDS

#: Seconds the app processes get to stop after SIGTERM before they are killed (STOP_GRACE_SECONDS,
#: which they also give themselves if the launcher is killed), then Redis. Together they stay
#: under the 10 s a stop may take.
REDIS_STOP_GRACE_SECONDS = 2.5
#: Log lines shown when a child dies.
DEATH_LOG_LINES = 20
#: A child started again this many times within the window has a fault a restart won't cure.
MAX_RESTARTS = 3
RESTART_WINDOW = 60.0

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the child if the launcher itself dies without cleaning up (an api or
    worker then bounds its own stop: `jobcast.orphan_watch`)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ChildDiedError(RuntimeError):
    def __init__(self, child: Child) -> None:
        self.child = child
        super().__init__(child.death_report())


@dataclass
class Child:
    """One supervised process: how to run it, where it logs, how to tell it is ready."""

    name: str
    argv: list[str]
    log: Path
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    #: False for a part the stack outlives (a Sentinel-managed Redis node: a failover covers it).
    essential: bool = True
    #: Started again when it dies (up to MAX_RESTARTS within RESTART_WINDOW seconds).
    restart: bool = False
    restarted_at: list[float] = field(default_factory=list)
    #: What happens without it, said when a child that is not `essential` dies.
    when_lost: str = ""
    #: A child that is not `essential` died and was told of; it is not looked at again.
    lost: bool = False
    #: The (host, port) it listens on, its `name` the part whose setting chooses the port: a
    #: death because another program took it is told as the launcher's check tells it.
    listens_on: tuple[str, int] | None = None
    proc: subprocess.Popen[bytes] | None = None
    pump: threading.Thread | None = None
    #: The log this run of it writes to.
    output: RotatingLog | None = None

    def start(self) -> None:
        # The child writes to a pipe; the launcher copies it into a log file it rotates by size.
        read_end, write_end = os.pipe()
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=write_end,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env, LAUNCHER_PID_VARIABLE: str(os.getpid())},
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        self.output = RotatingLog(self.log)
        self.pump = pump_into(read_end, self.output)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def death_report(self) -> str:
        code = self.proc.returncode if self.proc else None
        if self.pump is not None:
            self.pump.join(timeout=1.0)  # its last lines may still be in the pipe
        taken = self.port_taken()
        if taken:
            return f"{taken} (its log: {self.log})"
        lines = _tail(self.log, DEATH_LOG_LINES)
        again = f" (started again {len(self.restarted_at)} times)" if self.restarted_at else ""
        head = f"{self.name} {how_it_ended(code)}{again}. Last lines of {self.log}:"
        return "\n".join([head, *lines])

    def port_taken(self) -> str:
        """Why it could not listen, when another program took its port between the launcher's
        check and its bind; "" when it died otherwise."""
        if self.listens_on is None or self.output is None:
            return ""
        if not says_address_in_use(self.output.tail.decode(errors="replace")):
            return ""
        host, port = self.listens_on
        problem = f"another program took it as {self.name} started"
        return port_refusal(self.name, host, port, problem)

    def signal_group(self, sig: signal.Signals) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)


def how_it_ended(code: int | None) -> str:
    """A child's end in words: its exit code, or the signal that killed it by name (Popen gives
    that as a negative code, which "exited with code -9" left the reader to decode)."""
    if code is None:
        return "exited"
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"was killed by signal {-code}"
    return f"was killed by {name} (signal {-code})"


def _tail(path: Path, count: int) -> list[str]:
    try:
        with path.open("r", errors="replace") as handle:
            return [line.rstrip("\n") for line in deque(handle, maxlen=count)]
    except OSError:
        return []


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: Told of a child started again: the child, and the exit code it had ended with.
OnRestart = Callable[[Child, int | None], None]
#: Told of a child that is not `essential` and died: the child, and its exit code.
OnLost = Callable[[Child, int | None], None]


class Supervisor:
    """Runs children in start order and stops them in reverse order."""

    def __init__(self, on_restart: OnRestart | None = None, on_lost: OnLost | None = None) -> None:
        self.children: list[Child] = []
        self.stopping = threading.Event()
        self.on_restart = on_restart
        self.on_lost = on_lost

    def start(self, children: list[Child], timeout: float) -> None:
        """Start `children` together and block until all are ready; raise if one dies or
        times out first. Starting them together makes `jobcast up` as fast as its slowest part."""
        for child in children:
            self.children.append(child)
            child.start()
        waiting = list(children)
        deadline = time.monotonic() + timeout
        while waiting and not self.stopping.is_set():
            for child in waiting:
                # Dead before it was ever ready: it failed to start, also a part the running
                # stack outlives (an --ha Redis server), which otherwise waited out the timeout.
                if not child.running:
                    raise ChildDiedError(child)
            self.check_alive()
            waiting = [child for child in waiting if not child.ready()]
            if waiting and time.monotonic() > deadline:
                names = ", ".join(f"{c.name} (see {c.log})" for c in waiting)
                raise TimeoutError(f"not ready after {timeout:.0f}s: {names}")
            time.sleep(0.1)

    def discard(self, children: list[Child]) -> None:
        """Stop `children` (started by `start`, which raised) and forget them: the caller
        starts others in their place."""
        self._stop_batch(children, REDIS_STOP_GRACE_SECONDS)
        self.children = [child for child in self.children if child not in children]

    def check_alive(self, restart: bool = False) -> None:
        """Raise ChildDiedError for an essential child that died (and, with `restart`, could
        not be started again: while the stack starts, a death is its failure to start); tell
        of one that is not essential."""
        for child in self.children:
            if child.lost or child.running:  # `running` polls, which reaps a dead child
                continue
            if not child.essential:
                self._lost(child)
            elif not (restart and self._restarted(child)):
                raise ChildDiedError(child)

    def _lost(self, child: Child) -> None:
        child.lost = True
        if self.on_lost is not None and not self.stopping.is_set():
            self.on_lost(child, child.proc.returncode if child.proc else None)

    def _restarted(self, child: Child) -> bool:
        """Start `child` again if it may be; False when its death must end the stack."""
        now = time.monotonic()
        recent = [t for t in child.restarted_at if now - t < RESTART_WINDOW]
        if not child.restart or len(recent) >= MAX_RESTARTS or self.stopping.is_set():
            return False
        code = child.proc.returncode if child.proc else None
        if child.pump is not None:
            child.pump.join(timeout=1.0)  # its last lines, before the new run's
        # Its own children may outlive it (a worker's pool, uvicorn's workers holding the port).
        child.signal_group(signal.SIGKILL)
        child.restarted_at = [*recent, now]
        child.start()
        if self.on_restart is not None:
            self.on_restart(child, code)
        return True

    def watch(self, poll: float = 0.5) -> None:
        """Block until asked to stop (returns) or a child dies that is not started again
        (raises ChildDiedError)."""
        while not self.stopping.wait(poll):
            self.check_alive(restart=True)

    def stop_all(self) -> None:
        """SIGTERM every group, wait up to the grace period, then SIGKILL what is left.

        `last` children (the Redis servers) are stopped after the others, since the others
        need them to shut down cleanly.
        """
        groups = [c for c in self.children if not c.name.startswith("redis")]
        last = [c for c in self.children if c.name.startswith("redis")]
        self._stop_batch(groups, STOP_GRACE_SECONDS)
        self._stop_batch(last, REDIS_STOP_GRACE_SECONDS)

    def _stop_batch(self, batch: list[Child], grace: float) -> None:
        pgids = [c.proc.pid for c in batch if c.proc is not None]
        for child in reversed(batch):
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            # Reap our direct children first: a zombie leader still counts as a live group.
            for child in batch:
                if child.proc is not None:
                    child.proc.poll()
            if not any(_group_alive(p) for p in pgids):
                break
            time.sleep(0.1)
        for child in batch:
            child.signal_group(signal.SIGKILL)
            if child.proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.proc.wait(timeout=1)
