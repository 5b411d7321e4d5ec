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

    def kill_primary(self) -> None:
        self.procs["redis-primary"].kill_group()


@contextmanager
def sentinel_group(where: Path) -> Iterator[RunningGroup]:
    """Start the group with short timeouts (a dead primary is failed over in a few seconds)."""
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
        wait_for(servers.ready, 30, "the sentinels to see the replica and each other")
        yield RunningGroup(servers, procs)
    finally:
        for proc in procs.values():
            proc.stop()
