"""Start real Jobcast processes (Celery workers, uvicorn) for tests, and always stop them."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# httpcore, which httpx imports on a client's first use, imported now: imported then, in the
# middle of the soak's threads, Python 3.11's module lock broke (`KeyError: <thread id>` out of
# importlib, as when a finalizer or another thread imports meanwhile; fixed in CPython 3.12),
# and a fresh-clone run failed.
import httpcore  # noqa: F401
import psutil

from jobcast.launcher import API_SHUTDOWN_GRACE_SECONDS, child_env
from jobcast.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
#: WebSocket limits meant for one abusive address or principal, and the api's cap on one
#: address's connections, lifted for benchmarks: all their clients connect from one address
#: with one key.
WS_LIMITS_LIFTED = {
    f"JOBCAST_WS_{name}": "1000000"
    for name in (
        "MAX_CONNECTIONS_PER_PRINCIPAL",
        "MAX_UNAUTHENTICATED_PER_ADDRESS",
        "AUTH_ATTEMPTS_PER_MINUTE",
        "AUTH_ATTEMPTS_BURST",
        "SUBSCRIBES_PER_MINUTE",
        "SUBSCRIBES_BURST",
    )
} | {
    "JOBCAST_API_MAX_CONNECTIONS_PER_ADDRESS": "0",  # thousands of handshakes at once
    # A snapshot for each of a million sockets, as the settings require of that many.
    "JOBCAST_WS_SEND_QUEUE_BYTES_PER_PRINCIPAL": str(2**60),
}


def market_symbols(*names: str) -> dict[str, str]:
    """The env of an api whose tradable symbols are `names` (any tick): a `market.{name}`
    channel exists only for a symbol, so a test or bench that publishes made-up market events
    names its channels here."""
    return {"JOBCAST_ORDER_SYMBOLS": json.dumps({name: {"tick_size": "1"} for name in names})}


def process_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **child_env(settings), "PYTHONPATH": str(REPO_ROOT)}
    env["JOBCAST_WORKER_HEARTBEAT_INTERVAL"] = str(settings.worker_heartbeat_interval)
    env["JOBCAST_TASK_MAX_ATTEMPTS"] = str(settings.task_max_attempts)
    return {**env, **(extra or {})}


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill_group(self, sig: signal.Signals = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def kill(self) -> None:
        """Kill the whole group at once: for teardown, where a graceful stop proves nothing and a
        Celery warm shutdown costs seconds per test (the next test's database is flushed anyway)."""
        self.kill_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)

    def stop(self, grace: float = 5.0) -> None:
        self.kill_group(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=grace)
        self.kill_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)


def stop_together(*procs: Proc, grace: float = 5.0) -> None:
    """Stop each as `Proc.stop` does, their shutdowns overlapping: a SIGTERM to all, then a wait
    for each (a Celery warm shutdown takes a second or more; one after another, they add up)."""
    for proc in procs:
        proc.kill_group(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
    for proc in procs:
        proc.kill_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout=5)


def spawn(name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> Proc:
    log = log_dir / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        popen = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
    return Proc(name, popen, log)


def started_together(*starts: Callable[[], object]) -> None:
    """Run the `starts` (process starts that wait until the process serves) at once: each
    mostly waits for its process."""
    with ThreadPoolExecutor(len(starts)) as pool:
        for started in [pool.submit(start) for start in starts]:
            started.result()


def wait_for(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    proc: Proc | None = None,
    interval: float = 0.1,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.popen.poll() is not None:
            raise AssertionError(
                f"{proc.name} died while waiting for {what}:\n{proc.output()[-4000:]}"
            )
        time.sleep(interval)
    tail = proc.output()[-4000:] if proc else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{tail}")


def still_running(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Those of `procs` still running after up to `timeout` seconds.

    A zombie has exited: it waits only to be reaped. An orphan (a killed worker's pool process,
    a child of a launcher killed with -9) is reaped by the machine's init, and this VM's init
    reaps late: `psutil.wait_procs` counted such zombies alive for 15 s and more under load.
    """
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in procs if _running(p)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def worker_argv(queues: str, concurrency: int, include: list[str], name: str) -> list[str]:
    # Laid out by hand: each flag beside its value, as on a command line.
    argv = [
        sys.executable, "-m", "workers",
        "-Q", queues, "-n", f"{name}@%h", "--concurrency", str(concurrency),
        "--loglevel", "INFO", "--without-mingle",
        "--without-gossip",
    ]  # fmt: skip
    if include:
        argv += ["--include", ",".join(include)]
    return argv


def api_argv(port: int, processes: int = 1, ws_max_size: int | None = None) -> list[str]:
    """uvicorn as `jobcast up` runs it; `ws_max_size` is JOBCAST_WS_MAX_FRAME_BYTES."""
    if ws_max_size is None:
        ws_max_size = Settings.model_fields["ws_max_frame_bytes"].default
    # Laid out by hand: each flag beside its value, as on a command line.
    return [
        sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(processes),
        "--no-proxy-headers", "--no-server-header", "--ws-per-message-deflate", "false",
        "--no-access-log", "--ws-max-size", str(ws_max_size),
        "--http", "api.http_protocol:GuardedHttpProtocol",
        "--timeout-graceful-shutdown", str(API_SHUTDOWN_GRACE_SECONDS),
    ]  # fmt: skip


def http_status(url: str) -> int | None:
    """The status plain-HTTP `url` answers with within a second, or None.

    A bare connection, not httpx: `httpx.get` builds a client, and its TLS context, for every
    call, ~37 ms of CPU against ~0.1 ms; polled every 0.1 s while an api starts, that cost the
    test process about as much CPU as the api's own start."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=1.0)
    try:
        conn.request("GET", parts.path or "/")
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def http_ok(url: str) -> bool:
    return http_status(url) == 200


@contextlib.contextmanager
def running(procs: list[Proc]) -> Iterator[list[Proc]]:
    try:
        yield procs
    finally:
        for proc in procs:
            proc.stop()
