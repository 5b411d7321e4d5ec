"""P1 job overhead: `python bench/jobs.py [--jobs 400] [--clients 8] [--rounds 2]`.

Tiny file jobs end to end (a 3-row CSV: upload -> profile -> succeeded) against a stock Celery
no-op task with a Redis result backend (`bench/noop.py`), same Redis, same machine, same run.
Both sides: one worker process with the same concurrency, `--clients` client threads that each
submit their share and then wait for all of theirs (ours: the job record turns terminal;
Celery's: `AsyncResult.get()`). Jobs/s run from the first submit to the last result; submits/s
over the submit phase alone. The two sides alternate over `--rounds` (best of each kept).
Each round also reads the CPU time its processes spent (`/proc`, via psutil) per job: the api,
the files worker's main process and its pool, Redis; the stock side's worker as a whole; and,
apart from those totals, the bench's own client threads, which share the two cores measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psutil  # noqa: E402
import redis  # noqa: E402

from bench.files import files_worker_up  # noqa: E402
from bench.front import server_argv  # noqa: E402
from bench.goals import CLIENTS  # noqa: E402
from bench.taps import UserTap  # noqa: E402
from jobcast.embedded_redis import free_port  # noqa: E402
from jobcast.jobs.records import TERMINAL  # noqa: E402
from jobcast.keys import create_key  # noqa: E402
from jobcast.launcher import Stack, UpOptions  # noqa: E402
from jobcast.rediskeys import job_key  # noqa: E402
from jobcast.settings import Settings  # noqa: E402
from tests.support.processes import Proc, http_ok, process_env, spawn, wait_for  # noqa: E402
from tests.support.stack import start_private_redis  # noqa: E402

CSV = b"a,b,c\n1,x,2.5\n2,y,3.5\n3,z,4.5\n"
# Limits lifted so they never refuse, yet kept where the limiter's emission interval (60,000 /
# per_minute ms) stays above a millisecond timestamp's float precision: higher ones break it.
ENV = {
    "JOBCAST_RATE_SUBMIT_PER_MINUTE": "100000000",
    "JOBCAST_RATE_SUBMIT_BURST": "10000000",
    "JOBCAST_RATE_READ_PER_MINUTE": "100000000",
    "JOBCAST_RATE_READ_BURST": "10000000",
    # The fairness cap stays on (its slot claim is part of a job's cost) but never defers here:
    # a client's jobs may sit next to each other in the queue, and the stock side has no cap.
    "JOBCAST_FILES_MAX_RUNNING_PER_PRINCIPAL": "1000",
}


def start(settings: Settings, tmp: Path, concurrency: int) -> tuple[str, list[Proc]]:
    env = process_env(settings, ENV)
    port = free_port()
    api = spawn("jobs-api", server_argv(settings, "api.app:create_app", port), env, tmp)
    files = Stack(settings, UpOptions(workers=concurrency))._worker_argv("files")
    noop = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "bench.noop",
        "worker",
        "-Q",
        "noop",
        "-n",
        "noop@%h",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "WARNING",
    ]
    procs = [api, spawn("jobs-files", files, env, tmp), spawn("jobs-noop", noop, env, tmp)]
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: http_ok(f"{url}/healthz"), 60, "the api", api)
    wait_for(lambda: files_worker_up(settings), 60, "the files worker", procs[1])
    return url, procs


#: Processes whose CPU time a round reads: name -> (pid, whether its children count instead).
Watched = dict[str, tuple[int, bool]]


def cpu_seconds(watched: Watched) -> dict[str, float]:
    """CPU-seconds so far of each watched process (or of its live children: a prefork pool)."""
    spent = {}
    for name, (pid, children) in watched.items():
        root = psutil.Process(pid)
        procs = root.children(recursive=True) if children else [root]
        spent[name] = sum(t.user + t.system for t in (p.cpu_times() for p in procs))
    return spent


def cpu_per_job(watched: Watched, jobs: int, run: Callable[[], dict[str, float]]) -> dict[str, Any]:
    """`run`'s figures, with the CPU milliseconds per job each watched process spent in it."""
    before = cpu_seconds(watched)
    figures: dict[str, Any] = run()
    after = cpu_seconds(watched)
    figures["cpu_ms"] = {name: (after[name] - before[name]) * 1000 / jobs for name in watched}
    return figures


def in_threads(clients: int, work: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class EndedTap(UserTap):
    """The jobs of one principal that have ended, as its channel announces them: how a client
    waiting for its results learns of them, as Celery's `AsyncResult.get()` is told by the
    result backend's pub/sub. (Reading the records every 0.1 s saw a round's last job up to a
    tenth of a second late, against a round of about a second.)"""

    MARKS = ('"type":"job.succeeded"', '"type":"job.failed"', '"type":"job.cancelled"')

    def __init__(self, client: redis.Redis, principal_id: str) -> None:
        self.ended: set[str] = set()
        self.changed = threading.Condition()
        super().__init__(client, principal_id)

    def on_message(self, data: str) -> None:
        # Only the terminal events are parsed: the bench shares the CPU it measures.
        if any(mark in data for mark in self.MARKS):
            with self.changed:
                self.ended.add(json.loads(data)["data"]["job_id"])
                self.changed.notify_all()

    def wait(self, ids: list[str], timeout: float) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: self.ended.issuperset(ids), timeout):
                raise AssertionError(f"{len(set(ids) - self.ended)} jobs did not end in time")


