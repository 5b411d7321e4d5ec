"""A file job that does not end succeeded leaves nothing charged to its owner's stored-bytes
quota and no converted file (whole or `.partial`), however its end came: its result refused by
the quota, a cancel landing just before the outcome's commit (which charges the result), a
worker that died before it cleaned up, or deaths past the attempt cap. Real api and worker."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import pytest
import redis

from jobcast import quotas, rediskeys
from jobcast.embedded_redis import free_port
from jobcast.settings import Settings
from jobcast.storage_paths import ARTIFACT_PARTIAL_SUFFIX, artifact_path, partial_path
from tests.conftest import StartApi, StartWorker, new_principal
from tests.support.processes import wait_for
from tests.support.tcp_proxy import TcpProxy
from tests.workers.files.support import (
    SLOW_WORKER,
    JobsClient,
    await_event,
    await_terminal,
    is_progress_past,
    write_large_csv,
)

QUOTA = 100_000
UPLOAD = 20_000
QUOTA_ENV = {"JOBCAST_QUOTA_STORED_BYTES": str(QUOTA)}
TO_CSV = '{"operation": "convert", "to": "csv"}'


def one_column(path: Path) -> Path:
    """A one-column CSV of UPLOAD bytes; converted to CSV, a file about as large."""
    path.write_bytes(b"n\n" + b"7\n" * (UPLOAD // 2 - 1))
    return path


def ledger(client: redis.Redis, owner: str) -> dict[str, str]:
    return client.hgetall(rediskeys.quota_ledger_key(owner))  # type: ignore[return-value]


def artifact_files(settings: Settings, job_id: str) -> list[Path]:
    return sorted((settings.data_dir / "artifacts").glob(f"{job_id}*"))


def await_task_end(client: redis.Redis, job_id: str) -> None:
    """Until the job's task has returned (its Celery result stored): what the worker does after
    the outcome's commit (removing files) is done by then."""
    ended = rediskeys.celery_result_key(job_id)
    wait_for(lambda: bool(client.exists(ended)), 60, f"the task of {job_id} to end")


def assert_nothing_left(client: redis.Redis, settings: Settings, owner: str, job_id: str) -> None:
    charged = [entry for entry in ledger(client, owner) if entry.endswith(job_id)]
    assert charged == [], charged
    assert artifact_files(settings, job_id) == []


@pytest.fixture
def api_url(start_api: StartApi) -> str:
    _, url = start_api(env=QUOTA_ENV)
    return url


class Owner(JobsClient):
    def __init__(self, url: str, client: redis.Redis, settings: Settings, name: str) -> None:
        key, self.id = new_principal(client, settings, name)
        super().__init__(url, key)


@pytest.fixture
def owner(api_url: str, redis_client: redis.Redis, settings: Settings) -> Iterator[Owner]:
    client = Owner(api_url, redis_client, settings, "alice")
    yield client
    client.http.close()


@pytest.fixture
def gate(settings: Settings) -> Iterator[tuple[TcpProxy, Settings]]:
    """A proxy to the test's Redis, and settings that reach Redis through it."""
    parts = urlsplit(settings.redis_url or "")
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    proxy.start(free_port())
    netloc = parts.netloc.rsplit(":", 1)[0] + f":{proxy.port}"
    yield proxy, settings.replace(redis_url=urlunsplit(parts._replace(netloc=netloc)))
    proxy.stop()


