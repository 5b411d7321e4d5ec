"""`jobcast up`: Redis (embedded unless a URL is given), Celery workers, Flower and the API."""

from __future__ import annotations

import contextlib
import hashlib
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

import httpx
import redis

from celeryconfig import FILES_QUEUE, ORDERS_QUEUE
from jobcast import cluster_key_secret, redis_durability, shared_storage
from jobcast.client.config import api_url_file, reachable_url
from jobcast.dev_secrets import ensure_dev_key, load_dev_secrets, secrets_to_generate
from jobcast.embedded_redis import EmbeddedRedis, port_again, remember_port
from jobcast.embedded_sentinel import SentinelGroup
from jobcast.filemodes import keep_new_files_private, make_private_dir
from jobcast.flower_state import flower_state_db
from jobcast.launch_checks import LaunchError, data_dir_held, require_free_ports, require_unheld
from jobcast.logs import UVICORN_JSON_LOGGING
from jobcast.redis_clients import configured_redis, sync_client
from jobcast.redis_credentials import (
    EXIT_CREDENTIALS_REFUSED,
    CredentialsRefusedError,
    require_accepted_credentials,
)
from jobcast.rediskeys import WORKERS_KEY
from jobcast.settings import InsecureSettingsError, Settings
from jobcast.stack_files import redis_sentinels_file, redis_url_file
from jobcast.supervisor import Child, ChildDiedError, Supervisor, how_it_ended
from jobcast.worker_registry import live_queues

ReadyCheck = Callable[[], bool]

#: Seconds each part may take to become ready.
READY_TIMEOUT_SECONDS = 60.0
#: Seconds an api process lets running requests finish once told to stop; then it cuts them and
#: shuts down (its lifespan: about a second), well inside the supervisor's STOP_GRACE_SECONDS.
API_SHUTDOWN_GRACE_SECONDS = 3
#: Starts of the embedded Redis servers, each on ports free at the time (`_start_redis_servers`).
PORT_ATTEMPTS = 3


@dataclass(frozen=True)
class UpOptions:
    workers: int = 1
    api_processes: int = 1
    demo: bool = False
    #: Run Redis as a Sentinel group (primary, replica, three sentinels) instead of one server.
    ha: bool = False


def child_env(settings: Settings) -> dict[str, str]:
    """Environment that hands the launcher's resolved settings to every child."""
    env = {
        "JOBCAST_DEV": "1" if settings.dev else "0",
        "JOBCAST_DATA_DIR": str(settings.data_dir.resolve()),
        "JOBCAST_LOG_JSON": "1" if settings.log_json else "0",
        "JOBCAST_LOG_LEVEL": settings.log_level,
        "PYTHONUNBUFFERED": "1",
    }
    if settings.sentinels:
        env["JOBCAST_REDIS_SENTINELS"] = settings.redis_sentinels
        env["JOBCAST_REDIS_SENTINEL_MASTER"] = settings.redis_sentinel_master
    else:
        env["JOBCAST_REDIS_URL"] = settings.broker_url
    for name in ("flower_password", "key_secret", "redis_password", "redis_sentinel_password"):
        value = getattr(settings, name)
        if value is not None:
            env[f"JOBCAST_{name.upper()}"] = value.get_secret_value()
    return env


def _http_answers(url: str, statuses: set[int]) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code in statuses
    except httpx.HTTPError:
        return False


def _queue_consumed(client: redis.Redis, queue: str, settings: Settings) -> bool:
    try:
        entries = client.hgetall(WORKERS_KEY)
    except redis.RedisError:
        return False
    max_age = settings.worker_heartbeat_interval * 3
    return queue in live_queues(entries, time.time(), max_age)  # type: ignore[arg-type]


