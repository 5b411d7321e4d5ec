"""The soak's stack and its faults: a restartable Redis, an api and workers, all real processes.

Redis runs with AOF and `appendfsync always`: an answered write is on disk, so a Redis SIGKILL
may lose nothing a client was told was accepted, and the soak counts every loss as one. (With
the default `everysec`, the last second of answered writes can go; see bench/RESULTS.md.)
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import redis

from jobcast.embedded_redis import EmbeddedRedis, free_port
from jobcast.rediskeys import WORKERS_KEY
from jobcast.settings import Settings
from jobcast.worker_registry import live_queues
from tests.support.processes import (
    Proc,
    api_argv,
    http_ok,
    process_env,
    spawn,
    wait_for,
    worker_argv,
)

#: Worker roles: one `files` worker with two pool processes, two `orders` workers.
ROLES = {"files": ("files", 2), "orders0": ("orders", 1), "orders1": ("orders", 1)}
#: Matching leases short enough that a stopped holder's symbol is taken over within the soak.
LEASE_MS = 2000
#: Process settings for the soak: no rate limit in the way, a fast reconciler (stuck work runs
#: within RECONCILE_AFTER + 2 intervals), a short quarantine.
SOAK_ENV = {
    "JOBCAST_RATE_SUBMIT_PER_MINUTE": "10000000",
    "JOBCAST_RATE_SUBMIT_BURST": "1000000",
    "JOBCAST_RATE_READ_PER_MINUTE": "10000000",
    "JOBCAST_RATE_READ_BURST": "1000000",
    "JOBCAST_RATE_ORDERS_PER_MINUTE": "10000000",
    "JOBCAST_RATE_ORDERS_BURST": "1000000",
    "JOBCAST_RECONCILE_INTERVAL": "1",
    "JOBCAST_RECONCILE_AFTER": "5",
    "JOBCAST_ORDER_LEASE_MS": str(LEASE_MS),
    "JOBCAST_TASK_QUARANTINE_DELAY": "2",
    "JOBCAST_WORKER_HEARTBEAT_INTERVAL": "1",
    "JOBCAST_LOG_JSON": "0",
}
#: Seconds after which the reconciler has resent anything stuck (after + 2 intervals), plus slack.
RECONCILE_BOUND = 5 + 2 * 1 + 3
#: How long a SIGSTOPped worker stays stopped: past its matching lease.
STOP_SECONDS = LEASE_MS / 1000 + 1.5


class SoakStack:
    """Redis, one api process and the workers of ROLES; each can be killed and restarted."""

    def __init__(self, workdir: Path) -> None:
        self.workdir, self.logs = workdir, workdir / "logs"
        self.redis = EmbeddedRedis(
            port=free_port(),
            password=secrets.token_urlsafe(12),
            data_dir=workdir / "redis",
            appendfsync="always",
        )
        self.redis_proc = self._start_redis()
        self.settings = Settings(
            dev=True,
            redis_url=self.redis.url,
            data_dir=workdir / "data",
            key_secret=secrets.token_urlsafe(16),
            flower_password=secrets.token_urlsafe(16),
            _env_file=None,  # type: ignore[call-arg]
        )
        self.env = process_env(self.settings, SOAK_ENV)
        self.client = redis.Redis.from_url(self.redis.url, decode_responses=True)
        self.api_port = free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.starts = 0
        #: Workers restarted by `revive`.
        self.revived = 0
        self.workers: dict[str, Proc] = {}
        started: list[Proc] = []
        try:
            for role in ROLES:
                self.workers[role] = self._start_worker(role)
                started.append(self.workers[role])
            self.api = self._spawn_api()
            started.append(self.api)
            self._await_api(self.api)
            for role, proc in self.workers.items():
                self._wait_consuming(role, proc)
        except BaseException:
            # A stack that did not come up leaves nothing behind (a failed soak test left its
            # Redis, api and workers running after the test run ended).
            self._stop(started)
            raise

    def _start_redis(self) -> subprocess.Popen[bytes]:
        proc = self.redis.start(self.workdir / "redis.log")
        self.redis.wait_ready(timeout=30)
        return proc

    def _start_worker(self, role: str) -> Proc:
        queues, concurrency = ROLES[role]
        self.starts += 1
        name = f"{role}-{self.starts}"
        return spawn(name, worker_argv(queues, concurrency, [], name), self.env, self.logs)

    def _wait_consuming(self, role: str, proc: Proc) -> None:
        def consuming() -> bool:
            mine = {
                k: v
                for k, v in self.client.hgetall(WORKERS_KEY).items()
                if k.startswith(proc.name + "@")
            }
            return {ROLES[role][0]} <= live_queues(mine, time.time(), 5.0)

        wait_for(consuming, 90, f"worker {proc.name}", proc)

    def _start_api(self) -> Proc:
        proc = self._spawn_api()
        self._await_api(proc)
        return proc

    def _spawn_api(self) -> Proc:
        proc = spawn(f"api-{self.starts}", api_argv(self.api_port), self.env, self.logs)
        self.starts += 1
        return proc

    def _await_api(self, proc: Proc) -> None:
        wait_for(lambda: http_ok(f"{self.url}/healthz"), 60, "the api", proc)

    def revive(self) -> list[str]:
        """Restart, as a supervisor would, workers that exited on their own: Celery gives up
        ("Could not start worker processes") when a pool process dies while it starts."""
        exited = [role for role, proc in self.workers.items() if proc.popen.poll() is not None]
        for role in exited:
            self.workers[role] = self._start_worker(role)
        self.revived += len(exited)
        return exited

    def stop(self) -> None:
        self._stop([self.api, *self.workers.values()])

    def _stop(self, procs: list[Proc]) -> None:
        for proc in procs:
            proc.kill_group(signal.SIGCONT)
            proc.stop()
        self.redis_proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.redis_proc.wait(timeout=10)
        self.client.close()


def pool_processes(proc: Proc) -> list[psutil.Process]:
    try:
        children = psutil.Process(proc.popen.pid).children()
    except psutil.NoSuchProcess:
        return []
    return [c for c in children if c.status() != psutil.STATUS_ZOMBIE]


def kill_pool_process(stack: SoakStack, roles: list[str], rng: random.Random) -> str:
    """SIGKILL one pool process of a worker of `roles` (Celery starts a new one)."""
    role = rng.choice(roles)
    pool = pool_processes(stack.workers[role])
    if not pool:
        raise FaultNotPossible(f"{role} has no pool process")
    rng.choice(pool).send_signal(signal.SIGKILL)
    return role


def kill_worker(stack: SoakStack, rng: random.Random) -> str:
    """SIGKILL a worker's main process (its pool goes with it, as on a lost host); restart it."""
    role = rng.choice(list(ROLES))
    old = stack.workers[role]
    old.kill_group(signal.SIGKILL)
    old.popen.wait(timeout=10)
    stack.workers[role] = stack._start_worker(role)
    return role


