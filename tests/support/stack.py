"""A private embedded Redis and Settings pointing at it, for benchmarks and whole-system runs."""

from __future__ import annotations

import secrets
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jobcast.embedded_redis import EmbeddedRedis, free_port
from jobcast.settings import Settings


def start_embedded(
    data_dir: Path, password: str, attempts: int = 3
) -> tuple[EmbeddedRedis, subprocess.Popen[bytes]]:
    """An embedded Redis (no AOF) on a free port, answering. A port free when chosen can be
    taken before Redis binds it (the kernel also hands such ports to outgoing connections);
    Redis then exits at once, and another port is tried. Its log is `data_dir`/redis.log."""
    for attempt in range(1, attempts + 1):
        server = EmbeddedRedis(
            port=free_port(), password=password, data_dir=data_dir, appendonly=False
        )
        log = data_dir.parent / f"{data_dir.name}.log"
        proc = server.start(log=log)
        try:
            server.wait_ready(process=proc)
        except TimeoutError as exc:
            proc.kill()
            proc.wait()
            if attempt == attempts:
                # The log goes with the caller's temporary directory: say what it said.
                said = log.read_text(errors="replace").splitlines()[-5:] if log.exists() else []
                raise TimeoutError(f"{exc}; its log ended: {' | '.join(said)}") from exc
        else:
            return server, proc
    raise AssertionError("unreachable")


def start_private_redis(
    workdir: Path, **overrides: Any
) -> tuple[EmbeddedRedis, subprocess.Popen[bytes], Settings]:
    """Start a Redis of our own under `workdir` and return it, its process and dev Settings."""
    server, proc = start_embedded(workdir / "redis", secrets.token_urlsafe(12))
    values: dict[str, Any] = {
        "dev": True,
        "redis_url": server.url,
        "data_dir": workdir / "data",
        "key_secret": secrets.token_urlsafe(16),
        "flower_password": secrets.token_urlsafe(16),
    }
    settings = Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]
    return server, proc, settings


@contextmanager
def stoppable_redis(data_dir: Path) -> Iterator[tuple[EmbeddedRedis, subprocess.Popen[bytes]]]:
    """A Redis of the test's own, answering, for a test that stops it (SIGSTOP: a stalled or
    partitioned host, no RST); continued and ended however the test ends."""
    server, proc = start_embedded(data_dir, secrets.token_hex(8))
    try:
        yield server, proc
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=10)
