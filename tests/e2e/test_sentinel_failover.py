"""Redis behind Sentinel (a primary, a replica and three sentinels from the embedded binary): the
primary is SIGKILLed while jobs and orders flow, the replica is promoted, and the stack goes on.

What the README promises is what is checked: replication is asynchronous, so a write the
primary acknowledged in its last moment may be gone. Every job confirmed well before the kill
(a second, far beyond the replication lag on one machine) and every job accepted after it ends
exactly once; a job confirmed in that last second either does too or is unknown; orders resting
from before the kill and orders placed after it match; a WebSocket client resumes with `since`.
"""

from __future__ import annotations

import io
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import redis

from jobcast.client import Client
from jobcast.client.errors import JobcastError, NotFoundError
from jobcast.events import read_since
from jobcast.kept_uploads import entry
from jobcast.keys import create_key
from jobcast.orders.symbols import DEFAULT_SYMBOLS
from jobcast.redis_clients import sync_client
from jobcast.rediskeys import KEPT_UPLOADS_KEY, job_key
from jobcast.settings import Settings
from jobcast.storage_paths import upload_path
from tests.conftest import StartApi, StartWorker
from tests.realtime.wsclient import Message, authed, is_event, recv, recv_until, subscribe
from tests.support.processes import started_together, wait_for
from tests.support.sentinel import RunningGroup, sentinel_group
from tests.workers.orders.support import ORDER_ENV, Trader, new_trader

T = TypeVar("T")

TERMINAL = ("job.succeeded", "job.failed", "job.cancelled")
#: Seconds before the kill after which an acknowledged write may not have reached the replica.
REPLICATION_MARGIN = 1.0
#: Seconds between two submits: a steady load one `files` worker keeps up with.
SUBMIT_EVERY = 1.0
#: Megabytes written while the replica is stopped, so that nothing after them reaches it.
BALLAST_MB = 64
#: A fast reconciler, so a job whose Celery message died with the primary is resent quickly.
ENV = {
    **ORDER_ENV,
    "JOBCAST_JOB_PROGRESS_INTERVAL": "0.05",
    "JOBCAST_RECONCILE_INTERVAL": "1",
    "JOBCAST_RECONCILE_AFTER": "4",
}


@pytest.fixture
def group(tmp_path: Path) -> Iterator[RunningGroup]:
    # The sentinels find each other while the api and workers start: `kill_primary` waits.
    with sentinel_group(tmp_path, wait_ready=False) as running:
        yield running


@pytest.fixture
def settings(group: RunningGroup, tmp_path: Path) -> Settings:
    return group.settings(tmp_path / "data")


@pytest.fixture
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    client = sync_client(settings, timeout=5, connect_timeout=1)
    yield client
    client.close()


def retrying(
    call: Callable[[], T],
    timeout: float = 30,
    exceptions: tuple[type[BaseException], ...] = (redis.RedisError, JobcastError, OSError),
) -> T:
    """`call` until it stops failing: during the failover Redis (and so the api) is away."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except exceptions:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def table(rows: int, salt: int) -> bytes:
    lines = ["id,name,amount"] + [f"{i},n{(i + salt) % 31},{i * 0.5}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Submitter:
    """Submits a file job after another until stopped, recording when each was confirmed."""

    base_url: str
    key: str
    #: (sent at, confirmed at, job id), monotonic seconds.
    accepted: list[tuple[float, float, str]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Submitter:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        with Client(self.base_url, self.key) as client:
            while not self.stopping.is_set():
                n = len(self.accepted)
                # One idempotency key per job: a retried submit cannot make it twice.
                idem = str(uuid.uuid4())
                sent = time.monotonic()
                job = retrying(
                    lambda: client.submit_file(io.BytesIO(table(3000, n)), idempotency_key=idem)  # noqa: B023
                )
                self.accepted.append((sent, time.monotonic(), job.id))
                time.sleep(SUBMIT_EVERY)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=60)


def terminal_events(client: redis.Redis, job_id: str) -> list[str]:
    events = retrying(lambda: read_since(client, f"job.{job_id}", "0-0"))
    return [e["type"] for e in events if e["type"] in TERMINAL]


def job_status(client: Client, job_id: str) -> str | None:
    """The job's status, or None when no record of it survived."""
    try:
        return str(client.job(job_id).status)
    except NotFoundError:
        return None


