"""Between batches the task asks whether its job still runs, unless a progress commit has just
found it running (no batch ran since): that answer stands for the ask that follows."""

from __future__ import annotations

from jobcast.events import CommitResult
from jobcast.jobs.records import CANCELLING, RUNNING
from workers.files.state import RunningCheck


class Job:
    """A job's status as the check reads it, reads counted."""

    def __init__(self, status: str) -> None:
        self.current, self.reads = status, 0

    def status(self) -> str:
        self.reads += 1
        return self.current


def test_a_progress_commit_that_found_the_job_running_answers_the_next_ask_only() -> None:
    job = Job(RUNNING)
    running = RunningCheck(job)  # type: ignore[arg-type]
    running.committed(CommitResult(committed=True, seqs=["1-0"]))
    assert running.still()
    assert job.reads == 0
    assert running.still()  # a batch ran since: asked again
    assert job.reads == 1


def test_a_cancel_is_seen_at_the_ask_after_a_refused_progress_commit() -> None:
    job = Job(RUNNING)
    running = RunningCheck(job)  # type: ignore[arg-type]
    running.committed(CommitResult(committed=True, seqs=["1-0"]))
    assert running.still()
    job.current = CANCELLING
    running.committed(CommitResult(committed=False, seqs=[], current=CANCELLING))
    assert not running.still()
    assert job.reads == 1
