"""A file job's record as the worker sees it: read it, and commit its state changes with events."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis

from jobcast.events import Commit, CommitResult, commit
from jobcast.jobs.errors import public_error
from jobcast.jobs.records import (
    CANCELLED,
    CANCELLING,
    FAILED,
    RETRYING,
    RUNNING,
    STARTABLE,
    SUCCEEDED,
    TERMINAL,
    JobStatus,
    decode_record,
    ended_progress,
    now,
    transition,
)
from jobcast.quotas import upload_held
from jobcast.rediskeys import job_key
from jobcast.tallies import JOB_DURATION_BUCKETS, JOB_DURATION_KEY, Tally, label, observations
from workers.files.fairness import SlotClaim, claim_and_commit
from workers.files.runner import Hooks, Progress
from workers.soft_limit import SoftLimit

#: Terminal status -> the event that announces it.
TERMINAL_EVENTS = {SUCCEEDED: "job.succeeded", FAILED: "job.failed", CANCELLED: "job.cancelled"}


@dataclass
class JobState:
    """Commits for one job, each checked against the status it expects to find."""

    client: redis.Redis
    job_id: str
    owner: str
    ttl: int
    operation: str = ""
    #: When the current attempt started (None: it never did); an outcome's run time is from it.
    started_at: float | None = None
    #: The upload's entry in its owner's quota ledger (hash key, field); None: none stored.
    upload_quota: tuple[str, str] | None = None

    @classmethod
    def load(
        cls, client: redis.Redis, job_id: str, ttl: int
    ) -> tuple[JobState, dict[str, Any]] | None:
        raw: dict[str, str] = client.hgetall(job_key(job_id))  # type: ignore[assignment]
        return cls.of_record(client, job_id, ttl, raw)

    @classmethod
    def of_record(
        cls, client: redis.Redis, job_id: str, ttl: int, raw: dict[str, str]
    ) -> tuple[JobState, dict[str, Any]] | None:
        """The job as its record `raw` (its hash, as read) shows it; None if there is none."""
        if not raw:
            return None
        started = float(raw["started_at"]) if raw.get("started_at") else None
        quota = upload_held(raw["owner"], raw["stored"]) if raw.get("stored") else None
        state = cls(client, job_id, raw["owner"], ttl, raw.get("operation", ""), started, quota)
        return state, decode_record(raw)

    def status(self) -> str | None:
        key = job_key(self.job_id)
        value: str | None = self.client.hget(key, "status")  # type: ignore[assignment]
        return value

    def _change(
        self,
        expect: tuple[str, ...],
        fields: dict[str, Any],
        event: str,
        data: dict[str, Any] | None = None,
        tallies: tuple[Tally, ...] = (),
        releases: tuple[tuple[str, str], ...] = (),
    ) -> Commit:
        return transition(
            self.job_id,
            self.owner,
            expect=expect,
            fields=fields,
            event=event,
            data=data,
            ttl=self.ttl,
            tallies=tallies,
            releases=releases,
        )

    def start(self, attempt: int, size: int, slot: SlotClaim | None = None) -> CommitResult | None:
        """Move the job to running; with `slot`, only once that slot is claimed, in the same
        round trip: None when the job must wait for it (nothing changed)."""
        moment = now()
        fields = {
            "status": RUNNING,
            "started_at": moment,
            "attempt": attempt,
            "progress": starting_progress(size),  # as `job.started` says: nothing read yet
        }
        change = self._change(STARTABLE, fields, "job.started", {"attempt": attempt})
        if slot is None:
            started: CommitResult | None = commit(self.client, change)
        else:
            started = claim_and_commit(self.client, slot, change)
        if started is not None and started.committed:
            self.started_at = moment
        return started

    def _run_time(self, status: str, finished: float) -> tuple[Tally, ...]:
        """The outcome's run time for the duration histogram, when the job ever started."""
        if self.started_at is None:
            return ()
        labels = label(self.operation or "unknown", status)
        seconds = [finished - self.started_at]
        return tuple(observations(JOB_DURATION_KEY, labels, JOB_DURATION_BUCKETS, seconds))

    def progress(self, progress: dict[str, Any]) -> CommitResult:
        return commit(
            self.client, self._change((RUNNING,), {"progress": progress}, "job.progress", progress)
        )

    def retrying(self, attempt: int, error: dict[str, str], delay: float) -> CommitResult:
        fields = {"status": RETRYING, "attempt": attempt, "error": error}
        data = {"retry_in": delay, "error": public_error(error)}
        return commit(self.client, self._change((RUNNING,), fields, "job.progress", data))

    def finish(
        self,
        status: JobStatus,
        *,
        error: dict[str, str] | None = None,
        expect: tuple[str, ...] = (RUNNING,),
        data: dict[str, Any] | None = None,
        progress: dict[str, Any] | None = None,
    ) -> CommitResult:
        """Commit the outcome (one that keeps a result: `outcome`, then `commit_with_result`)."""
        change = self.outcome(status, error=error, expect=expect, data=data, progress=progress)
        return commit(self.client, change)

    def outcome(
        self,
        status: JobStatus,
        *,
        result: Any = None,
        error: dict[str, str] | None = None,
        expect: tuple[str, ...] = (RUNNING,),
        data: dict[str, Any] | None = None,
        progress: dict[str, Any] | None = None,
    ) -> Commit:
        """The change that ends the job in `status`, for `finish` to commit."""
        fields: dict[str, Any] = {"status": status, "finished_at": now()}
        if progress is not None:
            fields["progress"] = progress
        data = dict(data or {})
        if result is not None:
            fields["result"] = result
        if error is not None:
            # The record keeps the full text for operators; the event goes to the owner, who sees
            # what the REST view shows (no server paths or exception text).
            fields["error"], data["error"] = error, public_error(error)
        run_time = self._run_time(status, fields["finished_at"])
        # The upload leaves its owner's quota with the outcome: a client that sees it and sends
        # its next file at once is not refused for the bytes of this one, still being removed.
        releases = (self.upload_quota,) if self.upload_quota else ()
        event = TERMINAL_EVENTS[status]
        return self._change(expect, fields, event, data, run_time, releases)

    def cancelled(self, progress: dict[str, Any] | None = None) -> CommitResult:
        """Ended cancelled; with `progress` (stopped mid-read) the record keeps how far it got and
        `job.cancelled` carries the same."""
        if progress is None:
            return self.finish(CANCELLED, expect=(CANCELLING, RUNNING))
        stopped = ended_progress(CANCELLED, progress)
        return self.finish(CANCELLED, expect=(CANCELLING, RUNNING), data=stopped, progress=stopped)


