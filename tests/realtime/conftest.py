"""Realtime fixtures: keys come from `make_principal` in tests/conftest.py; a Redis of a test's
own to stop and restart under the hub."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobcast.embedded_redis import EmbeddedRedis, free_port
from tests.conftest import MakePrincipal

#: The name realtime tests import for the principal factory's type.
MakeKey = MakePrincipal


class PrivateRedis:
    """A Redis of this test's own (the session's must not be disturbed), restartable."""

    def __init__(self, data_dir: Path) -> None:
        self.server = EmbeddedRedis(
            port=free_port(), password=secrets.token_urlsafe(12), data_dir=data_dir
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, data_dir: Path | None = None) -> None:
        if data_dir is not None:
            self.server = EmbeddedRedis(
                port=self.server.port, password=self.server.password, data_dir=data_dir
            )
        self.proc = self.server.start()
        self.server.wait_ready()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis-a")
    server.start()
    yield server
    server.stop()
