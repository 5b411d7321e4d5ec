"""Fixtures: a real Redis per test session; real worker and api processes per test, or shared
by a module's tests (`module_stack`) where no test disturbs them."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from jobcast.embedded_redis import EmbeddedRedis, free_port
from jobcast.keys import create_key
from jobcast.rediskeys import KEY_SECRET_FINGERPRINT_KEY, STORAGE_ID_KEY, WORKERS_KEY
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

#: The longest files, longest first (timed on the 2-core box). `make test` hands whole files
#: to two xdist processes in collection order (`--no-loadscope-reorder`), so these start first
#: and short files fill in behind them: no process runs a long file alone at the end.
HEAVY_FIRST = (
    "tests/workers/files/test_memory_budget.py",
    "tests/e2e/test_soak.py",
    "tests/jobcast/test_launcher.py",
    "tests/workers/files/test_worker_failures.py",
    "tests/workers/files/test_worker_crashes.py",
    "tests/e2e/test_orders_concurrency.py",
    "tests/e2e/test_sentinel_failover.py",
    "tests/web/test_app.py",
    "tests/workers/test_reconciler.py",
    "tests/workers/test_attempts.py",
    "tests/workers/files/test_bombs.py",
    "tests/api/test_schema_fuzz.py",
    "tests/workers/test_broker_safety.py",
    "tests/workers/test_queue_prefetch.py",
    "tests/e2e/test_realtime_jobs.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Heavy files first (a stable sort: the rest, and tests within a file, keep their order)."""
    rank = {path: place for place, path in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


class RedisServer:
    """The test session's Redis: ours (embedded, flushable) or one named by JOBCAST_TEST_REDIS_URL.

    Tests take databases in turn (1-15); a stack shared by many tests takes one out of the turn
    until it is released, so a later test's flush never wipes it."""

    def __init__(self, base_url: str, owned: bool, embedded: EmbeddedRedis | None) -> None:
        self.base_url, self.owned, self.embedded = base_url, owned, embedded
        self._turn: list[int] = list(range(1, 16))
        self._reserved: set[int] = set()

    def settings_for(self, workdir: Path, shared: bool = False) -> Settings:
        """Dev Settings on a database of its own, with data and secrets of its own."""
        return Settings(
            dev=True,
            redis_url=self.next_db_url(reserve=shared),
            data_dir=workdir / "data",
            key_secret=secrets.token_urlsafe(16),
            flower_password=secrets.token_urlsafe(16),
            worker_heartbeat_interval=0.5,
            _env_file=None,  # type: ignore[call-arg]
        )

    def next_db_url(self, reserve: bool = False) -> str:
        """A database of its own for one test (or kept, with `reserve`, until `release`d);
        flushed first only if we started the server."""
        free = [db for db in self._turn if db not in self._reserved]
        assert len(free) > 2, "too many shared stacks hold a database at once"
        db = free[0]
        self._turn.remove(db)
        self._turn.append(db)
        if reserve:
            self._reserved.add(db)
        url = self.base_url.rsplit("/", 1)[0] + f"/{db}"
        if self.owned:
            client = redis.Redis.from_url(url)
            client.flushdb()
            client.close()
        else:
            # Each test has a data directory and key secret of its own: an earlier test's
            # storage token or key secret fingerprint on this database (ours, not the server
            # owner's data) would refuse it as foreign.
            client = redis.Redis.from_url(url)
            client.delete(STORAGE_ID_KEY, KEY_SECRET_FINGERPRINT_KEY)
            client.close()
        return url

    def release(self, url: str) -> None:
        """Give a shared stack's database back to the turn."""
        self._reserved.discard(int(url.rsplit("/", 1)[1]))


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


def new_principal(
    client: redis.Redis, settings: Settings, name: str = "tester", admin: bool = False
) -> tuple[str, str]:
    """A new principal with one API key, as `jobcast keys create` makes it: (key, principal id).
    Every test key is made here, so tests stay apart by ownership as users do."""
    raw, info = create_key(client, settings.secret("key_secret"), name, admin=admin)
    return raw, info.principal_id


MakePrincipal = Callable[..., tuple[str, str]]


@pytest.fixture
def make_principal(redis_client: redis.Redis, settings: Settings) -> MakePrincipal:
    """Factory: (API key, principal id) of a new principal in the test's database."""

    def make(name: str = "tester", admin: bool = False) -> tuple[str, str]:
        return new_principal(redis_client, settings, name, admin)

    return make


def launch_worker(
    settings: Settings,
    workdir: Path,
    client: redis.Redis,
    queues: str = "files,orders",
    concurrency: int = 1,
    include: list[str] | None = None,
    env: dict[str, str] | None = None,
    name: str | None = None,
) -> Proc:
    """Start a real Celery worker process (named `name`@host, a name of its own by default) and
    wait until it consumes its queues."""
    args = (queues, concurrency, include, env, name)
    (proc,) = launch_workers(settings, workdir, client, *args)
    return proc


def launch_workers(
    settings: Settings,
    workdir: Path,
    client: redis.Redis,
    queues: str = "files,orders",
    concurrency: int = 1,
    include: list[str] | None = None,
    env: dict[str, str] | None = None,
    name: str | None = None,
    count: int = 1,
) -> list[Proc]:
    """Start `count` real Celery worker processes (named `name`@host, each a name of its own by
    default) and wait until each consumes its queues. They start side by side: a worker takes
    seconds to start on a loaded box."""
    procs: list[Proc] = []
    try:
        for _ in range(count):
            own = name or f"w-{secrets.token_hex(3)}"
            argv = worker_argv(queues, concurrency, include or [], own)
            procs.append(spawn(own, argv, process_env(settings, env), workdir))
        for proc in procs:
            await_consuming(proc, client, queues)
    except BaseException:
        for proc in procs:
            proc.kill()
        raise
    return procs


def await_consuming(proc: Proc, client: redis.Redis, queues: str) -> None:
    """Wait until worker `proc` (spawned under its name) reports consuming `queues`."""
    wanted = set(queues.split(","))

    def consuming() -> bool:
        entries = client.hgetall(WORKERS_KEY)
        # Its own entry: an earlier worker of the same name (killed) may have left one.
        own = f"#{proc.popen.pid}"
        mine = {
            k: v for k, v in entries.items() if k.startswith(proc.name + "@") and k.endswith(own)
        }
        return wanted <= live_queues(mine, time.time(), 5.0)

    wait_for(consuming, 60, f"worker {proc.name} to consume {queues}", proc)


def launch_api(
    settings: Settings, workdir: Path, env: dict[str, str] | None = None, processes: int = 1
) -> tuple[Proc, str]:
    """Start a real uvicorn api process on a free port; returns (proc, base_url)."""
    port = free_port()
    env_ = process_env(settings, env)
    frame_limit = env_.get("JOBCAST_WS_MAX_FRAME_BYTES", str(settings.ws_max_frame_bytes))
    argv = api_argv(port, processes, int(frame_limit))
    proc = spawn(f"api-{port}", argv, env_, workdir)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_ok(f"{url}/healthz"), 30, f"api on {port}", proc)
    except BaseException:
        proc.kill()
        raise
    return proc, url


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
        name: str | None = None,
    ) -> Proc:
        s = settings_ or settings
        proc = launch_worker(s, tmp_path, redis_client, queues, concurrency, include, env, name)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()