class Stack:
    """The processes of one `jobcast up`, in start order."""

    def __init__(self, settings: Settings, options: UpOptions) -> None:
        self.settings, self.options = settings, options
        #: Named by where Redis is before the embedded one, if any, sets its URL.
        self.flower_db = flower_state_db(settings, options.ha)
        self.supervisor = Supervisor(on_restart=_said_restarted, on_lost=_said_lost)
        self.logs = settings.data_dir / "log"
        self.dev_api_key: str | None = None
        #: The secrets this run generated (dev mode), which the banner may show: one the
        #: operator set would land in journald or a log collector with the banner.
        self.generated_secrets: frozenset[str] = frozenset()

    def start_redis(self) -> Settings:
        """Start the embedded Redis unless a URL is configured; return settings that point at it."""
        if self.settings.redis_url or self.settings.sentinels:
            return self.settings  # `run` made sure it answers
        if self.options.ha:
            return self.start_sentinel_group()
        data_dir = self.settings.data_dir / "redis"
        servers: list[EmbeddedRedis] = []

        def build() -> list[Child]:
            server = EmbeddedRedis(
                # The setting's port, else the one this data dir's Redis had the last time if free.
                port=self.settings.redis_port or port_again(data_dir, self._own_ports()),
                password=self._redis_password(),
                data_dir=data_dir,
                maxmemory=self.settings.redis_maxmemory,
            )
            servers[:] = [server]
            ping = _redis_pinger(self.settings.replace(redis_url=server.url))
            child = Child("redis", server.command(), self.logs / "redis.log", ping)
            child.listens_on = (server.host, server.port)
            return [child]

        make_private_dir(self.settings.data_dir)
        make_private_dir(data_dir)
        self._start_redis_servers(build, chosen=self.settings.redis_port != 0)
        (server,) = servers
        url_file = redis_url_file(self.settings)
        url_file.write_text(server.url)
        url_file.chmod(0o600)
        remember_port(server.data_dir, server.port)
        return self.settings.replace(redis_url=server.url)

    def start_sentinel_group(self) -> Settings:
        """`--ha`: a primary, a replica and three sentinels; the stack outlives the death of
        any of them (Sentinel fails over) and says what follows it."""
        password = self._redis_password()
        groups: list[SentinelGroup] = []

        def build() -> list[Child]:
            group = SentinelGroup.create(
                password,
                self.settings.data_dir / "redis",
                self.settings.redis_sentinel_master,
                maxmemory=self.settings.redis_maxmemory,
                down_after_ms=self.settings.redis_ha_down_after_ms,
                taken=self._own_ports(),
            )
            groups[:] = [group]
            after, ports = group.when_lost(), group.ports()
            children = [
                Child(
                    name,
                    argv,
                    self.logs / f"{name}.log",
                    group.ready,
                    essential=False,
                    when_lost=after[name],
                    listens_on=(group.primary.host, ports[name]),
                )
                for name, argv in group.commands().items()
            ]
            group.remember_ports()
            return children

        make_private_dir(self.settings.data_dir)
        make_private_dir(self.settings.data_dir / "redis")
        self._start_redis_servers(build, chosen=False)
        (group,) = groups
        sentinels_file = redis_sentinels_file(self.settings)
        sentinels_file.write_text(group.addresses)
        sentinels_file.chmod(0o600)
        return self.settings.replace(
            redis_sentinels=group.addresses, redis_sentinel_password=password
        )

    def _start_redis_servers(self, build: Callable[[], list[Child]], chosen: bool) -> None:
        """Start the Redis servers `build` makes. One whose port another program took between
        the launcher's look and its bind (a connection's ephemeral port, say: the free ports
        and those come from the same range) made the whole start fail; unless the user
        `chosen` the port, the servers are made again on ports free now, up to PORT_ATTEMPTS
        times."""
        for attempt in range(1, PORT_ATTEMPTS + 1):
            children = build()
            try:
                self.supervisor.start(children, READY_TIMEOUT_SECONDS)
                return
            except ChildDiedError as died:
                host, port = died.child.listens_on or ("", 0)
                if chosen or attempt == PORT_ATTEMPTS or not died.child.port_taken():
                    raise
                self.supervisor.discard(children)
                _say(
                    f"jobcast: another program took {host}:{port} as {died.child.name} started "
                    "on it; starting Redis on another port."
                )

    def _redis_password(self) -> str:
        password = self.settings.redis_password
        if password is None:
            raise InsecureSettingsError("JOBCAST_REDIS_PASSWORD is not set for the embedded Redis.")
        return password.get_secret_value()

    def _own_ports(self) -> tuple[int, int]:
        """The api's and Flower's ports, which an embedded Redis choosing a port must not take:
        free until those start, a remembered or OS-picked port could be one of them, and the
        api then failed as if another program held its port."""
        return (self.settings.api_port, self.settings.flower_port)

    def listening_ports(self) -> dict[str, tuple[str, int]]:
        """The fixed ports this stack will listen on, by name: the API's, Flower's, and the
        embedded Redis's when one is set (else Redis takes a free one)."""
        s = self.settings
        ports = {"api": (s.api_host, s.api_port), "flower": (s.flower_host, s.flower_port)}
        embedded = not (s.redis_url or s.sentinels or self.options.ha)
        if embedded and s.redis_port:
            ports["redis"] = ("127.0.0.1", s.redis_port)
        return ports

    def start_all(self) -> None:
        self.settings = self.start_redis()
        env = child_env(self.settings)
        client = sync_client(self.settings)
        shared_storage.check(client, self.settings.data_dir)  # another stack's Redis, say
        # Before the dev key is made with it, and before any api is started with it.
        cluster_key_secret.check(client, self.settings.secret("key_secret"))
        if self.settings.dev:
            self.dev_api_key = ensure_dev_key(self.settings, client)
        workers = [
            self._child(
                f"worker-{queue}",
                self._worker_argv(queue),
                env,
                _bind_queue_check(client, queue, self.settings),
            )
            for queue in (FILES_QUEUE, ORDERS_QUEUE)
        ]
        # Three stages, each ready before the next starts. Flower asks the workers for their
        # queues, stats and tasks once, as it starts, and serves that answer (`/api/workers`,
        # its Broker page's queue names) until refreshed by hand: started with them, it asked
        # before they listened and listed no worker. And it sees a task only through the
        # events sent once it listens: started after the api, it missed every job a client
        # sent as soon as /readyz said ready. So the api (and the demo's orders) come last.
        flower = self._child(
            "flower",
            self._flower_argv(),
            {**env, **self._flower_env()},
            lambda: _http_answers(self.flower_url, {401}),
        )
        last = [
            self._child(
                "api",
                self._api_argv(),
                env,
                lambda: _http_answers(f"{self.api_url}/healthz", {200}),
            )
        ]
        if self.options.demo:  # a market maker that keeps a few order books trading
            demo_argv = [sys.executable, "-m", "workers.orders.demo"]
            last.append(self._child("demo", demo_argv, env, lambda: True))
        for stage in (workers, [flower], last):
            self.supervisor.start(stage, READY_TIMEOUT_SECONDS)
            if self.supervisor.stopping.is_set():
                return

    def _child(self, name: str, argv: list[str], env: dict[str, str], ready: ReadyCheck) -> Child:
        # Started again if it dies: Redis, whose death ends the stack, is not made here.
        child = Child(name, argv, self.logs / f"{name}.log", ready, env, restart=True)
        child.listens_on = self.listening_ports().get(name)  # the api's, Flower's
        return child

    def _worker_argv(self, queue: str) -> list[str]:
        # As the README's scale-out command: prefetch and events come from celeryconfig.
        # `python -m workers`, not `-m celery -A workers.app worker`: the same worker, without
        # loading the `celery` command's plugins (workers/start.py).
        # Laid out by hand: each flag beside its value, as on a command line.
        return [
            sys.executable, "-m", "workers",
            "-Q", queue, "-n", f"{queue}.{_stack_tag(self.settings)}@%h",
            "--concurrency", str(self.options.workers), "--loglevel", self.settings.log_level,
            # Neither is used (no revokes, no elections): mingle held each start ~1 s asking the
            # others, and gossip logged "missed heartbeat from …" whenever another stopped.
            # Flower's events and remote control do not go through them.
            "--without-gossip", "--without-mingle",
        ]  # fmt: skip

    def _flower_argv(self) -> list[str]:
        s = self.settings
        # Flower keeps what it saw in memory only; persistent mode saves it (every minute and
        # at exit) under the data dir, so a restarted stack still shows the tasks already run.
        db = self.flower_db
        make_private_dir(db.parent)
        # Laid out by hand: each flag beside its value, as on a command line.
        return [
            sys.executable, "-m", "celery", "-A", "workers.flower_app", "flower",
            f"--address={s.flower_host}", f"--port={s.flower_port}",
            "--persistent=True", f"--db={db}", "--state_save_interval=60000",
        ]  # fmt: skip

    def _flower_env(self) -> dict[str, str]:
        # Passed in the environment, not argv, so the password does not show in `ps`.
        user, password = self.settings.flower_user, self.settings.secret("flower_password")
        return {"FLOWER_BASIC_AUTH": f"{user}:{password}", "FLOWER_UNAUTHENTICATED_API": "false"}

    def _api_argv(self) -> list[str]:
        s = self.settings
        # Laid out by hand: each flag beside its value, as on a command line.
        return [
            sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app",
            "--host", s.api_host, "--port", str(s.api_port),
            "--workers", str(self.options.api_processes), "--no-server-header",
            "--no-proxy-headers", "--ws-per-message-deflate", "false",
            "--no-access-log",  # the api logs one access line per request itself
            # Closes a connection whose headers come too slowly, or one over its address's cap.
            "--http", "api.http_protocol:GuardedHttpProtocol",
            # uvicorn refuses a bigger frame from its header, before buffering it.
            "--ws-max-size", str(s.ws_max_frame_bytes),
            # A request still running this long after SIGTERM is cut (a 503 saying so), so no
            # client (a stalled upload) holds the stop past the supervisor's grace.
            "--timeout-graceful-shutdown", str(API_SHUTDOWN_GRACE_SECONDS),
            *self._supervisor_logging(),
        ]  # fmt: skip

    def _supervisor_logging(self) -> list[str]:
        """uvicorn's logging for its supervising process of several api processes, which never
        loads the app (whose `configure_logging` sets up each of the others)."""
        if self.options.api_processes == 1:
            return []
        s = self.settings
        config = ["--log-config", str(UVICORN_JSON_LOGGING)] if s.log_json else []
        return ["--log-level", s.log_level.lower(), *config]

    # Where to reach them from this host (the banner, the readiness checks): a wildcard bind
    # address (`0.0.0.0`) is no address to open in a browser.
    @property
    def api_url(self) -> str:
        return reachable_url(self.settings.api_host, self.settings.api_port)

    @property
    def flower_url(self) -> str:
        return reachable_url(self.settings.flower_host, self.settings.flower_port)


