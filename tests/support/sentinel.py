"""A Sentinel group (primary, replica, three sentinels) from the embedded binary, for tests."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jobcast.embedded_sentinel import SentinelGroup
from jobcast.settings import Settings
from tests.support.processes import Proc, spawn, wait_for

MASTER = "jobcast"


@dataclass
class RunningGroup:
    servers: SentinelGroup
    procs: dict[str, Proc]

    def settings(self, data_dir: Path, **changes: object) -> Settings:
        """Dev Settings that reach Redis through the sentinels only."""
        password = self.servers.primary.password
        return Settings(
            dev=True,
            redis_sentinels=self.servers.addresses,
            redis_sentinel_master=MASTER,
            redis_password=password,
            redis_sentinel_password=password,
            data_dir=data_dir,
            key_secret=secrets.token_urlsafe(16),
            flower_password=secrets.token_urlsafe(16),
            worker_heartbeat_interval=0.5,
            _env_file=None,  # type: ignore[call-arg]
            **changes,
        )

    def wait_ready(self) -> None:
        wait_for(self.servers.ready, 30, "the sentinels to see the replica and each other")

    def kill_primary(self) -> None:
        """SIGKILL the primary, once the sentinels can agree on failing it over."""
        self.wait_ready()
        self.procs["redis-primary"].kill_group()


@contextmanager
def sentinel_group(where: Path, wait_ready: bool = True) -> Iterator[RunningGroup]:
    """Start the group with short timeouts (a dead primary is failed over in a few seconds).
    Without `wait_ready` it is handed over once both data nodes answer, while the sentinels
    still find each other (their hellos come every 2 s); `kill_primary` waits for them."""
    servers = SentinelGroup.create(
        secrets.token_urlsafe(16),
        where / "redis",
        MASTER,
        down_after_ms=1000,
        failover_timeout_ms=3000,
    )
    env = dict(os.environ)
    procs = {name: spawn(name, argv, env, where) for name, argv in servers.commands().items()}
    try:
        running = RunningGroup(servers, procs)
        if wait_ready:
            running.wait_ready()
        else:
            for node in (servers.primary, servers.replica):
                node.wait_ready(timeout=30)
        yield running
    finally:
        for proc in procs.values():
            proc.stop()
