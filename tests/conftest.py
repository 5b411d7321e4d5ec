"""Fixtures: a real Redis per test session, real worker and api processes per test."""

from __future__ import annotations

import itertools
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from jobcast.embedded_redis import EmbeddedRedis, free_port
from jobcast.settings import Settings
from jobcast.worker_registry import WORKERS_KEY, live_queues
from tests.support.processes import (
    Proc,
    api_argv,
    http_ok,
    process_env,
    spawn,
    wait_for,
    worker_argv,
)


class RedisServer:
    """The test session's Redis: ours (embedded, flushable) or one named by JOBCAST_TEST_REDIS_URL."""

    def __init__(self, base_url: str, owned: bool, embedded: EmbeddedRedis | None) -> None:
        self.base_url, self.owned, self.embedded = base_url, owned, embedded
        self._dbs = itertools.cycle(range(1, 16))

    def settings_for(self, workdir: Path) -> Settings:
        """Dev Settings on a database of its own, with data and secrets of its own."""
        return Settings(
            dev=True,
            redis_url=self.next_db_url(),
            data_dir=workdir / "data",
            key_secret=secrets.token_urlsafe(16),
            flower_password=secrets.token_urlsafe(16),
            worker_heartbeat_interval=0.5,
            _env_file=None,  # type: ignore[call-arg]
        )

    def next_db_url(self) -> str:
        """A database of its own for one test; flushed first only if we started the server."""
        db = next(self._dbs)
        url = self.base_url.rsplit("/", 1)[0] + f"/{db}"
        if self.owned:
            client = redis.Redis.from_url(url)
            client.flushdb()
            client.close()
        return url


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    external = os.environ.get("JOBCAST_TEST_REDIS_URL")
    if external:
        yield RedisServer(external, owned=False, embedded=None)
        return
    server = EmbeddedRedis(
        port=free_port(),
        password=secrets.token_urlsafe(16),
        data_dir=tmp_path_factory.mktemp("redis"),
        appendonly=False,
    )
    proc = server.start()
    try:
        server.wait_ready()
        yield RedisServer(server.url, owned=True, embedded=server)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def settings(redis_server: RedisServer, tmp_path: Path) -> Settings:
    """Settings for one test: its own Redis database and data directory."""
    return redis_server.settings_for(tmp_path)


@pytest.fixture
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    yield client
    client.close()


StartWorker = Callable[..., Proc]


@pytest.fixture
def start_worker(
    settings: Settings, tmp_path: Path, redis_client: redis.Redis
) -> Iterator[StartWorker]:
    """Factory: start a real Celery worker process and wait until it consumes its queues."""
    started: list[Proc] = []

    def start(
        queues: str = "files,orders",
        concurrency: int = 1,
        include: list[str] | None = None,
        env: dict[str, str] | None = None,
        settings_: Settings | None = None,
    ) -> Proc:
        s = settings_ or settings
        name = f"w{len(started)}-{secrets.token_hex(3)}"
        proc = spawn(
            name,
            worker_argv(queues, concurrency, include or [], name),
            process_env(s, env),
            tmp_path,
        )
        started.append(proc)
        wanted = set(queues.split(","))

        def consuming() -> bool:
            entries = redis_client.hgetall(WORKERS_KEY)
            mine = {k: v for k, v in entries.items() if k.startswith(name + "@")}
            return wanted <= live_queues(mine, time.time(), 5.0)

        wait_for(consuming, 60, f"worker {name} to consume {queues}", proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


StartApi = Callable[..., tuple[Proc, str]]


@pytest.fixture
def start_api(settings: Settings, tmp_path: Path) -> Iterator[StartApi]:
    """Factory: start a real uvicorn api process on a free port; returns (proc, base_url)."""
    started: list[Proc] = []

    def start(env: dict[str, str] | None = None, processes: int = 1) -> tuple[Proc, str]:
        port = free_port()
        env_ = process_env(settings, env)
        frame_limit = env_.get("JOBCAST_WS_MAX_FRAME_BYTES", str(settings.ws_max_frame_bytes))
        argv = api_argv(port, processes, int(frame_limit))
        proc = spawn(f"api-{port}", argv, env_, tmp_path)
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: http_ok(f"{url}/healthz"), 30, f"api on {port}", proc)
        return proc, url

    yield start
    for proc in started:
        proc.stop()