def _redis_pinger(settings: Settings) -> ReadyCheck:
    # A read timeout too: a port another program took (one that never speaks Redis) held the
    # start in this ping for ever.
    client = sync_client(settings, timeout=1.0, connect_timeout=0.5, decode=False)

    def ping() -> bool:
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False

    return ping


def _bind_queue_check(client: redis.Redis, queue: str, settings: Settings) -> ReadyCheck:
    return lambda: _queue_consumed(client, queue, settings)


def _stack_tag(settings: Settings) -> str:
    """The same for every run of one stack (its data dir), different for another stack on this
    host: Flower (persistent) shows a restarted stack's workers as the ones it knew, online
    again, where a new random name each run left it listing every earlier one as offline."""
    where = str(settings.data_dir.resolve()).encode()
    return hashlib.sha256(where).hexdigest()[:6]


def _install_stop_handlers(supervisor: Supervisor) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        supervisor.stopping.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    # The terminal closed: stop in order, as for Ctrl-C (by default the launcher died at once
    # and every child got its parent-death SIGTERM together).
    signal.signal(signal.SIGHUP, handler)


#: What a storage refusal means for `jobcast up`: the same message as a process's, and this.
SECOND_STACK = (
    "A second stack on this machine needs a Redis of its own too: unset JOBCAST_REDIS_URL (the "
    "embedded one) or point it at another."
)


