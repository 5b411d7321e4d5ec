"""Redis gone for a few seconds under a file job in its transient-retry path: the retry is sent
once Redis is back and the job goes on then, not after the reconciler's bound, with no traceback
in the worker's log (Celery's own retry gave up at once and rejected the delivery)."""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from jobcast.embedded_redis import EmbeddedRedis, free_port
from jobcast.redis_clients import sync_client
from jobcast.rediskeys import job_key
from jobcast.settings import Settings
from jobcast.tallies import TASKS_KEY, label
from jobcast.task_names import FILE_JOB_TASK
from tests.conftest import StartApi, launch_api, launch_worker, new_principal
from tests.support.processes import Proc, wait_for
from tests.support.sentinel import sentinel_group
from tests.workers.files.support import (
    SLOW_WORKER,
    JobsClient,
    await_event,
    await_terminal,
    is_progress_past,
    terminal_events,
    write_large_csv,
)

#: Small batches, and the retry run a quarter second after it is sent, not the default 2 s.
QUICK_RETRY = {**SLOW_WORKER, "JOBCAST_JOB_RETRY_BACKOFF": "0.25"}
#: A job still running, a few hundred batches from its end, once 20,000 rows are read (about
#: 1 MiB); its retry reads it all again, so each MiB more is waited for twice (30 MiB: 4 s).
JOB_BYTES = 12 << 20


class RestartableRedis:
    """A Redis of the test's own with its data on disk (AOF), killed and started again on its
    port: the session's Redis must not be disturbed."""

    def __init__(self, data_dir: Path) -> None:
        self.server = EmbeddedRedis(
            port=free_port(), password=secrets.token_hex(8), data_dir=data_dir
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = self.server.start()
        self.server.wait_ready(process=self.proc)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RestartableRedis]:
    server = RestartableRedis(tmp_path / "own-redis")
    server.start()
    yield server
    server.kill()


@pytest.mark.slow
def test_a_retry_sent_while_redis_restarts_goes_out_once_it_is_back_without_a_traceback(
    start_api: StartApi, settings: Settings, own_redis: RestartableRedis, tmp_path: Path
) -> None:
    url = own_redis.server.url
    own = settings.model_copy(update={"redis_url": url})
    client = redis.Redis.from_url(url, decode_responses=True)
    key, _ = new_principal(client, own, "alice")
    _, base = start_api(env={"JOBCAST_REDIS_URL": url})
    jobs = JobsClient(base, key)
    worker: Proc = launch_worker(own, tmp_path, client, queues="files", env=QUICK_RETRY)
    try:
        path = write_large_csv(tmp_path / "big.csv", JOB_BYTES)
        job_id = jobs.submit_ok(path)
        await_event(client, job_id, is_progress_past(20_000))

        # Killed as a failed primary is: the next progress write fails (Error 111), the run
        # goes to its transient retry, whose message cannot be sent until Redis is back.
        own_redis.kill()
        _retrying_in(worker)
        # Away for more than one of the send's tries (Celery's own retry gave up within a
        # second), and back before the worker's consumer tries to reconnect a second time
        # (kombu: 2 s after the loss, then 4 s later): its job goes on 4 s sooner.
        time.sleep(1.5)
        own_redis.start()
        client = redis.Redis.from_url(url, decode_responses=True)

        # Within seconds of Redis' return: the reconciler's bound (minutes) is not waited for.
        _went_on_without_a_traceback(client, worker, job_id)
        assert client.hget(job_key(job_id), "attempt") == "2"
        # The run's running mark was cleared once its retry was sent: no death was counted.
        assert client.hget(TASKS_KEY, label("deaths", FILE_JOB_TASK)) in (None, "0")
    finally:
        worker.kill()
        jobs.http.close()


def _retrying_in(worker: Proc) -> None:
    wait_for(lambda: "transient error, retrying" in worker.output(), 20, "the retry", worker)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _went_on_without_a_traceback(client: redis.Redis, worker: Proc, job_id: str) -> None:
    final = await_terminal(client, job_id, timeout=40)
    assert final["type"] == "job.succeeded", final
    assert len(terminal_events(client, job_id)) == 1
    logged = worker.output()
    assert "Traceback" not in logged, logged[-5000:]
    assert "reject requeue" not in logged, logged[-5000:]


@pytest.mark.slow
def test_a_retry_sent_during_a_sentinel_failover_goes_to_the_new_primary(tmp_path: Path) -> None:
    # The operator's walk of `jobcast up --ha`: the jobs waited 160 s for the reconciler.
    with sentinel_group(tmp_path / "group") as group:
        own = group.settings(tmp_path / "data")
        client = sync_client(own, timeout=5, connect_timeout=1)
        key, _ = new_principal(client, own, "alice")
        api, base = launch_api(own, tmp_path)
        jobs = JobsClient(base, key)
        worker = launch_worker(own, tmp_path, client, queues="files", env=QUICK_RETRY)
        try:
            path = write_large_csv(tmp_path / "big.csv", JOB_BYTES)
            job_id = jobs.submit_ok(path)
            await_event(client, job_id, is_progress_past(20_000))
            # The job's record on the replica before its primary goes; WAIT returns as soon as
            # it is (a fixed second's sleep let a loaded run finish the job before the kill).
            assert client.execute_command("WAIT", 1, 5000) >= 1
            group.kill_primary()
            _retrying_in(worker)
            wait_for(lambda: _answers(client), 30, "the sentinels to promote the replica")
            _went_on_without_a_traceback(client, worker, job_id)
        finally:
            worker.kill()
            api.kill()
            jobs.http.close()
            client.close()
