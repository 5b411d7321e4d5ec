"""One real stack (Redis, a files worker, an orders worker, the api) and one headless Chromium,
shared by the browser tests of a module: starting them is most of these tests' cost."""

from __future__ import annotations

import secrets
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
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
    stop_together,
    wait_for,
    worker_argv,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
INSTALL_HINT = "Chromium is not installed: apt-get install -y chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Small batches and frequent progress: a few MB take long enough to watch, pause and cancel.
FILES_ENV = {"JOBCAST_JOB_BATCH_BYTES": "65536", "JOBCAST_JOB_PROGRESS_INTERVAL": "0.01"}


@dataclass
class WebStack:
    """The processes behind one browser test module, and how to reach and disturb them."""

    settings: Settings
    workdir: Path
    port: int
    redis: redis.Redis
    api: Proc
    files_worker: Proc
    procs: list[Proc] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    #: Settings the api gets beyond `settings` (JOBCAST_* variables), e.g. a non-default limit.
    api_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def new_key(self, name: str) -> str:
        raw, _ = new_principal(self.redis, self.settings, name)
        self.keys.append(raw)
        return raw

    def rest(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=10
        )

    def pause_files_worker(self) -> None:
        self.files_worker.kill_group(signal.SIGSTOP)

    def resume_files_worker(self) -> None:
        self.files_worker.kill_group(signal.SIGCONT)

    def start_api(self) -> None:
        argv, env = api_argv(self.port), process_env(self.settings, self.api_env)
        self.api = spawn(f"api-{secrets.token_hex(2)}", argv, env, self.workdir)
        self.procs.append(self.api)
        wait_for(lambda: http_ok(f"{self.url}/healthz"), 30, "the api", self.api)

    def restart_api(self) -> None:
        self.api.stop()
        self.start_api()


def _spawn_worker(stack: WebStack, queues: str, env: dict[str, str] | None = None) -> Proc:
    name = f"web-{queues}-{secrets.token_hex(3)}"
    argv = worker_argv(queues, 1, [], name)
    proc = spawn(name, argv, process_env(stack.settings, env), stack.workdir)
    stack.procs.append(proc)
    return proc


def _wait_consuming(stack: WebStack, proc: Proc, queues: str) -> None:
    def consuming() -> bool:
        entries = stack.redis.hgetall(WORKERS_KEY)
        mine = {k: v for k, v in entries.items() if k.startswith(proc.name + "@")}
        return queues in live_queues(mine, time.time(), 5.0)

    wait_for(consuming, 60, f"worker {proc.name}", proc)


def _stop_all(procs: list[Proc]) -> None:
    for proc in procs:
        proc.kill_group(signal.SIGCONT)  # a paused worker cannot act on SIGTERM
    stop_together(*procs)


@contextmanager
def started_stack(
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
    api_env: dict[str, str] | None = None,
    workers: bool = True,
) -> Iterator[WebStack]:
    """A stack for one module: the api (with `api_env`), and the two workers unless a module's
    pages need none (the chat), which saves their start."""
    if CHROMIUM is None:
        pytest.skip(INSTALL_HINT)
    workdir = tmp_path_factory.mktemp("web")
    settings = redis_server.settings_for(workdir)
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    placeholder = Proc("none", None, workdir / "none.log")  # type: ignore[arg-type]
    stack = WebStack(settings, workdir, free_port(), client, placeholder, placeholder)
    stack.api_env = dict(api_env or {})  # a test may change it (an api restarted anew)
    try:
        if not workers:
            stack.start_api()
            yield stack
            return
        # Started together, waited for together: the three boot in parallel.
        stack.files_worker = _spawn_worker(stack, "files", FILES_ENV)
        orders_worker = _spawn_worker(stack, "orders")
        stack.start_api()
        _wait_consuming(stack, stack.files_worker, "files")
        _wait_consuming(stack, orders_worker, "orders")
        yield stack
    finally:
        _stop_all(stack.procs)
        client.close()


@pytest.fixture(scope="module")
def web_stack(
    request: pytest.FixtureRequest,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WebStack]:
    """The module's stack. A module whose pages need no worker sets `STACK_WORKERS = False`
    (their start is saved), and one that needs other settings sets `STACK_API_ENV`."""
    workers = getattr(request.module, "STACK_WORKERS", True)
    api_env = getattr(request.module, "STACK_API_ENV", None)
    with started_stack(redis_server, tmp_path_factory, api_env, workers=workers) as stack:
        yield stack


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Traffic:
    """Every URL the pages asked for (HTTP and WebSocket), to check where requests went."""

    urls: list[str] = field(default_factory=list)
    #: Uncaught exceptions in the pages and Content-Security-Policy violations.
    errors: list[str] = field(default_factory=list)

    def console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.errors.append(message.text)


@pytest.fixture(scope="module")
def traffic() -> Traffic:
    return Traffic()


NewPage = Callable[..., Any]


@pytest.fixture
def new_page(browser: Any, web_stack: WebStack, traffic: Traffic) -> Iterator[NewPage]:
    """Factory: a signed-in page in a fresh browser context (its own sessionStorage), opened at
    `at` (e.g. "/#/jobs/<id>": a link followed in a new tab, signed in there)."""
    contexts: list[Any] = []

    def make(key: str, width: int = 1280, height: int = 900, at: str = "/") -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("request", lambda request: traffic.urls.append(request.url))
        page.on("websocket", lambda ws: traffic.urls.append(ws.url))
        page.on("console", traffic.console)
        page.on("pageerror", lambda error: traffic.errors.append(str(error)))
        page.goto(web_stack.url + at)
        page.fill("#key", key)
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#conn[data-state=live]")
        return page

    yield make
    for context in contexts:
        context.close()