def order_status(trader: Trader, order_id: str) -> str:
    return str(retrying(lambda: trader.order(order_id), exceptions=(AssertionError,))["status"])


def place(trader: Trader, side: str, lots: int, ticks: int) -> str:
    """Place a limit order on ACME; retried while the api answers 5xx (Redis away)."""
    rules = DEFAULT_SYMBOLS["ACME"]
    order = {"symbol": "ACME", "side": side, "quantity": lots * rules.lot_size}

    def send() -> str:
        response = trader.place(**order, price=rules.price_text(ticks))
        if response.status_code >= 500:
            raise ConnectionError(response.text)
        assert response.status_code in (200, 201, 202), response.text
        return str(response.json()["id"])

    return retrying(send, exceptions=(ConnectionError, httpx.HTTPError))


def ends_when_all_succeeded(wanted: set[str]) -> Callable[[Message], bool]:
    """A `recv_until` test: true at a resync, or once every job in `wanted` has succeeded."""

    def done(message: Message) -> bool:
        if message.get("type") == "job.succeeded":
            wanted.discard(message["data"]["job_id"])
        return message.get("type") == "resync" or not wanted

    return done


def primary_port(client: redis.Redis) -> int:
    return int(client.connection_pool.get_master_address()[1])  # type: ignore[attr-defined]


def last_seq(ws: Any) -> str | None:
    """Read what the socket holds now; the seq of its last event."""
    seq = None
    while True:
        try:
            message: Message = recv(ws, timeout=0.5)
        except TimeoutError:
            return seq
        if is_event(message):
            seq = message["seq"]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_jobs_orders_and_a_websocket_client_go_on_after_the_primary_is_killed(
    group: RunningGroup,
    start_api: StartApi,
    start_worker: StartWorker,
    settings: Settings,
    redis_client: redis.Redis,
) -> None:
    servers = group.servers
    apis: list[str] = []
    started_together(
        lambda: apis.append(start_api(env=ENV)[1]),
        lambda: start_worker(queues="files", env=ENV),
        lambda: start_worker(queues="orders", env=ENV),
    )
    [api] = apis
    key, _ = create_key(redis_client, settings.secret("key_secret"), "e2e")
    seller = new_trader(redis_client, settings, api, "seller")
    buyer = new_trader(redis_client, settings, api, "buyer")

    resting = place(seller, "sell", 5, 100)  # rests on the book until after the failover
    wait_for(lambda: order_status(seller, resting) == "open", 30, "the sell order to rest")
    ws = authed(api, key)
    subscribe(ws, "user.me")
    submitter = Submitter(api, key).start()
    wait_for(lambda: len(submitter.accepted) >= 4, 60, "jobs before the kill")
    resume_from = last_seq(ws)
    assert resume_from is not None
    time.sleep(REPLICATION_MARGIN * 1.5)  # the seq we resume from is on the replica by now

    killed_at = time.monotonic()
    assert primary_port(redis_client) == servers.primary.port
    group.kill_primary()
    wait_for(
        lambda: retrying(lambda: primary_port(redis_client)) == servers.replica.port,
        30,
        "the sentinels to promote the replica",
    )

    wait_for(
        lambda: sum(sent > killed_at for sent, _, _ in submitter.accepted) >= 4,
        90,
        "jobs after the failover",
    )
    submitter.stop()
    buy = place(buyer, "buy", 5, 100)  # meets the sell order that rested across the failover
    fresh_sell, fresh_buy = place(seller, "sell", 2, 101), place(buyer, "buy", 2, 101)

    with Client(api, key) as client:

        def all_ended() -> bool:
            statuses = [job_status(client, job_id) for _, _, job_id in submitter.accepted]
            return all(s in (None, "succeeded", "failed", "cancelled") for s in statuses)

        try:
            wait_for(lambda: retrying(all_ended), 100, "every accepted job to end")
        except AssertionError:
            left = {j: retrying(lambda: job_status(client, j)) for _, _, j in submitter.accepted}  # noqa: B023
            raise AssertionError({j: s for j, s in left.items() if s != "succeeded"}) from None
        early, at_risk, after = [], [], []
        for sent, confirmed, job_id in submitter.accepted:
            if confirmed < killed_at - REPLICATION_MARGIN:
                early.append(job_id)
            elif sent > killed_at:
                after.append(job_id)
            else:
                at_risk.append(job_id)
        for job_id in early + after:
            assert job_status(client, job_id) == "succeeded", job_id
            assert terminal_events(redis_client, job_id) == ["job.succeeded"], job_id
        for job_id in at_risk:  # may have died with the primary (README), never doubled
            if job_status(client, job_id) is not None:
                error = client.job(job_id).error
                assert terminal_events(redis_client, job_id) == ["job.succeeded"], (job_id, error)

    for trader, order_id in (
        (seller, resting),
        (buyer, buy),
        (seller, fresh_sell),
        (buyer, fresh_buy),
    ):
        wait_for(lambda: order_status(trader, order_id) == "filled", 30, f"{order_id} to fill")  # noqa: B023

    # The client that stayed connected through the failover: its api's hub re-subscribed and
    # replayed what it missed, so it has every job's end, once.
    with ws:
        live = recv_until(ws, ends_when_all_succeeded(set(after)), timeout=30)
    assert_resumed(live, after)
    # A client that comes back after the failover resumes from its last seq.
    with authed(api, key) as again:
        subscribe(again, "user.me", since=resume_from)
        resumed = recv_until(again, ends_when_all_succeeded(set(after)), timeout=30)
    assert_resumed(resumed, after)


