"""One principal's backlog of slow file jobs does not hold another principal's small job back."""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path

import redis

from jobcast.keys import create_key
from jobcast.settings import Settings
from tests.conftest import StartApi, StartWorker
from tests.workers.files.support import JobsClient, await_terminal, write_large_csv
from workers.files import fairness

SLOW_JOBS = 4


def principal(url: str, client: redis.Redis, settings: Settings, name: str) -> JobsClient:
    key, _ = create_key(client, settings.secret("key_secret"), name)
    return JobsClient(url, key)


def times_of(client: JobsClient, job_id: str) -> tuple[float, float]:
    job = client.job(job_id)
    assert job["status"] == "succeeded", job
    return float(job["started_at"]), float(job["finished_at"])


def test_a_slow_backlog_of_one_principal_does_not_delay_anothers_small_job(
    start_api: StartApi, start_worker: StartWorker, redis_client: redis.Redis,
    settings: Settings, tmp_path: Path,
) -> None:  # fmt: skip
    # Two slots; each principal may hold one of them.
    start_worker(queues="files", concurrency=2,
                 env={"JOBCAST_FILES_MAX_RUNNING_PER_PRINCIPAL": "1"})  # fmt: skip
    _, url = start_api()
    alice = principal(url, redis_client, settings, "alice")
    bob = principal(url, redis_client, settings, "bob")
    slow = write_large_csv(tmp_path / "slow.csv", 12 * 1024**2)
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("a,b\n1,2\n")

    backlog = [alice.submit_ok(slow) for _ in range(SLOW_JOBS)]
    small = bob.submit_ok(tiny)
    for job_id in [small, *backlog]:
        await_terminal(redis_client, job_id, timeout=300)

    alice_runs = sorted(times_of(alice, job_id) for job_id in backlog)
    _, small_finished = times_of(bob, small)
    # Bob's job took the slot Alice may not: it ended before her first job did.
    assert small_finished < alice_runs[0][1]
    # Alice never ran two at once: each of her jobs started after the previous one ended.
    for (_, ended), (started, _) in pairwise(alice_runs):
        assert started >= ended


def test_a_principals_slots_are_claimed_atomically_kept_on_redelivery_and_expire(
    redis_client: redis.Redis, settings: Settings
) -> None:
    capped = settings.replace(files_max_running_per_principal=1)
    assert fairness.claim(redis_client, capped, "p_a", "j_1")
    assert not fairness.claim(redis_client, capped, "p_a", "j_2")
    assert fairness.claim(redis_client, capped, "p_b", "j_3")  # per principal
    assert fairness.claim(redis_client, capped, "p_a", "j_1")  # a redelivery keeps its slot
    fairness.release(redis_client, "p_a", "j_1")
    assert fairness.claim(redis_client, capped, "p_a", "j_2")
    # A slot whose process died stops counting at its deadline.
    redis_client.zadd(fairness.running_key("p_a"), {"j_2": time.time() - 1})
    assert fairness.claim(redis_client, capped, "p_a", "j_4")
    assert fairness.claim(redis_client, settings.replace(files_max_running_per_principal=0),
                          "p_a", "j_5")  # fmt: skip