StartWorkers = Callable[..., list[Proc]]


@pytest.fixture
def start_workers(
    settings: Settings, tmp_path: Path, redis_client: redis.Redis
) -> Iterator[StartWorkers]:
    """Factory: start `count` real Celery workers side by side and wait until each consumes its
    queues."""
    started: list[Proc] = []

    def start(
        count: int, queues: str = "files,orders", env: dict[str, str] | None = None
    ) -> list[Proc]:
        procs = launch_workers(settings, tmp_path, redis_client, queues, env=env, count=count)
        started.extend(procs)
        return procs

    yield start
    for proc in started:
        proc.kill()


StartApi = Callable[..., tuple[Proc, str]]


@pytest.fixture
def start_api(settings: Settings, tmp_path: Path) -> Iterator[StartApi]:
    """Factory: start a real uvicorn api process on a free port; returns (proc, base_url)."""
    started: list[Proc] = []

    def start(env: dict[str, str] | None = None, processes: int = 1) -> tuple[Proc, str]:
        proc, url = launch_api(settings, tmp_path, env, processes)
        started.append(proc)
        return proc, url

    yield start
    for proc in started:
        proc.kill()


@dataclass
class SharedStack:
    """Real processes shared by the tests of a module, on a database of their own. Each test
    makes its own principals, so ownership keeps the tests apart as it keeps users apart."""

    settings: Settings
    redis: redis.Redis
    workdir: Path
    url: str = ""
    api: Proc | None = None
    urls: list[str] = field(default_factory=list)
    procs: list[Proc] = field(default_factory=list)

    def new_key(self, name: str = "tester", admin: bool = False) -> tuple[str, str]:
        """(API key, principal id) of a new principal."""
        return new_principal(self.redis, self.settings, name, admin)


def module_stack(
    api_env: dict[str, str] | None = None,
    worker_queues: str | None = None,
    worker_env: dict[str, str] | None = None,
    apis: int = 1,
    workers: int = 1,
) -> Callable[..., Iterator[SharedStack]]:
    """A module-scoped fixture: `apis` api processes (and `workers` workers when `worker_queues`
    is given) for all of a module's tests. Tests that kill, restart or reconfigure processes
    keep private ones."""

    @pytest.fixture(scope="module")
    def stack(
        redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[SharedStack]:
        workdir = tmp_path_factory.mktemp("stack")
        settings = redis_server.settings_for(workdir, shared=True)
        client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
        built = SharedStack(settings, client, workdir)
        try:
            if worker_queues and workers:
                built.procs += launch_workers(
                    settings, workdir, client, worker_queues, env=worker_env, count=workers
                )
            for _ in range(apis):
                api, url = launch_api(settings, workdir, api_env)
                built.procs.append(api)
                built.urls.append(url)
            if apis:
                built.api, built.url = built.procs[-apis], built.urls[0]
            yield built
        finally:
            for proc in built.procs:
                proc.kill()
            client.close()
            redis_server.release(settings.broker_url)

    return stack