@dataclass
class HaStack:
    """What the upload tests below drive: the Sentinel group, its settings and a client of its
    primary, and the api and workers started against it."""

    group: RunningGroup
    settings: Settings
    redis: redis.Redis
    start_api: StartApi
    start_worker: StartWorker

    def replicated_job(self, env: dict[str, str]) -> tuple[str, str, str, str]:
        """An api started with `env`, a key, and a job submitted with no files worker running,
        on the replica too: (api url, key, job id, stored upload name)."""
        _, api = self.start_api(env=env)
        key, _ = create_key(self.redis, self.settings.secret("key_secret"), "e2e")
        with Client(api, key) as client:
            job_id = client.submit_file(io.BytesIO(table(300, 0))).id
        return api, key, job_id, on_the_replica(self.redis, job_id)

    def succeeded_on_the_primary(self, job_id: str) -> None:
        wait_for(
            lambda: self.redis.hget(job_key(job_id), "status") == "succeeded",
            60,
            "the job to succeed on the primary",
        )

    def listed(self, stored: str, job_id: str) -> bool:
        """Whether the upload is listed as kept for want of a replica's confirmation."""
        return self.redis.zscore(KEPT_UPLOADS_KEY, entry(stored, job_id)) is not None

    def kept(self, stored: str) -> bool:
        return upload_path(self.settings, stored).exists()

    @contextmanager
    def replica_stopped(self) -> Iterator[None]:
        """The replica stopped (SIGSTOP), so that what is written in the block never reaches
        it."""
        replica = self.group.procs["redis-replica"]
        replica.kill_group(signal.SIGSTOP)
        try:
            # Ballast past what the kernel buffers for a stopped reader: whatever is written
            # after it waits in the primary's output buffer, and dies with the primary.
            ballast = self.redis.pipeline(transaction=False)
            for n in range(BALLAST_MB):
                ballast.set(f"test:ballast:{n}", b"x" * 2**20)
            ballast.execute()
            yield
        finally:
            replica.kill_group(signal.SIGCONT)

    def promoted(self) -> None:
        wait_for(
            lambda: retrying(lambda: primary_port(self.redis)) == self.group.servers.replica.port,
            30,
            "the sentinels to promote the replica",
        )

    def assert_runs_again_and_succeeds(self, api: str, key: str, job_id: str, stored: str) -> None:
        """The job runs on its upload, ends succeeded once, and the upload goes."""
        with Client(api, key) as client:
            wait_for(
                lambda: retrying(lambda: job_status(client, job_id)) in ("succeeded", "failed"),
                60,
                "the job to run again",
            )
            assert client.job(job_id).status == "succeeded", client.job(job_id).error
        assert terminal_events(self.redis, job_id) == ["job.succeeded"]
        wait_for(lambda: not self.kept(stored), 10, "the upload to go")


