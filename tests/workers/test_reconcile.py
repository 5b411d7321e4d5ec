"""What the reconciler takes for stuck, against a real Redis and broker (no worker runs)."""

from __future__ import annotations

import base64
import json
import time

import redis
from celery import Celery

from jobcast import rediskeys
from jobcast.rediskeys import (
    RECONCILER_LEASE_KEY,
    UNACKED_INDEX_KEY,
    UNACKED_KEY,
    WORKERS_KEY,
    job_key,
    order_lease_key,
    priority_queue,
    tombstone_key,
)
from jobcast.settings import Settings
from jobcast.task_names import FILE_JOB_TASK
from jobcast.worker_registry import report
from workers.reconciler import Reconciler


def idle_job(client: redis.Redis, job_id: str, status: str) -> None:
    """A job record last touched ten minutes ago (past the reconciler's bound of 60 s)."""
    fields = {"status": status, "owner": "p_alice", "created_at": str(time.time() - 600)}
    client.hset(job_key(job_id), mapping=fields)


def sent_ids(client: redis.Redis) -> list[str]:
    return [json.loads(raw)["headers"]["id"] for raw in client.lrange("files", 0, -1)]


def test_idle_job_with_no_message_is_resent_on_the_second_sweep_only(
    reconciler: Reconciler, redis_client: redis.Redis
) -> None:
    idle_job(redis_client, "j_lost", "running")

    assert reconciler.tick() == []  # first seen: a message may be between queue and unacked
    resent = reconciler.tick()

    assert [(s.key, s.status) for s in resent] == [("j_lost", "running")]
    assert sent_ids(redis_client) == ["j_lost"]
    assert reconciler.tick() == []  # its message is queued now


def test_tombstones_beside_job_records_do_not_stop_the_sweep(
    reconciler: Reconciler, redis_client: redis.Redis
) -> None:
    # An expired job leaves a tombstone (a string) under the records' prefix
    redis_client.set(tombstone_key(job_key("j_expired")), "p_alice")
    idle_job(redis_client, "j_lost", "queued")

    assert reconciler.tick() == []
    assert [s.key for s in reconciler.tick()] == ["j_lost"]
    assert sent_ids(redis_client) == ["j_lost"]


def test_idle_job_whose_message_a_worker_holds_or_a_queue_keeps_is_left_alone(
    reconciler: Reconciler, redis_client: redis.Redis, broker: Celery
) -> None:
    idle_job(redis_client, "j_held", "running")
    idle_job(redis_client, "j_waiting", "queued")
    broker.send_task(FILE_JOB_TASK, args=["j_held"], task_id="j_held")
    broker.send_task(FILE_JOB_TASK, args=["j_waiting"], task_id="j_waiting")
    # A worker took j_held and has not acked it (kombu keeps it in its `unacked` hash)
    held = redis_client.rpop("files")
    assert held is not None
    assert json.loads(held)["headers"]["id"] == "j_held"
    hold(redis_client, "tag-1", held, taken_at=time.time())

    assert reconciler.tick() == []
    assert reconciler.tick() == []
    assert sent_ids(redis_client) == ["j_waiting"]


def test_idle_job_whose_message_a_live_worker_reports_holding_is_left_alone(
    reconciler: Reconciler, redis_client: redis.Redis, broker: Celery
) -> None:
    # Taken ten minutes ago by a worker that is alive (its heartbeat lists it): a slow task
    idle_job(redis_client, "j_slow", "running")
    broker.send_task(FILE_JOB_TASK, args=["j_slow"], task_id="j_slow")
    taken = redis_client.rpop("files")
    assert taken is not None
    hold(redis_client, "tag-3", taken, taken_at=time.time() - 600)
    report(redis_client, "files@alive", ["files"], holds=["j_slow"])

    assert reconciler.tick() == []
    assert reconciler.tick() == []
    assert sent_ids(redis_client) == []


def hold(client: redis.Redis, tag: str, raw: str, taken_at: float) -> None:
    """Record a message as taken by a worker and not acked, as kombu does."""
    client.hset(UNACKED_KEY, tag, json.dumps([json.loads(raw), "", "files"]))
    client.zadd(UNACKED_INDEX_KEY, {tag: taken_at})


def test_idle_job_whose_message_was_taken_longer_ago_than_the_bound_is_resent(
    reconciler: Reconciler, redis_client: redis.Redis, broker: Celery
) -> None:
    # A worker took the job's message ten minutes ago and then died (SIGKILL of its main
    # process, a lost host): kombu keeps the message unacked until the visibility timeout
    idle_job(redis_client, "j_orphan", "running")
    broker.send_task(FILE_JOB_TASK, args=["j_orphan"], task_id="j_orphan")
    taken = redis_client.rpop("files")
    assert taken is not None
    hold(redis_client, "tag-9", taken, taken_at=time.time() - 600)
    # Its worker's last heartbeat listed it, a minute ago; a live worker does not hold it
    gone = {"queues": ["files"], "holds": ["j_orphan"], "pid": 1, "ts": time.time() - 60}
    redis_client.hset(WORKERS_KEY, "files@gone", json.dumps(gone))
    report(redis_client, "files@alive", ["files"])

    assert reconciler.tick() == []
    resent = reconciler.tick()

    assert [(s.key, s.status) for s in resent] == [("j_orphan", "running")]
    assert sent_ids(redis_client) == ["j_orphan"]