def _require_shared_storage(settings: Settings) -> None:
    """LaunchError when a configured Redis is another stack's (its storage is not this data
    dir): looked at before anything is written, so the refused start leaves no file behind.
    An unreachable Redis is left to `_require_answering`, which says so."""
    if not (settings.redis_url or settings.sentinels):
        return  # the embedded Redis is this stack's own
    client = sync_client(settings, timeout=5, connect_timeout=5)
    try:
        refused = shared_storage.refusal(client, settings.data_dir)
    except (redis.RedisError, OSError):
        return
    finally:
        client.close()
    if refused is not None:
        raise LaunchError(f"{refused} {SECOND_STACK}")


def _require_keeping_redis(settings: Settings) -> None:
    """LaunchError when a configured Redis evicts keys (`jobcast.redis_durability`), and its
    warnings on stderr, looked at before anything is written. The embedded Redis is configured
    here, with noeviction; an unreachable one is left to `_require_answering`."""
    if not (settings.redis_url or settings.sentinels):
        return
    client = sync_client(settings, timeout=5, connect_timeout=5)
    try:
        found = redis_durability.read(client)
        warnings = redis_durability.required(found, settings.redis_eviction_accepted)
    except (redis.RedisError, OSError):
        return
    except redis_durability.EvictionPolicyError as exc:
        raise LaunchError(str(exc)) from None
    finally:
        client.close()
    for warning in warnings:
        print(f"jobcast warning: {warning}", file=sys.stderr)


