"""One principal's backlog of slow file jobs does not hold another principal's small job back,
and a principal alone uses every slot (the cap shares slots only while someone else waits)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import redis
import redis.asyncio as aioredis

from jobcast import files_waiting, rediskeys
from jobcast.rediskeys import job_key
from jobcast.settings import Settings
from tests.conftest import StartApi, StartWorker, new_principal
from tests.workers.files.support import (
    SLOW_WORKER,
    JobsClient,
    await_terminal,
    events,
    write_large_csv,
)
from workers.files import fairness
from workers.files.state import JobState

SLOW_BYTES = 12 * 1024**2
#: One slot per principal while others wait; two slots in all.
CAPPED = {"JOBCAST_FILES_MAX_RUNNING_PER_PRINCIPAL": "1"}


def principal(url: str, client: redis.Redis, settings: Settings, name: str) -> JobsClient:
    key, _ = new_principal(client, settings, name)
    return JobsClient(url, key)


def times_of(client: JobsClient, redis_client: redis.Redis, job_id: str) -> tuple[float, float]:
    """When the job first started, and when it ended. The record's `started_at` is its last
    start: a run retried after a transient error (a loaded machine) starts again."""
    job = client.job(job_id)
    assert job["status"] == "succeeded", job
    starts = [e["ts"] for e in events(redis_client, job_id) if e["type"] == "job.started"]
    return float(min(starts)), float(job["finished_at"])


def await_running(client: JobsClient, job_ids: list[str], count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(client.job(job_id)["status"] == "running" for job_id in job_ids) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{count} of {job_ids} were never running at once")


def test_a_slow_backlog_of_one_principal_does_not_delay_anothers_small_job(
    start_api: StartApi,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    # Slowed per byte (small batches, a progress write each): Alice's second job must start
    # while her first runs, and her second upload, sent after the first, took longer than the
    # first job ran once a file of four blocks or more parsed on two threads (12 MB in 140 ms).
    start_worker(queues="files", concurrency=2, env={**CAPPED, **SLOW_WORKER})
    _, url = start_api()
    slow = write_large_csv(tmp_path / "slow.csv", SLOW_BYTES)
    # Alice's first two jobs must end apart: two equal ones started together ended 30-70 ms
    # apart, about when Bob's job reached a slot, so her third job could rightly take the other
    # one (none of hers running any more) first. So her second is three times as big.
    slower = write_large_csv(tmp_path / "slower.csv", 3 * SLOW_BYTES)
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("a,b\n1,2\n")
    # The scenario needs Alice on both slots when Bob's job arrives, and his job waiting before
    # either of hers ends. On a loaded machine that window (about half a second) was missed in
    # 3 of 11 fresh-clone runs (once her second start even read later than his, unexplained);
    # such a run proves nothing about fairness, so it runs again, up to three times, and the
    # claim is checked on one where the setup held.
    for _ in range(3):
        alice = principal(url, redis_client, settings, "alice")
        bob = principal(url, redis_client, settings, "bob")
        backlog = [alice.submit_ok(path) for path in (slow, slower, slow)]
        # Alone, Alice takes both slots; her third job waits in the queue.
        await_running(alice, backlog, 2, timeout=60)
        small = bob.submit_ok(tiny)
        for job_id in [small, *backlog]:
            await_terminal(redis_client, job_id, timeout=300)
        alice_runs = sorted(times_of(alice, redis_client, job_id) for job_id in backlog)
        small_started, _ = times_of(bob, redis_client, small)
        arrived = float(bob.job(small)["created_at"])
        # The setup held: Alice on both slots, and Bob's job waiting before either freed.
        if alice_runs[1][0] < arrived < min(ended for _, ended in alice_runs[:2]):
            break
    # Bob's job took the first slot Alice freed, ahead of her job queued before his: it waited
    # for one slot at most, and no job of Alice's started while he waited.
    assert alice_runs[1][0] < small_started < alice_runs[2][0], (alice_runs, small_started)
    assert small_started >= min(ended for _, ended in alice_runs[:2])


def test_on_one_slot_anothers_job_goes_ahead_of_a_queued_backlog(
    start_api: StartApi,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    # One slot (as `make run` starts it): the running cap never applies, so only the queue's
    # priorities put Bob's job ahead of Alice's backlog, queued before it.
    _, url = start_api()
    alice = principal(url, redis_client, settings, "alice")
    bob = principal(url, redis_client, settings, "bob")
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("a,b\n1,2\n")
    backlog = [alice.submit_ok(tiny) for _ in range(8)]
    small = bob.submit_ok(tiny)
    start_worker(queues="files", concurrency=1)
    for job_id in [*backlog, small]:
        await_terminal(redis_client, job_id, timeout=120)

    starts = sorted((times_of(alice, redis_client, j)[0], j) for j in backlog)
    bob_started, _ = times_of(bob, redis_client, small)
    order = [j for _, j in sorted([*starts, (bob_started, small)])]
    # Alice's first two (her cap's worth, the default 2) were queued ahead of his at the top
    # priority; her other six, a backlog, after his.
    assert order.index(small) == 2, order
    assert order[:2] == backlog[:2]


def test_a_lone_principal_uses_every_slot_over_its_cap(
    start_api: StartApi,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    _, url = start_api()
    alice = principal(url, redis_client, settings, "alice")
    slow = write_large_csv(tmp_path / "slow.csv", SLOW_BYTES)
    # Both queued before any worker runs: her second job does not race her first one's run
    # with its upload (which lost, by 10 ms, on a loaded machine).
    jobs = [alice.submit_ok(slow) for _ in range(2)]
    start_worker(queues="files", concurrency=2, env={**CAPPED, **SLOW_WORKER})
    for job_id in jobs:
        await_terminal(redis_client, job_id, timeout=300)

    (_, first_ended), (second_started, _) = sorted(times_of(alice, redis_client, j) for j in jobs)
    # Nobody else waited, so her second job ran beside her first, past her cap of one.
    assert second_started < first_ended
    assert not redis_client.exists(rediskeys.files_waiting_key(owner_of(redis_client, jobs[0])))


def owner_of(client: redis.Redis, job_id: str) -> str:
    return str(client.hget(job_key(job_id), "owner"))


def mark_waiting(settings: Settings, owner: str, job_id: str) -> None:
    async def go() -> None:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        try:
            await files_waiting.mark_waiting(client, owner, job_id, settings.job_retention)
        finally:
            await client.aclose()

    asyncio.run(go())


def test_a_principals_slots_are_claimed_atomically_kept_on_redelivery_and_expire(
    redis_client: redis.Redis, settings: Settings
) -> None:
    capped = settings.replace(files_max_running_per_principal=1)
    assert fairness.claim(redis_client, capped, "p_a", "j_1")
    # Over the cap but nobody else waits: it runs (its own waiting jobs do not hold it back).
    mark_waiting(settings, "p_a", "j_2")
    assert fairness.claim(redis_client, capped, "p_a", "j_2")
    fairness.release(redis_client, "p_a", "j_2")
    mark_waiting(settings, "p_a", "j_2")
    mark_waiting(settings, "p_b", "j_3")
    assert not fairness.claim(redis_client, capped, "p_a", "j_2")  # p_b waits
    assert fairness.claim(redis_client, capped, "p_a", "j_1")  # a redelivery keeps its slot
    assert fairness.claim(redis_client, capped, "p_b", "j_3")  # per principal; p_b stops waiting
    assert not redis_client.zscore(rediskeys.WAITING_OWNERS_KEY, "p_b")
    assert fairness.claim(redis_client, capped, "p_a", "j_2")  # nobody else waits now
    fairness.release(redis_client, "p_a", "j_2")
    fairness.release(redis_client, "p_b", "j_3")
    # A cancelled job waits no more.
    mark_waiting(settings, "p_b", "j_4")
    assert not fairness.claim(redis_client, capped, "p_a", "j_5")
    files_waiting.unmark_waiting(redis_client, "p_b", "j_4")
    assert fairness.claim(redis_client, capped, "p_a", "j_5")
    fairness.release(redis_client, "p_a", "j_5")
    # A waiting entry older than the job retention is stale (its job expired): pruned.
    redis_client.zadd(
        rediskeys.WAITING_OWNERS_KEY, {"p_c": time.time() - settings.job_retention - 1}
    )
    assert fairness.claim(redis_client, capped, "p_a", "j_6")
    fairness.release(redis_client, "p_a", "j_6")
    # Another principal waits but is at its cap too: it could not take the slot, so no deferral
    # (a slot never idles while two capped principals wait for each other).
    mark_waiting(settings, "p_b", "j_b2")
    assert not fairness.claim(redis_client, capped, "p_a", "j_a2")  # p_b runs none yet
    assert fairness.claim(redis_client, capped, "p_b", "j_b1")
    assert fairness.claim(redis_client, capped, "p_a", "j_a2")  # p_b at its cap
    for owner, job in [("p_a", "j_a2"), ("p_b", "j_b1")]:
        fairness.release(redis_client, owner, job)
    files_waiting.unmark_waiting(redis_client, "p_b", "j_b2")
    # A slot whose process died stops counting at its deadline.
    fairness.release(redis_client, "p_a", "j_1")
    mark_waiting(settings, "p_b", "j_7")
    assert fairness.claim(redis_client, capped, "p_a", "j_8")
    redis_client.zadd(rediskeys.files_running_key("p_a"), {"j_8": time.time() - 1})
    assert fairness.claim(redis_client, capped, "p_a", "j_9")
    assert fairness.claim(
        redis_client, settings.replace(files_max_running_per_principal=0), "p_a", "j_10"
    )


def test_a_job_that_must_wait_for_a_slot_is_not_started_and_one_that_may_starts_with_its_claim(
    redis_client: redis.Redis, settings: Settings
) -> None:
    capped = settings.replace(files_max_running_per_principal=1)
    for job_id in ("j_1", "j_2"):
        redis_client.hset(job_key(job_id), mapping={"status": "queued", "owner": "p_a"})
        mark_waiting(settings, "p_a", job_id)
    mark_waiting(settings, "p_b", "j_3")
    running = JobState(redis_client, "j_1", "p_a", settings.job_retention, "profile")
    started = running.start(1, 30, fairness.SlotClaim.of(capped, "p_a", "j_1"))
    assert started is not None
    assert started.committed
    assert redis_client.zscore(rediskeys.files_running_key("p_a"), "j_1")
    assert not redis_client.zscore(rediskeys.files_waiting_key("p_a"), "j_1")  # it runs now
    waits = JobState(redis_client, "j_2", "p_a", settings.job_retention, "profile")
    assert waits.start(1, 30, fairness.SlotClaim.of(capped, "p_a", "j_2")) is None
    # Nothing changed for the job that must wait: still queued, unannounced, still waiting.
    assert redis_client.hget(job_key("j_2"), "status") == "queued"
    assert not [e for e in events(redis_client, "j_2") if e["type"] == "job.started"]
    assert redis_client.zscore(rediskeys.files_waiting_key("p_a"), "j_2")
    assert not redis_client.zscore(rediskeys.files_running_key("p_a"), "j_2")