def test_idle_job_whose_countdown_retry_a_worker_holds_is_left_alone_until_it_is_due(
    reconciler: Reconciler, redis_client: redis.Redis, broker: Celery
) -> None:
    # Quarantined ten minutes ago for twenty minutes: idle, its message taken long ago, not due
    idle_job(redis_client, "j_quarantined", "retrying")
    broker.send_task(FILE_JOB_TASK, args=["j_quarantined"], task_id="j_quarantined", countdown=600)
    taken = redis_client.rpop("files")
    assert taken is not None
    hold(redis_client, "tag-7", taken, taken_at=time.time() - 600)

    assert reconciler.tick() == []
    assert reconciler.tick() == []
    assert sent_ids(redis_client) == []


def test_finished_job_and_another_holders_lease_mean_no_resend(
    reconciler: Reconciler, redis_client: redis.Redis
) -> None:
    idle_job(redis_client, "j_done", "succeeded")
    assert reconciler.tick() == []
    assert reconciler.tick() == []

    idle_job(redis_client, "j_lost", "queued")
    redis_client.set(RECONCILER_LEASE_KEY, "another worker", px=60_000)
    assert reconciler.tick() == []
    assert reconciler.tick() == []
    assert sent_ids(redis_client) == []


def unmatched_order(client: redis.Redis, symbol: str, age_seconds: float) -> None:
    """An accepted order in the symbol's inbound log, `age_seconds` old, that nothing matched."""
    order = ["o_" + "1" * 20, "p_x", "buy", "limit", 200, 1, "GTC", ""]
    stream_id = f"{int((time.time() - age_seconds) * 1000)}-0"
    client.xadd(rediskeys.inbound_key(symbol), {"c": "new", "o": json.dumps(order)}, id=stream_id)


def match_tasks(client: redis.Redis) -> list[list[str]]:
    return [message_args(raw)[0] for raw in client.lrange("orders", 0, -1)]


def message_args(raw: str) -> list[list[str]]:
    body: list[list[str]] = json.loads(base64.b64decode(json.loads(raw)["body"]))
    return body


def test_symbol_with_old_unmatched_orders_and_no_holder_gets_one_task_per_bound(
    reconciler: Reconciler, redis_client: redis.Redis
) -> None:
    unmatched_order(redis_client, "BTC-USD", age_seconds=600)
    unmatched_order(redis_client, "ETH-USD", age_seconds=600)
    redis_client.set(order_lease_key("ETH-USD"), "a live holder", px=60_000)
    unmatched_order(redis_client, "SOL-USD", age_seconds=1)  # recent: its task may be on its way

    assert reconciler.tick() == []
    resent = reconciler.tick()

    assert [s.key for s in resent] == ["BTC-USD"]
    assert match_tasks(redis_client) == [["BTC-USD"]]
    redis_client.delete("orders")  # its task died too: the next resend waits a bound again
    assert reconciler.tick() == []
    assert reconciler.tick() == []
    assert match_tasks(redis_client) == []


def test_job_and_symbol_whose_messages_a_dead_worker_holds_are_resent_past_the_grace(
    reconciler: Reconciler, redis_client: redis.Redis, broker: Celery
) -> None:
    # A job idle for 20 s, and a symbol's order unmatched as long, well short of the bound of
    # 60 s: a worker took both messages 20 s ago and its last heartbeat, listing them, is as old
    fields = {"status": "running", "owner": "p_alice", "created_at": str(time.time() - 20)}
    redis_client.hset(job_key("j_orphan"), mapping=fields)
    broker.send_task(FILE_JOB_TASK, args=["j_orphan"], task_id="j_orphan")
    unmatched_order(redis_client, "BTC-USD", age_seconds=20)
    broker.send_task("jobcast.orders.match", args=["BTC-USD"], task_id="t_match", queue="orders")
    for tag, queue in (("tag-1", "files"), ("tag-2", "orders")):
        taken = redis_client.rpop(queue)
        assert taken is not None
        hold(redis_client, tag, taken, taken_at=time.time() - 20)
    gone = {"queues": ["files"], "holds": ["j_orphan", "t_match"], "pid": 1, "ts": time.time() - 20}
    redis_client.hset(WORKERS_KEY, "files@gone", json.dumps(gone))

    assert reconciler.tick() == []
    resent = reconciler.tick()

    assert [(s.kind, s.key) for s in resent] == [("job", "j_orphan"), ("symbol", "BTC-USD")]
    assert sent_ids(redis_client) == ["j_orphan"]
    assert match_tasks(redis_client) == [["BTC-USD"]]


def test_sweeps_every_10_s_age_the_files_queue_only_every_30_s(
    settings: Settings, redis_client: redis.Redis
) -> None:
    # Given a reconciler sweeping every 10 s (of a clock the test moves) with aging every 30 s,
    # and a backlog's message next at priority 9
    now = [0.0]
    fast = settings.model_copy(update={"reconcile_interval": 10.0, "queue_aging_interval": 30.0})
    reconciler = Reconciler(redis_client, fast, lambda *_: None, clock=lambda: now[0])
    redis_client.lpush(priority_queue("files", 9), "backlog-1")

    def sweep_at(t: float) -> list[str]:
        now[0] = t
        assert reconciler.tick() == []
        return redis_client.lrange(priority_queue("files", 9), 0, -1)

    # When sweeps come every 10 s, it stays: a sweep interval next is not an aging interval
    assert sweep_at(0.0) == ["backlog-1"]  # aging looks
    assert sweep_at(10.0) == ["backlog-1"]
    assert sweep_at(20.0) == ["backlog-1"]
    # Then only a whole aging interval after it was seen next does it move up one priority
    assert sweep_at(30.0) == []
    assert redis_client.lrange(priority_queue("files", 6), 0, -1) == ["backlog-1"]
    assert sweep_at(40.0) == []
    assert redis_client.lrange(priority_queue("files", 6), 0, -1) == ["backlog-1"]
