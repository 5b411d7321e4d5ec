"""A Sentinel group from the embedded binary: a primary, one replica and three sentinels.

`jobcast up --ha` and the failover test run it, so a failover can be tried on one machine. It is
for trials: production runs its own primary, replicas and sentinels on separate hosts (README:
Redis failover through Sentinel).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import redis

from jobcast.embedded_redis import (
    EmbeddedRedis,
    config_value,
    port_again,
    redis_server_binary,
    remember_port,
    remembered_port,
)
from jobcast.filemodes import make_private_dir

#: Sentinels that must agree the primary is down before one of them fails it over.
QUORUM = 2
#: How many sentinels the group runs: three, so a majority survives any one of them.
SENTINELS = 3
#: What follows a server's death, said by `jobcast up --ha`. None is started again while the
#: stack runs: an old primary back would be a stale standalone primary until Sentinel
#: reconfigured it. The next start finds the node the sentinels last agreed on (`data_roles`).
DATA_NODE_LOST = (
    "if it was the primary, the sentinels promote the replica; it is not started again while "
    "the stack runs, the next `jobcast up --ha` brings it back as the replica"
)
SENTINEL_LOST = (
    f"the others still fail the primary over while {QUORUM} of the {SENTINELS} sentinels run; "
    "it is not started again while the stack runs, the next `jobcast up --ha` starts it"
)


@dataclass(frozen=True)
class EmbeddedSentinel:
    """One sentinel watching `primary` under `master_name`."""

    port: int
    primary: EmbeddedRedis
    master_name: str
    data_dir: Path
    #: The replica the group starts, named in the config: left to find it, Sentinel would ask
    #: the primary for its replicas (INFO) only every 10 s, and a start waited for that round.
    replica: EmbeddedRedis | None = None
    #: Milliseconds without an answer before this sentinel calls the primary down.
    down_after_ms: int = 5000
    #: Milliseconds a failover may take (and the pause before the same primary is retried).
    failover_timeout_ms: int = 60_000

    @property
    def config_file(self) -> Path:
        return self.data_dir / "sentinel.conf"

    def config(self) -> str:
        # Sentinel rewrites this file as it learns the replicas, its peers and new primaries;
        # requirepass is its own password, which it also uses to reach its peers.
        name, password = self.master_name, config_value(self.primary.password)
        return "\n".join(
            [
                f"port {self.port}",
                f"bind {self.primary.host}",
                f"dir {self.data_dir.resolve()}",
                f"requirepass {password}",
                f"sentinel monitor {name} {self.primary.host} {self.primary.port} {QUORUM}",
                *self._known_replica(),
                f"sentinel auth-pass {name} {password}",
                f"sentinel down-after-milliseconds {name} {self.down_after_ms}",
                f"sentinel failover-timeout {name} {self.failover_timeout_ms}",
                f"sentinel parallel-syncs {name} 1",
                "",
            ]
        )

    def _known_replica(self) -> list[str]:
        # Only says the replica is expected there: `SentinelGroup.ready` asks the primary
        # whether it is in sync.
        if self.replica is None:
            return []
        return [
            f"sentinel known-replica {self.master_name} {self.replica.host} {self.replica.port}"
        ]

    def command(self) -> list[str]:
        """The command line; writes the config file first (Sentinel refuses to run without a
        writable one)."""
        make_private_dir(self.data_dir)
        self.config_file.write_text(self.config())
        self.config_file.chmod(0o600)
        return [redis_server_binary(), str(self.config_file.resolve()), "--sentinel"]


def sentinel_dir(data_dir: Path, n: int) -> Path:
    return data_dir / f"sentinel-{n}"


def data_roles(data_dir: Path, master_name: str) -> tuple[Path, Path]:
    """The data nodes' directories, the primary's first: `primary/` and `replica/`, unless the
    sentinels last agreed on `replica/`'s server as the primary. Then a failover promoted it and
    it took every write since; started as the replica, it would have resynced from the stale
    old primary and lost them. The directories keep their names, each its port."""
    primary, replica = data_dir / "primary", data_dir / "replica"
    agreed = agreed_primary_port(data_dir, master_name)
    if agreed is not None and agreed == remembered_port(replica):
        return replica, primary
    return primary, replica


def agreed_primary_port(data_dir: Path, master_name: str) -> int | None:
    """The port of the primary the group's sentinels last agreed on, from their config files.
    Sentinel rewrites its file (and fsyncs it) the moment it sees a failover, so this holds
    however the stack ended, a kill -9 of the launcher too. The highest config epoch wins: a
    sentinel that was down during a failover still names the old primary."""
    views: list[tuple[int, int]] = []
    for n in range(1, SENTINELS + 1):
        with contextlib.suppress(OSError, ValueError):
            config = (sentinel_dir(data_dir, n) / "sentinel.conf").read_text()
            views.extend(_primary_in(config, master_name))
    return max(views)[1] if views else None


def _primary_in(config: str, master_name: str) -> list[tuple[int, int]]:
    """[(config epoch, primary port)] from one sentinel's config file; [] if it monitors none
    under `master_name`. The epoch is 0 until a failover (and in the file we write)."""
    port, epoch = None, 0
    for line in config.splitlines():
        match line.split():
            case ["sentinel", "monitor", name, _host, found, _quorum] if name == master_name:
                port = int(found)
            case ["sentinel", "config-epoch", name, found] if name == master_name:
                epoch = int(found)
    return [] if port is None else [(epoch, port)]


@dataclass(frozen=True)
class SentinelGroup:
    """The five servers of a local Sentinel setup, on ports of their own."""

    primary: EmbeddedRedis
    replica: EmbeddedRedis
    sentinels: tuple[EmbeddedSentinel, ...]

    @classmethod
    def create(
        cls,
        password: str,
        data_dir: Path,
        master_name: str,
        *,
        maxmemory: int = 0,
        down_after_ms: int = 5000,
        failover_timeout_ms: int = 60_000,
        taken: Collection[int] = (),
    ) -> SentinelGroup:
        """The group whose servers keep their data under `data_dir`, each on the port it had the
        last time while that is free (`port_again`), so the sentinels' addresses stay the same;
        the data node the sentinels last agreed on as the primary is the primary again. No
        server takes one of `taken` (ports the rest of the stack will listen on)."""
        given: list[int] = []

        def port(server_dir: Path) -> int:
            given.append(port_again(server_dir, [*taken, *given]))
            return given[-1]

        primary_dir, replica_dir = data_roles(data_dir, master_name)
        primary = EmbeddedRedis(port(primary_dir), password, primary_dir, maxmemory=maxmemory)
        replica = EmbeddedRedis(
            port(replica_dir), password, replica_dir, maxmemory=maxmemory, replica_of=primary.port
        )
        sentinels = tuple(
            EmbeddedSentinel(
                port(sentinel_dir(data_dir, n)),
                primary,
                master_name,
                sentinel_dir(data_dir, n),
                replica=replica,
                down_after_ms=down_after_ms,
                failover_timeout_ms=failover_timeout_ms,
            )
            for n in range(1, SENTINELS + 1)
        )
        return cls(primary, replica, sentinels)

    @property
    def addresses(self) -> str:
        """The sentinels as JOBCAST_REDIS_SENTINELS wants them."""
        return ",".join(f"{s.primary.host}:{s.port}" for s in self.sentinels)

    def when_lost(self) -> dict[str, str]:
        """What follows each server's death, by the names `commands` gives them."""
        named = dict.fromkeys(("redis-primary", "redis-replica"), DATA_NODE_LOST)
        return named | {f"redis-sentinel-{n}": SENTINEL_LOST for n in range(1, SENTINELS + 1)}

    def ports(self) -> dict[str, int]:
        """Each server's port, by the names `commands` gives them."""
        named = {"redis-primary": self.primary.port, "redis-replica": self.replica.port}
        return named | {f"redis-sentinel-{n}": s.port for n, s in enumerate(self.sentinels, 1)}

    def commands(self) -> dict[str, list[str]]:
        """Each server's name and command line, data nodes first."""
        for node in (self.primary, self.replica):
            make_private_dir(node.data_dir)
        named = {"redis-primary": self.primary.command(), "redis-replica": self.replica.command()}
        for n, sentinel in enumerate(self.sentinels, start=1):
            named[f"redis-sentinel-{n}"] = sentinel.command()
        return named

    def remember_ports(self) -> None:
        """Keep each server's port for the group `create` makes on the same data at the next
        start. Call it with `commands`, which names the primary to the sentinels by its port:
        the next `create` finds the node they last agreed on by the ports kept here, also after
        a start that failed (a kept port another program holds by then is not taken again)."""
        for node in (self.primary, self.replica):
            remember_port(node.data_dir, node.port)
        for sentinel in self.sentinels:
            remember_port(sentinel.data_dir, sentinel.port)

    def ready(self) -> bool:
        """The replica is in sync with the primary, and every sentinel is linked to the primary,
        the replica and both other sentinels: only then can they agree on a failover and have
        a replica to promote."""
        return self._replica_in_sync() and all(
            self._sentinel_ready(sentinel) for sentinel in self.sentinels
        )

    def _replica_in_sync(self) -> bool:
        """The primary streams its writes to the replica: its first sync is done (`online`)."""
        client = self._client(self.primary.port)
        try:
            info = client.info("replication")
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()
        return any(
            isinstance(link, dict)
            and link.get("port") == self.replica.port
            and link.get("state") == "online"
            for name, link in info.items()
            if name.startswith("slave")
        )

    def _sentinel_ready(self, sentinel: EmbeddedSentinel) -> bool:
        client = self._client(sentinel.port)
        try:
            state = cast(dict[str, Any], client.sentinel_master(sentinel.master_name))
            replicas = client.sentinel_slaves(sentinel.master_name)
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()
        linked = [r for r in replicas if r.get("port") == self.replica.port]
        return (
            any(not replica.get("is_disconnected", True) for replica in linked)
            and int(state.get("num-other-sentinels", 0)) >= SENTINELS - 1
        )

    def _client(self, port: int) -> redis.Redis:
        return redis.Redis(
            host=self.primary.host,
            port=port,
            password=self.primary.password,
            socket_connect_timeout=0.5,
            socket_timeout=1.0,
            decode_responses=True,
        )