def progress_fields(p: Progress) -> dict[str, Any]:
    """The record's `progress` (and a `job.progress` event's data) for the runner's `p`."""
    return {
        "phase": p.phase,
        "bytes_done": p.bytes_done,
        "bytes_total": p.bytes_total,
        "rows": p.rows,
        "percent": p.percent,
        "eta_seconds": p.eta_seconds,
    }


def starting_progress(size: int) -> dict[str, Any]:
    """The record's progress as its attempt starts (what a first progress event said before
    progress waited for its interval: see `ProgressThrottle`)."""
    return {
        "phase": "scan",
        "bytes_done": 0,
        "bytes_total": size,
        "rows": 0,
        "percent": 0.0,
        "eta_seconds": None,
    }


def completed_progress(size: int, rows: int) -> dict[str, Any]:
    """The record's progress once the job succeeded: all of it, so a poller sees 100 % (scan
    progress stops short of 100, which only the outcome may claim)."""
    return {
        "phase": "done",
        "bytes_done": size,
        "bytes_total": size,
        "rows": rows,
        "percent": 100.0,
        "eta_seconds": 0.0,
    }


class ProgressThrottle:
    """Lets a progress commit through at most once per `interval` seconds, and only when its
    percent went up (so clients see it strictly increase).

    The job's start counts as its first one (`job.started` says nothing is read yet, and the
    record holds `starting_progress`). A final one (every row read, the result being made) goes
    through whatever the interval says, unless the whole job has run within one interval: its
    outcome follows at once. So a job shorter than an interval commits no progress at all: two
    commits of a tiny job's four, each a script that appends and publishes two events.
    """

    def __init__(self, interval: float, started: float | None = None) -> None:
        self.interval = interval
        self.started = self.last = time.monotonic() if started is None else started
        self.percent = -1.0

    def ready(self, percent: float = 0.0, final: bool = False) -> bool:
        moment = time.monotonic()
        due = moment - self.last >= self.interval
        if final:
            due = moment - self.started >= self.interval
        if percent <= self.percent or not due:
            return False
        self.last, self.percent = moment, percent
        return True


class RunningCheck:
    """Whether the job still runs, asked between batches (a cancel stops it there).

    A progress commit that found the job running answers the next ask, when no batch ran in
    between: no round trip of its own. A cancel landing in between is seen at the ask after,
    or by the outcome's commit, as if it had landed just after this one.
    """

    def __init__(self, state: JobState, confirmed: bool = False) -> None:
        """`confirmed`: a commit just found (or made) the job running, e.g. its start."""
        self.state = state
        self._confirmed = confirmed

    def committed(self, commit: CommitResult) -> None:
        """A progress commit was tried: committed, it found the job running."""
        self._confirmed = commit.committed

    def still(self) -> bool:
        if self._confirmed:
            self._confirmed = False  # a batch runs next: the one after asks again
            return True
        return self.state.status() == RUNNING


def is_terminal(status: str | None) -> bool:
    return status in TERMINAL


def job_hooks(state: JobState, progress_interval: float, soft_limit: SoftLimit) -> Hooks:
    """What the runner calls between batches: stop when the job is no longer running (or past
    its soft limit), and commit throttled progress."""
    throttle = ProgressThrottle(progress_interval)
    running = RunningCheck(state, confirmed=True)  # the start has just committed `running`

    def should_stop() -> bool:
        # Between batches: a soft limit whose exception a library swallowed still ends the job
        # here, and closing the batches on the way out stops the read-ahead thread.
        soft_limit.check()
        return not running.still()

    def progress(p: Progress) -> None:
        if throttle.ready(p.percent, p.final):
            running.committed(state.progress(progress_fields(p)))

    return Hooks(should_stop=should_stop, progress=progress)
