"""One real stack (Redis, a files worker, an orders worker, the api) and one headless Chromium,
shared by the browser tests of a module, and by the next modules a pytest process runs while
they need the same: starting them is most of these tests' cost."""

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
from tests.support.api_client import api_client
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
#: What every module whose pages need no worker runs its api with, so that they agree and share
#: one stack: a chat limit other than the default (2,000), which test_chat_limit checks the page
#: takes from its server; no other of them sends a message near either.
NO_WORKERS_API_ENV = {"JOBCAST_CHAT_MAX_MESSAGE_BYTES": "500"}
#: And every module with workers: an orders burst test_market_orders' 2,100 filler orders fit in
#: (the default, 500, makes them wait half a minute for budget); no other of them tests the limit.
WORKERS_API_ENV = {"JOBCAST_RATE_ORDERS_BURST": "2200"}
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
    #: The `api_env` the running api was started with: a test may start it with other settings.
    started_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def new_key(self, name: str) -> str:
        raw, _ = new_principal(self.redis, self.settings, name)
        self.keys.append(raw)
        return raw

    def rest(self, key: str) -> httpx.Client:
        return api_client(self.url, key)

    def pause_files_worker(self) -> None:
        self.files_worker.kill_group(signal.SIGSTOP)

    def resume_files_worker(self) -> None:
        self.files_worker.kill_group(signal.SIGCONT)

    def start_api(self) -> None:
        argv, env = api_argv(self.port), process_env(self.settings, self.api_env)
        self.api = spawn(f"api-{secrets.token_hex(2)}", argv, env, self.workdir)
        self.started_env = dict(self.api_env)
        self.procs.append(self.api)
        wait_for(lambda: http_ok(f"{self.url}/healthz"), 30, "the api", self.api)

    def running(self) -> bool:
        """Every process alive and the api answering: no module left it down."""
        workers = [proc for proc in self.procs if proc.name.startswith("web-")]
        alive = all(proc.popen.poll() is None for proc in [self.api, *workers])
        return alive and http_ok(f"{self.url}/healthz")

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
    settings = redis_server.settings_for(workdir, shared=True)  # kept while modules reuse it
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
        redis_server.release(settings.broker_url)


@dataclass
class Kept:
    """The stack and browser kept from one web module to the next while the modules run back to
    back: a module whose needs match reuses them. They are closed before any other test runs:
    Playwright's sync API marks its event loop as running on this thread, which an asyncio test
    elsewhere would trip on."""

    stack: WebStack | None = None
    stack_needs: tuple[bool, tuple[tuple[str, str], ...]] = (False, ())
    stack_closer: Any = None
    playwright: Any = None
    browser: Any = None

    def reusable(self, workers: bool, api_env: dict[str, str]) -> WebStack | None:
        """The kept stack if it has workers exactly when asked for and exactly the settings
        asked for. A module without workers may count on none running: test_result_tables
        finishes its jobs by hand, and a kept stack's worker ran them first."""
        has_workers, env = self.stack_needs
        if self.stack is None or env != tuple(sorted(api_env.items())):
            return None
        if workers != has_workers or not self.stack.running():
            return None
        return self.stack

    def keep_stack(self, closer: Any, workers: bool, api_env: dict[str, str]) -> WebStack:
        self.close_stack()
        stack = closer.__enter__()
        self.stack, self.stack_closer = stack, closer
        self.stack_needs = (workers, tuple(sorted(api_env.items())))
        return stack

    def close_stack(self) -> None:
        closer, self.stack, self.stack_closer = self.stack_closer, None, None
        if closer is not None:
            closer.__exit__(None, None, None)

    def launch_browser(self) -> Any:
        if self.browser is None:
            from playwright.sync_api import sync_playwright

            self.playwright = sync_playwright().start()
            chromium = self.playwright.chromium
            self.browser = chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        return self.browser

    def close_browser(self) -> None:
        browser, playwright, self.browser, self.playwright = (
            self.browser,
            self.playwright,
            None,
            None,
        )
        if browser is not None:
            browser.close()
        if playwright is not None:
            playwright.stop()

    def close(self) -> None:
        try:
            self.close_browser()
        finally:
            self.close_stack()


KEPT = Kept()
WEB_DIR = Path(__file__).parent


@pytest.hookimpl(trylast=True)  # after the test's own fixtures (its pages) are torn down
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After a web module's last test, unless a web module follows, the kept stack and browser
    are closed (xdist hands a process its next test before this runs, so it is known here)."""
    if nextitem is None or WEB_DIR not in Path(nextitem.path).parents:
        KEPT.close()


@pytest.fixture(scope="session", autouse=True)
def _close_kept() -> Iterator[None]:
    yield
    KEPT.close()


@pytest.fixture(scope="module")
def web_stack(
    request: pytest.FixtureRequest,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> WebStack:
    """The module's stack. A module whose pages need no worker sets `STACK_WORKERS = False`
    (their start is saved, and none runs; its api gets `NO_WORKERS_API_ENV`, else
    `WORKERS_API_ENV`), and one that needs other settings sets `STACK_API_ENV`."""
    workers = getattr(request.module, "STACK_WORKERS", True)
    api_env = dict(WORKERS_API_ENV if workers else NO_WORKERS_API_ENV)
    api_env.update(getattr(request.module, "STACK_API_ENV", None) or {})
    stack = KEPT.reusable(workers, api_env)
    if stack is not None:
        stack.api_env = dict(api_env)
        return stack
    closer = started_stack(redis_server, tmp_path_factory, api_env, workers=workers)
    return KEPT.keep_stack(closer, workers, api_env)


@pytest.fixture(autouse=True)
def _api_as_asked(request: pytest.FixtureRequest) -> None:
    """A test that restarted the api with other settings may leave it so, its `api_env` set back:
    the next test that uses the stack, of its module or of the next one reusing the stack, gets
    the api restarted as asked (an api start, not a new stack's)."""
    if "web_stack" not in request.fixturenames:
        return
    stack: WebStack = request.getfixturevalue("web_stack")
    if stack.started_env != stack.api_env:
        stack.restart_api()


@pytest.fixture(scope="module")
def browser() -> Any:
    if CHROMIUM is None:
        pytest.skip(INSTALL_HINT)
    return KEPT.launch_browser()


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


def ticket_module(page: Any) -> str:
    """The address of the page's ticket.js, for a test importing its functions in the page."""
    src: str = page.locator("script[type=module]").get_attribute("src")
    return src.replace("main.js", "ticket.js")


def aggregate_form(page: Any, table: Path) -> None:
    """The new-job form set to aggregate, with `table` chosen: its columns are then offered."""
    page.click("form.new-job label:has-text('aggregate')")
    page.set_input_files("#file", str(table))


def open_book(page: Any, symbol: str) -> None:
    """The Market page on `symbol`, its book shown."""
    page.click("nav a[data-page=market]")
    page.select_option("#symbol", symbol)
    page.wait_for_selector(".ladder .spread")