def ours(settings: Settings, url: str, jobs: int, clients: int) -> dict[str, float]:
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    created = [create_key(client, settings.secret("key_secret"), f"c{i}") for i in range(clients)]
    taps = [EndedTap(client, info.principal_id) for _, info in created]
    submitted: list[float] = []
    start = time.perf_counter()

    def lane(i: int) -> None:
        ids = []
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {created[i][0]}"}, timeout=60
        ) as http:
            for _ in range(jobs // clients):
                response = http.post("/jobs", files={"file": ("tiny.csv", CSV)})
                response.raise_for_status()
                ids.append(response.json()["id"])
        submitted.append(time.perf_counter())
        taps[i].wait(ids, 300)

    try:
        in_threads(clients, lane)
    finally:
        for tap in taps:
            tap.close()
    return {
        "per_second": jobs // clients * clients / (time.perf_counter() - start),
        "submits_per_second": jobs // clients * clients / (max(submitted) - start),
    }


#: What one job costs besides its work, step by step (wall-clock marks on one machine): the
#: first four are contiguous and add up to the total; the POST's answer overlaps the second.
STEPS = (
    ("upload received, record created", "sent", "created_at"),
    ("queued -> a worker starts it (task sent, broker, pickup)", "created_at", "started_at"),
    ("running: profile 3 rows, commit result and events", "started_at", "finished_at"),
    ("finished -> the client sees it (polling every 5 ms)", "finished_at", "seen"),
    ("total, submit -> result seen", "sent", "seen"),
    ("POST /jobs answered (overlaps the queue wait)", "sent", "answered"),
)


def steps(settings: Settings, url: str, jobs: int) -> dict[str, float]:
    """Median ms of each step, from one client submitting one job at a time (no queueing): the
    marks are the client's clock and the record's `created_at`/`started_at`/`finished_at`."""
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    key, _ = create_key(client, settings.secret("key_secret"), "steps")
    marks: list[dict[str, float]] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
        for _ in range(jobs):
            sent = time.time()
            response = http.post("/jobs", files={"file": ("tiny.csv", CSV)})
            answered = time.time()
            response.raise_for_status()
            job = job_key(response.json()["id"])
            while client.hget(job, "status") not in TERMINAL:
                time.sleep(0.005)
            seen = time.time()
            record = client.hgetall(job)
            marks.append(
                {
                    "sent": sent,
                    "answered": answered,
                    "seen": seen,
                    **{k: float(record[k]) for k in ("created_at", "started_at", "finished_at")},
                }
            )
    return {
        name: statistics.median((m[end] - m[begin]) * 1000 for m in marks)
        for name, begin, end in STEPS
    }


def stock(jobs: int, clients: int) -> dict[str, float]:
    from bench.noop import make_app

    apps = [make_app() for _ in range(clients)]
    submitted: list[float] = []
    start = time.perf_counter()

    def lane(i: int) -> None:
        results = [apps[i].send_task("bench.noop") for _ in range(jobs // clients)]
        submitted.append(time.perf_counter())
        for result in results:
            result.get(timeout=300)

    in_threads(clients, lane)
    return {
        "per_second": jobs // clients * clients / (time.perf_counter() - start),
        "submits_per_second": jobs // clients * clients / (max(submitted) - start),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=400, help="per side and round")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=2, help="of each side's worker")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--step-jobs", type=int, default=30, help="one at a time, for the steps")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jobcast-bench-jobs-"))
    _, redis_proc, settings = start_private_redis(tmp)
    os.environ["JOBCAST_REDIS_URL"] = settings.broker_url  # for bench.noop's client side
    procs: list[Proc] = []
    best: dict[str, dict[str, Any]] = {}
    try:
        url, procs = start(settings, tmp, args.concurrency)
        stock(args.clients, args.clients)  # warm-up of both sides, not counted
        ours(settings, url, args.clients, args.clients)
        api, files, noop = (proc.popen.pid for proc in procs)
        ours_cpu: Watched = {
            "api": (api, False),
            "files worker, main process": (files, False),
            "files worker, pool processes": (files, True),
            "Redis": (redis_proc.pid, False),
            CLIENTS: (os.getpid(), False),
        }
        stock_cpu: Watched = {
            "worker, main process": (noop, False),
            "worker, pool processes": (noop, True),
            "Redis": (redis_proc.pid, False),
            CLIENTS: (os.getpid(), False),
        }
        counted = args.jobs // args.clients * args.clients
        sides: dict[str, Callable[[], dict[str, Any]]] = {
            "ours": lambda: cpu_per_job(
                ours_cpu, counted, lambda: ours(settings, url, args.jobs, args.clients)
            ),
            "stock": lambda: cpu_per_job(
                stock_cpu, counted, lambda: stock(args.jobs, args.clients)
            ),
        }
        for _ in range(args.rounds):  # alternated: a busy moment hits both sides alike
            for name, run in sides.items():
                figures = run()
                if figures["per_second"] > best.get(name, {}).get("per_second", 0.0):
                    best[name] = figures
        best["steps"] = steps(settings, url, args.step_jobs)
    finally:
        for proc in procs:
            proc.stop()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"tiny file jobs end to end ({args.clients} clients): {best['ours']['per_second']:,.0f} "
        f"jobs/s (submits {best['ours']['submits_per_second']:,.0f}/s); stock Celery no-op + "
        f"result backend: {best['stock']['per_second']:,.0f} tasks/s "
        f"= {best['ours']['per_second'] / best['stock']['per_second']:.2f}x"
    )
    print("one tiny job at a time, median per step:")
    for name, ms in best["steps"].items():
        print(f"  {name:58} {ms:7.1f} ms")
    for side in ("ours", "stock"):
        print(f"CPU per job, {side} (best round):")
        for name, ms in best[side]["cpu_ms"].items():
            print(f"  {name:58} {ms:7.2f} ms")
    if args.json:
        args.json.write_text(json.dumps(best))


if __name__ == "__main__":
    main()
