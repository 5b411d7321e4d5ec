"""One real stack for all the client tests (a Redis database, a files worker, an api process),
shared to keep the suite fast, plus a key for their principal."""

from __future__ import annotations

import secrets
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from jobcast.embedded_redis import free_port
from jobcast.rediskeys import WORKERS_KEY
from jobcast.settings import Settings
from jobcast.worker_registry import live_queues
from tests.conftest import RedisServer, new_principal
from tests.support.processes import (
    Proc,
    api_argv,
    http_ok,
    process_env,
    spawn,
    wait_for,
    worker_argv,
)

#: Small batches and frequent progress, so a small file is a multi-batch job with many events.
WORKER_ENV = {"JOBCAST_JOB_PROGRESS_INTERVAL": "0.01", "JOBCAST_JOB_BATCH_BYTES": "65536"}
#: WebSockets per principal on the stack's api: few, so a test can take them all and see the
#: client cope without one (every test uses at most one at a time per principal).
WS_PER_PRINCIPAL = 3


@dataclass
class ClientStack:
    settings: Settings
    redis: redis.Redis
    workdir: Path
    port: int
    key: str
    principal_id: str
    api: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment for a user-side process: where the api is and the key."""
        return {
            "JOBCAST_URL": self.url,
            "JOBCAST_API_KEY": self.key,
            "JOBCAST_CONFIG": str(self.workdir / "client-config.json"),
            # Not a `jobcast up` a developer runs from the checkout (its var/api.url).
            "JOBCAST_DATA_DIR": str(self.workdir / "no-stack"),
        }

    def start_api(self) -> None:
        """(Re)start the api process on the stack's port and wait until it answers."""
        env = process_env(
            self.settings, {"JOBCAST_WS_MAX_CONNECTIONS_PER_PRINCIPAL": str(WS_PER_PRINCIPAL)}
        )
        self.api = spawn(f"api-{secrets.token_hex(2)}", api_argv(self.port), env, self.workdir)
        wait_for(lambda: http_ok(f"{self.url}/healthz"), 60, "the api", self.api)

    def crash_api(self) -> threading.Thread:
        """Kill the api now (as a crash would) and start it again in the background, so a
        client meets a refused connection or two before the api is back."""
        assert self.api is not None
        self.api.kill_group(signal.SIGKILL)
        self.api.popen.wait(timeout=10)
        thread = threading.Thread(target=self.start_api)
        thread.start()
        return thread

    def stop_api_for(self, seconds: float) -> threading.Thread:
        """Stop the api now and start it again on the same port `seconds` later, in the
        background: an outage longer than a client's request retries."""
        return self.stop_api_until(threading.Event(), seconds)

    def stop_api_until(self, back: threading.Event, at_most: float) -> threading.Thread:
        """Stop the api now and start it again on the same port, in the background, once `back`
        is set or `at_most` seconds passed: an outage as long as the test needs it, no longer."""
        assert self.api is not None
        self.api.stop()

        def start_later() -> None:
            back.wait(at_most)
            self.start_api()

        thread = threading.Thread(target=start_later)
        thread.start()
        return thread

    def new_key(self, name: str) -> tuple[str, str]:
        return new_principal(self.redis, self.settings, name)


def _start_worker(settings: Settings, workdir: Path, client: redis.Redis) -> Proc:
    name = f"wc-{secrets.token_hex(3)}"
    env = process_env(settings, WORKER_ENV)
    proc = spawn(name, worker_argv("files,orders", 1, [], name), env, workdir)

    def consuming() -> bool:
        entries = client.hgetall(WORKERS_KEY)
        mine = {k: v for k, v in entries.items() if k.startswith(name + "@")}
        return {"files", "orders"} <= live_queues(mine, time.time(), 5.0)

    wait_for(consuming, 60, f"worker {name}", proc)
    return proc


@pytest.fixture(scope="package")
def stack(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ClientStack]:
    workdir = tmp_path_factory.mktemp("client-stack")
    settings = redis_server.settings_for(workdir)
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    worker = _start_worker(settings, workdir, client)
    key, principal_id = new_principal(client, settings, "client")
    built = ClientStack(settings, client, workdir, free_port(), key, principal_id)
    try:
        built.start_api()
        yield built
    finally:
        if built.api is not None:
            built.api.stop()
        worker.stop()
        client.close()