def _require_answering(settings: Settings) -> None:
    """LaunchError, saying which Redis and what to do, when the configured one does not answer
    (every child would otherwise fail with a connection traceback of its own), and
    CredentialsRefusedError when it refuses its password (every child would wait on it for
    ever). Looked at before anything starts: nothing is stopped after the refusal. The embedded
    Redis is started by the stack, with its password."""
    unreachable = require_accepted_credentials(settings, timeout=5)
    if unreachable is not None:
        reason = str(unreachable).rstrip(".")
        raise LaunchError(
            f"cannot reach the Redis at {configured_redis(settings)}: {reason}. Start it, fix "
            "the address, or unset JOBCAST_REDIS_URL for the embedded one."
        )


def run(stack: Stack, announce: Callable[[Stack], None]) -> int:
    """Start the stack, announce it, run until stopped or a child dies. Returns the exit code.
    In dev mode, the secrets it lacks come from (or are generated into) the data dir."""
    keep_new_files_private()  # every child inherits it: the AOF, logs, uploads, results
    try:
        # Looked at before anything is written: a refused start leaves no file behind (the
        # data dir, its lock, dev-secrets.json), and an earlier run's files are not touched.
        require_unheld(stack.settings.data_dir)
        require_free_ports(stack.listening_ports())
        _require_answering(stack.settings)
        _require_keeping_redis(stack.settings)
        _require_shared_storage(stack.settings)
        with data_dir_held(stack.settings.data_dir):
            stack.generated_secrets = secrets_to_generate(stack.settings)
            stack.settings = load_dev_secrets(stack.settings)
            return _run_held(stack, announce)
    except LaunchError as exc:
        print(f"jobcast error: {exc}", file=sys.stderr)
        return 1
    except CredentialsRefusedError as exc:
        print(f"jobcast error: {exc}", file=sys.stderr)
        return EXIT_CREDENTIALS_REFUSED


def _run_held(stack: Stack, announce: Callable[[Stack], None]) -> int:
    _install_stop_handlers(stack.supervisor)
    try:
        stack.start_all()
        if stack.supervisor.stopping.is_set():
            return 0
        # For the user commands run from here (`jobcast login`, `Client()` without an address).
        api_url_file(stack.settings.data_dir).write_text(stack.api_url)
        announce(stack)
        stack.supervisor.watch()
        _say("Stopping every process…")
        return 0
    except ChildDiedError as died:
        print(f"jobcast error: {died}", file=sys.stderr)
        return 1
    except shared_storage.StorageMismatchError as exc:  # two stacks starting at once, say
        print(f"jobcast error: {exc} {SECOND_STACK}", file=sys.stderr)
        return 1
    except (TimeoutError, InsecureSettingsError, cluster_key_secret.KeySecretMismatchError) as exc:
        print(f"jobcast error: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.supervisor.stop_all()
        redis_url_file(stack.settings).unlink(missing_ok=True)
        redis_sentinels_file(stack.settings).unlink(missing_ok=True)
        api_url_file(stack.settings.data_dir).unlink(missing_ok=True)
        _say("Stopped.")


def _said_restarted(child: Child, code: int | None) -> None:
    ended = how_it_ended(code)
    _say(f"jobcast: {child.name} {ended}; started again (its log: {child.log}).")


def _said_lost(child: Child, code: int | None) -> None:
    ended = how_it_ended(code)
    _say(f"jobcast: {child.name} {ended}; {child.when_lost} (its log: {child.log}).")


def _say(line: str) -> None:
    # After Ctrl-C the reader of our output (a pipe to `tee`, say) may be gone already.
    with contextlib.suppress(OSError):
        print(line, flush=True)