def test_a_convert_whose_result_the_quota_refuses_keeps_no_converted_file_nor_its_charge(
    owner: Owner,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    # The converted file was charged before the result was refused: a failed job held its
    # owner's quota until retention with a file it will never serve.
    upload = one_column(tmp_path / "n.csv")
    start_worker(queues="files", env=QUOTA_ENV)
    bob = Owner(owner.base_url, redis_client, settings, "bob")
    sizing = bob.submit_ok(upload, TO_CSV)  # the same file converted: its converted size
    assert await_terminal(redis_client, sizing)["type"] == "job.succeeded"
    converted = artifact_files(settings, sizing)[0].stat().st_size
    bob.http.close()
    # Her older converted files take all but a few bytes of what this job's file leaves.
    older = QUOTA - UPLOAD - converted - 8
    quotas.charge(redis_client, owner.id, quotas.artifact_entry("j_older"), older, 3600)

    job = owner.submit_ok(upload, TO_CSV)

    assert await_terminal(redis_client, job)["type"] == "job.failed"
    error = owner.job(job)["error"]
    assert error["code"] == "storage_quota_exceeded"
    assert error["message"].startswith("The result takes")
    await_task_end(redis_client, job)
    assert_nothing_left(redis_client, settings, owner.id, job)


@pytest.mark.parametrize("params", [None, TO_CSV], ids=["profile", "convert"])
def test_a_cancel_landing_just_before_the_results_commit_leaves_nothing_charged(
    params: str | None,
    owner: Owner,
    gate: tuple[TcpProxy, Settings],
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    proxy, through_proxy = gate
    job = owner.submit_ok(one_column(tmp_path / "n.csv"), params)
    # The worker's send charging the result (the outcome's commit) waits for the cancel.
    charging = proxy.hold_at(quotas.result_entry(job).encode())
    start_worker(queues="files", settings_=through_proxy)
    assert charging.wait(60), "the worker never sent the result's charge"

    assert owner.http.delete(f"/jobs/{job}").json()["status"] == "cancelling"
    proxy.release()

    assert await_terminal(redis_client, job)["type"] == "job.cancelled"
    await_task_end(redis_client, job)
    assert_nothing_left(redis_client, settings, owner.id, job)


def test_a_redelivery_finding_a_convert_ended_removes_what_a_dead_worker_left(
    owner: Owner,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    # A worker that died between committing the job's end and removing its converted file
    # left the file, its `.partial` and its charge; the redelivered task found the job ended and
    # removed only the upload. Its leftovers are laid down by hand: a real kill cannot be
    # placed between those two steps.
    job = owner.submit_ok(one_column(tmp_path / "n.csv"), TO_CSV)
    assert owner.http.delete(f"/jobs/{job}").json()["status"] == "cancelled"
    final = artifact_path(settings, job, "csv")
    final.parent.mkdir(parents=True, exist_ok=True)
    for path in (final, partial_path(final, ARTIFACT_PARTIAL_SUFFIX)):
        path.write_bytes(b"n\n7\n")
    quotas.charge(redis_client, owner.id, quotas.artifact_entry(job), 4, 3600)

    start_worker(queues="files", env=QUOTA_ENV)

    await_task_end(redis_client, job)
    assert_nothing_left(redis_client, settings, owner.id, job)


#: The first death of a task's process is its last: its next delivery fails it.
ONE_DEATH = {"JOBCAST_TASK_MAX_ATTEMPTS": "1", "JOBCAST_TASK_QUARANTINE_MAX": "0"}


def test_a_convert_whose_process_dies_past_the_attempt_cap_keeps_no_file_nor_charge(
    start_api: StartApi,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    _, url = start_api()  # the default quota: a file large enough to be killed mid-convert
    owner = Owner(url, redis_client, settings, "carol")
    worker = start_worker(queues="files", env={**SLOW_WORKER, **ONE_DEATH})
    job = owner.submit_ok(write_large_csv(tmp_path / "big.csv", 4 << 20), TO_CSV)
    await_event(redis_client, job, is_progress_past(20_000))
    assert [p.name for p in artifact_files(settings, job)] == [f"{job}.csv.partial"]
    assert quotas.artifact_entry(job) in ledger(redis_client, owner.id)

    (pool,) = psutil.Process(worker.popen.pid).children()
    pool.send_signal(signal.SIGKILL)

    assert await_terminal(redis_client, job, timeout=60)["type"] == "job.failed"
    assert owner.job(job)["error"]["code"] == "attempts_exhausted"
    await_task_end(redis_client, job)
    assert_nothing_left(redis_client, settings, owner.id, job)
    owner.http.close()
