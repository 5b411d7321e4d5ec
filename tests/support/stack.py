"""A private embedded Redis and Settings pointing at it, for benchmarks and whole-system runs."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path
from typing import Any

from jobcast.embedded_redis import EmbeddedRedis, free_port
from jobcast.settings import Settings


def start_private_redis(
    workdir: Path, **overrides: Any
) -> tuple[EmbeddedRedis, subprocess.Popen[bytes], Settings]:
    """Start a Redis of our own under `workdir` and return it, its process and dev Settings."""
    server = EmbeddedRedis(
        port=free_port(),
        password=secrets.token_urlsafe(12),
        data_dir=workdir / "redis",
        appendonly=False,
    )
    proc = server.start()
    server.wait_ready()
    values: dict[str, Any] = {
        "dev": True,
        "redis_url": server.url,
        "data_dir": workdir / "data",
        "key_secret": secrets.token_urlsafe(16),
        "flower_password": secrets.token_urlsafe(16),
    }
    settings = Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]
    return server, proc, settings
