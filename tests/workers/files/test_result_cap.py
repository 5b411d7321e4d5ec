"""A job's result is kept whole in its Redis record, which every principal's writes share: one
past `JOBCAST_JOB_MAX_RESULT_BYTES` fails the job instead of being stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobcast.jobs.params import JobParams
from jobcast.rediskeys import job_key
from tests.conftest import SharedStack, module_stack
from tests.workers.files.support import SMALL_BATCHES, JobsClient, await_terminal
from workers.files.errors import FileJobError
from workers.files.outcomes import stored_result, with_figures
from workers.files.runner import Hooks, run_job

CAP = 64 * 1024
capped_stack = module_stack(
    worker_queues="files", worker_env={"JOBCAST_JOB_MAX_RESULT_BYTES": str(CAP)}
)

#: 100 groups keyed by 2 KB values: a ~200 KB aggregate from a ~200 KB file.
LONG_KEYS = "key,v\n" + "".join(f"{'k' * 2000}{i},1\n" for i in range(100))
BY_KEY = json.dumps({"operation": "aggregate", "group_by": ["key"], "metrics": {"v": ["sum"]}})


@pytest.fixture
def jobs(capped_stack: SharedStack) -> Iterator[JobsClient]:
    client = JobsClient(capped_stack.url, capped_stack.new_key("mallory")[0])
    yield client
    client.http.close()


def test_a_result_over_the_cap_fails_the_job_and_nothing_of_it_is_stored(
    capped_stack: SharedStack, jobs: JobsClient, tmp_path: Path
) -> None:
    # It was stored whole: 10,000 groups of 256 KiB keys, one upload, filled Redis for all.
    path = tmp_path / "long_keys.csv"
    path.write_text(LONG_KEYS)
    job_id = jobs.submit_ok(path, BY_KEY)
    final = await_terminal(capped_stack.redis, job_id)
    assert final["type"] == "job.failed", final
    error = jobs.job(job_id)["error"]
    assert error["code"] == "result_too_large"
    assert f"{CAP} bytes" in error["message"]
    assert not capped_stack.redis.hget(job_key(job_id), "result")


def test_a_result_under_the_cap_is_kept(
    capped_stack: SharedStack, jobs: JobsClient, tmp_path: Path
) -> None:
    path = tmp_path / "short_keys.csv"
    path.write_text("key,v\na,1\nb,2\na,3\n")
    job_id = jobs.submit_ok(path, BY_KEY)
    assert await_terminal(capped_stack.redis, job_id)["type"] == "job.succeeded"
    assert jobs.http.get(f"/jobs/{job_id}/result").json()["groups"] == 2


def test_the_cap_counts_the_result_as_its_record_stores_it(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(LONG_KEYS)
    params = JobParams.model_validate(json.loads(BY_KEY))
    made = run_job(path, params, SMALL_BATCHES, Hooks(), tmp_path / "out")
    result = with_figures(made, 0.25, 0.125, 1 << 20)  # what the task stores: figures too
    stored = len(json.dumps(result, separators=(",", ":")))
    kept = stored_result(result, stored)  # exactly at the cap: kept, as the record keeps it
    assert json.loads(kept) == result
    assert len(kept) == stored
    with pytest.raises(FileJobError) as refused:
        stored_result(result, stored - 1)
    assert refused.value.code == "result_too_large"
