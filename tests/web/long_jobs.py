"""A long file job caught still running, with the files worker paused, for a browser test that
must act on a running job (cancel it, restart the api under it, watch its progress).

Seeing `running` is a race the test can lose without anything being wrong: on a fast machine a
1,000,000-row job runs in half a second, and on a loaded one the test may get no CPU while it
does (load 9 on 2 cores: a job received at 31.325 had succeeded at 31.809, before the test
first looked). A bigger file only moves the race and costs every run its CPU. So a job that
ended before the test could act on it is a precondition not met, not the behaviour under test
failing: another one is submitted, a few times at most. Once seen running the worker is paused
(SIGSTOP) and the job read again: nothing can end it then, so the test acts on a running job
(one with rows left to read, see `MID_JOB_PERCENT`)."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from jobcast.jobs.records import RUNNING, TERMINAL
from jobcast.rediskeys import job_key
from tests.web.conftest import WebStack

#: Rows of a file whose job should still be running when a test acts on it: about 21 MB, some
#: 330 batches at the web stack's batch size, half a second or more of work. Long enough that
#: a test usually catches it at the first try, short enough to cost little when it does not.
LONG_JOB_ROWS = 1_000_000

#: Jobs a test submits before it gives up on catching one running: each miss needs the test to
#: be kept off the CPU for the whole job, so three in a row say the machine (or the job's speed)
#: is far from what these tests assume, which is worth a failure.
LONG_JOB_TRIES = 3

#: How far a paused job may have read and still surely have rows left: its record lags the
#: worker by up to a progress interval (10 ms, a few % of a long job), and a job caught with all
#: rows read was cancelled "after 1,000,000 rows" and sent no more progress.
MID_JOB_PERCENT = 90.0

#: Says when a job ended before the test caught it (pytest shows it with a failure, or live with
#: `--log-cli-level=INFO`): retries that become the rule mean the job is now too short.
log = logging.getLogger(__name__)

#: A job's Redis hash as the test reads it (decoded strings).
Record = dict[str, str]


def is_running(record: Record) -> bool:
    return record.get("status") == RUNNING


def read_percent(record: Record) -> float:
    return float(json.loads(record.get("progress") or "{}").get("percent", 0))


def mid_job(record: Record) -> bool:
    """Running with rows still to read: a cancel stops it short, more progress is to come."""
    return is_running(record) and read_percent(record) < MID_JOB_PERCENT


def wait_record(
    stack: WebStack, job_id: str, wanted: Callable[[Record], bool], timeout: float = 30
) -> Record:
    """The job's record once `wanted` holds or the job has ended, whichever comes first: a
    wait for a state the job has run past returns at once instead of timing out."""
    deadline = time.monotonic() + timeout
    while True:
        record: Record = stack.redis.hgetall(job_key(job_id))
        if wanted(record) or record.get("status") in TERMINAL:
            return record
        assert time.monotonic() < deadline, f"job {job_id} never got there: {record}"
        time.sleep(0.005)


def still_mid_job(stack: WebStack, job_id: str) -> bool:
    return mid_job(stack.redis.hgetall(job_key(job_id)))


def paused_mid_job(stack: WebStack, job_id: str) -> bool:
    """Pauses the files worker and says whether the job is still mid-job; if it is not, the
    worker runs again (nothing is left to hold still)."""
    stack.pause_files_worker()
    if still_mid_job(stack, job_id):
        return True
    stack.resume_files_worker()
    return False


def _caught(stack: WebStack, job_id: str, while_running: Callable[[str], object]) -> bool:
    if not is_running(wait_record(stack, job_id, is_running)):
        return False  # ended before the test saw it start
    while_running(job_id)
    return paused_mid_job(stack, job_id)


@contextmanager
def caught_running(
    stack: WebStack,
    submit: Callable[[int], str],
    while_running: Callable[[str], object] = lambda job_id: None,
) -> Iterator[str]:
    """A job from `submit(attempt)` seen running, then `while_running(job_id)` done with the
    worker still running, then the worker paused with the job still `mid_job`: so all of
    `while_running` happened on a running job. The worker runs again after the block.

    `while_running` must return, not fail, if the job ends under it (a `wait_record`, say):
    the job is then found ended at the pause and another is submitted."""
    for attempt in range(LONG_JOB_TRIES):
        job_id = submit(attempt)
        if _caught(stack, job_id, while_running):
            break
        log.info(
            "job %s ended (or read its rows) before it was caught (try %d)", job_id, attempt + 1
        )
    else:
        raise AssertionError(f"{LONG_JOB_TRIES} long jobs all ended before the test caught one")
    try:
        yield job_id
    finally:
        stack.resume_files_worker()


def attempt_copy(path: Path, attempt: int) -> Path:
    """`path` for a first attempt, and a copy named after the attempt for a later one: the page
    tells an upload's job by its file's name, so each job gets its own."""
    if not attempt:
        return path
    return Path(shutil.copyfile(path, path.with_stem(f"{path.stem}-{attempt}")))
