"""A file several times the memory budget is profiled with the worker's peak RSS under budget.

The peak is read from outside, as the kernel keeps it (`VmHWM` of each pool process), not taken
from the worker's own report.
"""

from __future__ import annotations

import threading
from pathlib import Path

import psutil
import pytest
import redis

from tests.conftest import StartWorker
from tests.workers.files.support import JobsClient, await_terminal, write_large_csv

BUDGET = 256 * 1024**2


class PoolPeak:
    """The highest resident size the kernel reports for any pool process of a worker.

    `VmHWM` is the kernel's own high-water mark, so polling it misses no peak between polls;
    the worker resets it when a job starts, which only lowers what is seen.
    """

    def __init__(self, worker_pid: int) -> None:
        self.worker = psutil.Process(worker_pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> PoolPeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self._sample()

    def _sample(self) -> None:
        for child in self.worker.children():
            try:
                status = Path(f"/proc/{child.pid}/status").read_text()
            except FileNotFoundError:  # a pool process that just ended
                continue
            line = next((ln for ln in status.splitlines() if ln.startswith("VmHWM:")), None)
            if line is not None:  # a zombie, ended but not yet reaped, has no memory lines
                self.peak = max(self.peak, int(line.split()[1]) * 1024)


@pytest.mark.slow
@pytest.mark.timeout(360)
def test_file_four_times_the_budget_is_profiled_under_the_budget(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    worker = start_worker(queues="files", env={"JOBCAST_JOB_MEMORY_BUDGET": str(BUDGET)})
    path = write_large_csv(tmp_path / "large.csv", 4 * BUDGET)
    assert path.stat().st_size >= 4 * BUDGET

    with PoolPeak(worker.popen.pid) as pool:
        job_id = jobs.submit_ok(path)
        path.unlink()  # the api stored its own copy; keep the disk footprint down
        ended = await_terminal(redis_client, job_id, timeout=300)
        assert ended["type"] == "job.succeeded", ended.get("data")

    result = jobs.result(job_id)
    assert result["bytes_read"] >= 4 * BUDGET
    assert 0 < pool.peak < BUDGET, pool.peak / 2**20
    # The job's own report agrees: under the budget, and no higher than the kernel saw.
    assert result["peak_rss_bytes"] <= pool.peak, (result["peak_rss_bytes"], pool.peak)
    amount = next(c for c in result["profile"] if c["name"] == "amount")
    assert amount["quantiles_exact"] is False  # the budget forced the documented estimate
