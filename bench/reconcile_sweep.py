"""What one reconciler sweep costs: 1,000 queued file jobs beside 10,000, then 100,000,
finished job records.

    .venv/bin/python bench/reconcile_sweep.py [--finished 10000 100000] [--queued 1000]
        [--sweeps 30]

For each count of finished records: starts a Redis of its own, writes the records as a version
without the unfinished-jobs index did (no index), and sends a real Celery message for each
queued job (created ten minutes ago: idle past every bound, so each sweep also reads the queues,
the costlier path). Then times `Reconciler.tick` as the lease holder, aging due on every sweep:
the first sweep apart (it builds the index, reading every record once:
`workers.unfinished_jobs`), and the median of the others, which read the index only.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import redis  # noqa: E402
from celery import Celery  # noqa: E402

import celeryconfig  # noqa: E402
from jobcast.rediskeys import job_key  # noqa: E402
from jobcast.task_names import FILE_JOB_TASK  # noqa: E402
from tests.support.stack import start_private_redis  # noqa: E402
from workers.reconciler import Reconciler  # noqa: E402


def write_jobs(client: redis.Redis, count: int, status: str, prefix: str) -> list[str]:
    ids = [f"j_{prefix}{n:08d}" for n in range(count)]
    created = str(time.time() - 600)
    pipe = client.pipeline(transaction=False)
    for job_id in ids:
        fields = {"status": status, "owner": "p_bench", "created_at": created, "filename": "a.csv"}
        pipe.hset(job_key(job_id), mapping=fields)
    pipe.execute()
    return ids


def timed_sweeps(reconciler: Reconciler, sweeps: int) -> list[float]:
    took = []
    for _ in range(sweeps):
        start = time.perf_counter()
        assert reconciler.tick() == []  # every queued job's message is in its queue
        took.append((time.perf_counter() - start) * 1000)
    return took


def measure(finished: int, queued: int, sweeps: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="jobcast-bench-sweep-"))
    _, redis_proc, settings = start_private_redis(tmp, queue_aging_interval=0.001)
    try:
        client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
        write_jobs(client, finished, "succeeded", "done")
        app = Celery("bench-sweep")
        app.config_from_object(celeryconfig.config_for(settings))
        for job_id in write_jobs(client, queued, "queued", "wait"):
            app.send_task(FILE_JOB_TASK, args=[job_id], task_id=job_id)
        first, *took = timed_sweeps(Reconciler(client, settings, lambda *_: None), sweeps + 1)
        print(
            f"{finished} finished records, {queued} queued messages: one sweep median "
            f"{statistics.median(took):.1f} ms, max {max(took):.1f} ms over {sweeps} sweeps "
            f"(the first, building the index: {first:.1f} ms)"
        )
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--finished", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queued", type=int, default=1_000)
    parser.add_argument("--sweeps", type=int, default=30)
    args = parser.parse_args()
    for finished in args.finished:
        measure(finished, args.queued, args.sweeps)


if __name__ == "__main__":
    main()