def stop_worker(stack: SoakStack, rng: random.Random) -> str:
    """SIGSTOP a worker (main and pool) for longer than the matching lease, then SIGCONT."""
    role = rng.choice(list(ROLES))
    proc = stack.workers[role]
    proc.kill_group(signal.SIGSTOP)
    time.sleep(STOP_SECONDS)
    proc.kill_group(signal.SIGCONT)
    return role


def kill_api(stack: SoakStack, rng: random.Random) -> str:
    stack.api.kill_group(signal.SIGKILL)
    stack.api.popen.wait(timeout=10)
    stack.api = stack._start_api()
    return "api"


def kill_redis(stack: SoakStack, rng: random.Random) -> str:
    """SIGKILL Redis and start it again on the same port from its AOF."""
    os.kill(stack.redis_proc.pid, signal.SIGKILL)
    stack.redis_proc.wait(timeout=10)
    stack.redis_proc = stack._start_redis()
    return "redis"


class FaultNotPossible(Exception):
    """The target is not there right now (e.g. a pool being replaced): try another moment."""


Fault = Callable[[SoakStack, random.Random], str]

FAULTS: dict[str, Fault] = {
    "files_pool_kill": lambda s, r: kill_pool_process(s, ["files"], r),
    "orders_pool_kill": lambda s, r: kill_pool_process(s, ["orders0", "orders1"], r),
    "worker_kill": kill_worker,
    "worker_stop": stop_worker,
    "api_kill": kill_api,
    "redis_kill": kill_redis,
}
