"""File-job records in Redis and the commits that change them, shared by the api and workers.

A job is a Redis hash owned by a principal. Every state change goes through `transition`: one
`jobcast.events.Commit` that checks the current status, updates the hash, keeps the job's place
in the index of unfinished jobs (`UNFINISHED_JOBS_KEY`) and announces the change on `job.{id}`
and `user.{owner}`. This module imports no web or data library, so both
sides can use it.
"""

from __future__ import annotations

import json
import time
from enum import StrEnum
from typing import Any

from jobcast.events import Commit, Event, Membership, job_channel, user_channel
from jobcast.rediskeys import UNFINISHED_JOBS_KEY, job_key
from jobcast.tallies import JOBS_KEY, Tally, label


class JobStatus(StrEnum):
    """A job's states: `queued -> running -> succeeded | failed | cancelled`, with `retrying`
    (after a transient failure) and `cancelling` (a running job asked to stop)."""

    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Short names for the members, as the state machine's code reads them.
QUEUED, RUNNING, RETRYING = JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.RETRYING
CANCELLING, SUCCEEDED = JobStatus.CANCELLING, JobStatus.SUCCEEDED
FAILED, CANCELLED = JobStatus.FAILED, JobStatus.CANCELLED
TERMINAL = (SUCCEEDED, FAILED, CANCELLED)
#: States a task must still move on: the jobs `UNFINISHED_JOBS_KEY` holds.
UNFINISHED = (QUEUED, RUNNING, RETRYING, CANCELLING)
#: States a worker may (re)start from: a redelivered task finds `running` left by a dead process.
STARTABLE = (QUEUED, RETRYING, RUNNING)

#: States an `error` explains (why it failed; while retrying, why it runs again). Every other
#: status change clears the record's error and says so in its event: a job that succeeds after a
#: retry or a quarantine carries no error of its earlier runs (its `attempt` keeps the count).
ERRED = (FAILED, RETRYING)

#: Fields stored as JSON text in the hash.
JSON_FIELDS = ("params", "progress", "result", "error")


def events_for(job_id: str, owner: str, type_: str, data: dict[str, Any]) -> list[Event]:
    """The same event on the job's channel and on its owner's channel."""
    body = {"job_id": job_id, **data}
    return [Event(job_channel(job_id), type_, body), Event(user_channel(owner), type_, body)]


def encode_json(value: Any) -> str:
    """A structured field (params, progress, result, error) as the record stores it."""
    return json.dumps(value, separators=(",", ":"), default=str)


class EncodedJson(str):
    """A structured field already as the record stores it (`encode_json`'s text): encoded once
    by whoever had to measure it (a job's result, against its caps), then stored as is."""


def encode_fields(fields: dict[str, Any]) -> dict[str, str]:
    """Hash fields as strings; structured values as JSON (unless `EncodedJson` already)."""
    out: dict[str, str] = {}
    for name, value in fields.items():
        if name in JSON_FIELDS:
            out[name] = value if isinstance(value, EncodedJson) else encode_json(value)
        else:
            out[name] = "" if value is None else str(value)
    return out


def decode_record(raw: dict[str, str]) -> dict[str, Any]:
    """A record as read back from Redis, JSON fields parsed."""
    record: dict[str, Any] = dict(raw)
    for name in JSON_FIELDS:
        text = raw.get(name)
        record[name] = json.loads(text) if text else None
    return record


def transition(
    job_id: str,
    owner: str,
    *,
    expect: tuple[str, ...],
    fields: dict[str, Any],
    event: str,
    data: dict[str, Any] | None = None,
    ttl: int,
    tallies: tuple[Tally, ...] = (),
    releases: tuple[tuple[str, str], ...] = (),
) -> Commit:
    """A checked state change: applied only if the job's status is one of `expect`, and
    counted (`jobcast.tallies`) when it is a submit or an outcome; `releases` are hash fields
    it deletes when it applies (see `Commit`)."""
    status = fields.get("status")
    if status and status not in ERRED:
        fields, data = {**fields, "error": None}, {**(data or {}), "error": None}
    payload = {"status": status, **(data or {})} if status else dict(data or {})
    return Commit(
        record_key=job_key(job_id),
        fields=encode_fields(fields),
        events=events_for(job_id, owner, event, payload),
        expect_field="status",
        expect_values=expect,
        record_ttl=ttl,
        tallies=(*counted(event, fields), *tallies),
        releases=releases,
        memberships=unfinished_membership(job_id, status),
    )


def ended_progress(status: str | None, progress: dict[str, Any] | None) -> dict[str, Any] | None:
    """The progress a job in `status` shows: one that ended other than succeeded has no time
    left to estimate (its last estimate would say it is still going), nor has one waiting to
    retry (its next attempt starts from the beginning)."""
    if progress is None or status not in (FAILED, CANCELLED, RETRYING):
        return progress
    return {**progress, "eta_seconds": None}


def unfinished_membership(job_id: str, status: str | None) -> tuple[Membership, ...]:
    """The job's entry in the unfinished index as a change to `status` leaves it (a change
    that sets no status leaves it as it is)."""
    if not status:
        return ()
    return (Membership(UNFINISHED_JOBS_KEY, job_id, present=status in UNFINISHED),)


#: The job counter each event adds to (`job.failed` also names its error code).
_COUNTED_EVENTS = {
    "job.queued": "submitted",
    "job.succeeded": "succeeded",
    "job.failed": "failed",
    "job.cancelled": "cancelled",
}


def counted(event: str, fields: dict[str, Any]) -> tuple[Tally, ...]:
    name = _COUNTED_EVENTS.get(event)
    if name is None:
        return ()
    if name == "failed":
        name = label(name, str((fields.get("error") or {}).get("code") or "unknown"))
    return (Tally(JOBS_KEY, name),)


def now() -> float:
    return round(time.time(), 3)