@pytest.fixture
def ha(
    group: RunningGroup,
    settings: Settings,
    redis_client: redis.Redis,
    start_api: StartApi,
    start_worker: StartWorker,
) -> HaStack:
    return HaStack(group, settings, redis_client, start_api, start_worker)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_job_whose_run_died_with_the_primary_runs_again_on_its_upload(ha: HaStack) -> None:
    """The worst case of asynchronous replication for a file job: its record and message are on
    the replica, its run and outcome are not. The promoted replica hands the message out again,
    and that run must still find the upload: a worker removes it only once a replica has the
    outcome (here the replica is stopped, so it never does before the kill)."""
    api, key, job_id, stored = ha.replicated_job(ENV)

    with ha.replica_stopped():
        ha.start_worker(queues="files", env={**ENV, "JOBCAST_REDIS_REPLICA_WAIT_MS": "300"})
        ha.succeeded_on_the_primary(job_id)
        # Kept, as no replica has the outcome (listed once the worker's WAIT has timed out).
        wait_for(lambda: ha.listed(stored, job_id), 10, "the upload to be listed")
        assert ha.kept(stored)
        ha.group.kill_primary()
    ha.promoted()
    ha.assert_runs_again_and_succeeds(api, key, job_id, stored)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_queued_job_whose_cancel_died_with_the_primary_runs_on_its_upload(ha: HaStack) -> None:
    """A cancel is a write the promoted replica may lack too: the job is queued there, so it
    runs, and the api, which has the cancel's word only from the primary, must not have deleted
    its upload (it does once a replica has the cancel; here the replica is stopped)."""
    api, key, job_id, stored = ha.replicated_job({**ENV, "JOBCAST_REDIS_REPLICA_WAIT_MS": "300"})
    with Client(api, key) as client, ha.replica_stopped():
        assert client.cancel(job_id).status == "cancelled"
        assert ha.kept(stored)  # no replica has the cancel
        assert ha.listed(stored, job_id)
        ha.group.kill_primary()
    ha.promoted()
    ha.start_worker(queues="files", env=ENV)
    ha.assert_runs_again_and_succeeds(api, key, job_id, stored)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_an_upload_kept_while_the_replica_lagged_goes_once_it_confirms(ha: HaStack) -> None:
    """No failover: the replica only stalls while the job ends, so the upload is kept; once the
    replica is back, the next files sweep deletes it (not a retention period later)."""
    _, _, job_id, stored = ha.replicated_job(ENV)
    sweeping = {"JOBCAST_FILES_SWEEP_INTERVAL": "0.5", "JOBCAST_REDIS_REPLICA_WAIT_MS": "300"}

    with ha.replica_stopped():
        worker = ha.start_worker(queues="files", env={**ENV, **sweeping})
        ha.succeeded_on_the_primary(job_id)
        time.sleep(2)  # sweeps come and go: none deletes it while the replica is stopped
        assert ha.kept(stored)
    wait_for(lambda: not ha.kept(stored), 30, "the sweep", worker)
    assert ha.redis.zcard(KEPT_UPLOADS_KEY) == 0
    assert "kept uploads deleted: 1" in worker.output()


def on_the_replica(client: redis.Redis, job_id: str) -> str:
    """Wait until the replica has every write so far (the job's record and Celery message);
    the job's stored upload name."""
    replicated = client.pipeline(transaction=False)
    replicated.set("test:replicated", "1")
    replicated.wait(1, 5000)
    assert replicated.execute()[1] == 1
    return str(client.hget(job_key(job_id), "stored"))


def assert_resumed(seen: list[Message], jobs: list[str]) -> None:
    """No resync, no event twice, and every job in `jobs` seen succeeding once."""
    assert not [m for m in seen if m.get("type") == "resync"], seen
    seqs = [m["seq"] for m in seen if is_event(m)]
    assert len(seqs) == len(set(seqs))
    succeeded = [m["data"]["job_id"] for m in seen if m.get("type") == "job.succeeded"]
    assert set(jobs) <= set(succeeded)
    assert len(succeeded) == len(set(succeeded))
