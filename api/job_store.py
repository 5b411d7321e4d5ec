"""File-job records as the api reads and changes them (redis.asyncio), with ownership checks.

Another principal's job answers exactly like a missing one (404). A job whose record has expired
answers 410 while its tombstone lives (see `jobcast.tombstones.TOMBSTONE_EXTRA_SECONDS`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from api.auth import OwnedReader
from api.errors import ApiError
from api.ownership import load_owned, require_id
from api.uploads import Upload
from jobcast.events import commit_async, job_channel, queue_commit
from jobcast.jobs.ids import JOB_ID
from jobcast.jobs.params import JobParams
from jobcast.jobs.records import (
    CANCELLED,
    CANCELLING,
    QUEUED,
    RUNNING,
    TERMINAL,
    decode_record,
    now,
    transition,
)
from jobcast.jobs.views import public_view
from jobcast.keys import Principal
from jobcast.owned_index import (
    LIST_SCAN_LIMIT,
    OwnedIndex,
    Position,
    list_owned,
    newest_first,
    position_of,
)
from jobcast.quotas import artifact_entry, result_entry, upload_held
from jobcast.record_caps import Companions, RecordKind, keep_under
from jobcast.rediskeys import (
    celery_result_key,
    job_idempotency_key,
    job_key,
    jobs_of_key,
    quota_ledger_key,
    stream_key,
    tombstone_key,
)
from jobcast.schemas.jobs import Job
from jobcast.tombstones import TOMBSTONE_EXTRA_SECONDS

#: What a listing reads of each record: the view's fields and the owner, never the result (up
#: to the result cap each, and a page holds 200).
LISTED_FIELDS = (*(name for name in Job.model_fields if name != "links"), "owner")


def _dropped_with_job(owner: str, job_id: str, _fields: list[str | None]) -> Companions:
    # Its event stream (kept a week, larger than the record) and its Celery result go too; its
    # converted file stops counting against the owner's quota (the files sweep removes the
    # file once no record names it), nor does its kept result. An Idempotency-Key it took
    # names it until the key expires: a retry with that key answers as for an expired job.
    return Companions(
        keys=[stream_key(job_channel(job_id)), celery_result_key(job_id)],
        hash_fields=[
            (quota_ledger_key(owner), artifact_entry(job_id)),
            (quota_ledger_key(owner), result_entry(job_id)),
        ],
    )


#: Jobs as `jobcast.record_caps` trims them (`quota_job_records`).
JOB_RECORDS = RecordKind(job_key, frozenset(s.value for s in TERMINAL), (), _dropped_with_job)


async def trim_records(redis: aioredis.Redis, principal: Principal, cap: int) -> None:
    """Past `cap` job records, drop the principal's oldest ended ones (`jobcast.record_caps`)."""
    await keep_under(redis, jobs_of_key(principal.id), principal.id, cap, JOB_RECORDS)


def over_cap(cap: int, held: int) -> bool:
    """Whether `held` records are past the cap of `cap` (0: no cap)."""
    return 0 < cap < held


def new_job_id() -> str:
    """A new id of the shape `jobcast.jobs.ids.JOB_ID` checks."""
    return "j_" + secrets.token_hex(12)


def job_view(record: dict[str, Any]) -> Job:
    """The public view as the API's `Job` model."""
    return Job.model_validate(public_view(record))


def fingerprint(upload: Upload, params: JobParams) -> str:
    text = upload.sha256 + json.dumps(params.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


#: Queues commands on the MULTI that creates a new job (`create_job`).
WithCreation = Callable[[aioredis.client.Pipeline], Awaitable[None]]


@dataclass(frozen=True)
class Claim:
    """An Idempotency-Key a new job is to take, and what the upload and params hash to."""

    key: str
    fingerprint: str


async def create_job(
    redis: aioredis.Redis,
    principal: Principal,
    job_id: str,
    upload: Upload,
    params: JobParams,
    claim: Claim | None,
    retention: int,
    with_creation: WithCreation | None = None,
    record_cap: int = 0,
) -> tuple[dict[str, Any], bool]:
    """(the job, whether it is new): a new job `job_id`, or the one `claim.key` already names
    (same file and params, else 422 `idempotency_key_reused`). `with_creation` queues more
    commands on the MULTI that creates a new job: they apply with it, or not at all. Past
    `record_cap` job records (0: no cap) a new job's owner loses its oldest ended ones."""
    created_at = now()
    fields = {
        "id": job_id,
        "owner": principal.id,
        # What Flower shows of the job's task, when the reconciler sends it again.
        "owner_name": principal.name,
        "status": QUEUED,
        "operation": params.operation,
        "params": params.model_dump(mode="json"),
        "filename": upload.filename,
        "size": upload.size,
        "stored": upload.stored,
        "created_at": created_at,
        "attempt": 0,
        "idempotency_key": claim.key if claim else "",
    }
    change = transition(
        job_id,
        principal.id,
        expect=("",),
        fields=fields,
        event="job.queued",
        data={"operation": params.operation, "size": upload.size},
        ttl=retention,
    )
    # One MULTI: a listing that found the index entry without its record would take the job
    # for expired and drop it from the owner's list for good; and a key claimed apart from its
    # job (Redis or the api dying in between) would name a job that never existed, so a retry
    # with that key would get 404 for a job it was never told of.
    slot = job_idempotency_key(principal.id, claim.key) if claim else None
    earlier: str | None = None
    created, held = False, 0
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                if slot is not None:
                    await pipe.watch(slot)
                    earlier = cast("str | None", await pipe.get(slot))  # decode_responses
                    if earlier is not None and json.loads(earlier).get("job_id") == job_id:
                        # This very MULTI applied and only its reply was lost: redis-py raises
                        # WatchError when the connection drops while a key is watched, so the
                        # loop came round again. The job is new (its upload is its own).
                        return await load_job(redis, principal, job_id), True
                    if earlier is not None:
                        break
                pipe.multi()  # type: ignore[no-untyped-call]
                if slot is not None and claim is not None:
                    body = {"job_id": job_id, "fingerprint": claim.fingerprint}
                    pipe.set(slot, json.dumps(body), ex=retention)
                await queue_commit(pipe, change)
                pipe.zadd(jobs_of_key(principal.id), {job_id: created_at})
                # The owner's count comes with the creation: a submit under its cap (nearly
                # all) makes no round trip of its own to learn it.
                pipe.zcard(jobs_of_key(principal.id))
                pipe.set(
                    tombstone_key(job_key(job_id)),
                    principal.id,
                    ex=retention + TOMBSTONE_EXTRA_SECONDS,
                )
                if with_creation is not None:
                    await with_creation(pipe)
                replies = await pipe.execute()
                first = 1 if slot is not None else 0  # after the claim's SET
                created, held = bool(int(replies[first][0])), int(replies[first + 2])
                break
            except WatchError:  # the same key, sent twice at once: the other one won
                continue
    if earlier is not None and claim is not None:
        return await _claimed_job(redis, principal, earlier, claim), False
    if over_cap(record_cap, held):
        await trim_records(redis, principal, record_cap)
    if created:  # the record is what was just written: no need to read it back
        return decode_record(change.fields), True
    return await load_job(redis, principal, job_id), True


async def _claimed_job(
    redis: aioredis.Redis, principal: Principal, slot_value: str, claim: Claim
) -> dict[str, Any]:
    earlier = json.loads(slot_value)
    if earlier.get("fingerprint") != claim.fingerprint:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different file or params.",
        )
    return await load_job(redis, principal, str(earlier["job_id"]))


async def load_job(redis: aioredis.Redis, principal: Principal, job_id: str) -> dict[str, Any]:
    """The caller's job; 404 if missing, malformed or someone else's, 410 if it expired."""
    require_id(job_id, JOB_ID, "job")
    raw = await load_owned(redis, job_key(job_id), principal, "job")
    return decode_record(raw)


async def read_job(
    reader: OwnedReader, job_id: str, leave_out: tuple[str, ...] = ()
) -> dict[str, Any]:
    """As `load_job`, for a read route: the spend and the read in one round trip, without the
    fields in `leave_out`."""
    return decode_record(await read_raw_job(reader, job_id, leave_out))


async def read_raw_job(
    reader: OwnedReader, job_id: str, leave_out: tuple[str, ...] = ()
) -> dict[str, str]:
    """As `read_job`, the record as stored (its JSON fields as text)."""
    return await reader.load(job_id, JOB_ID, job_key, "job", leave_out)


async def list_jobs(
    redis: aioredis.Redis, principal: Principal, status: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The caller's jobs, newest first, optionally of one status; and the next page's cursor."""
    index = OwnedIndex(
        jobs_of_key(principal.id), principal.id, job_key, newest_first, LISTED_FIELDS
    )
    after = await _cursor_position(redis, index.key, cursor)
    keep = None if status is None else (lambda record: record.get("status") == status)
    # Filtered by status: at most LIST_SCAN_LIMIT records read per page, as for orders (with
    # thousands of jobs a rare status read every one of them in one request).
    listing = await list_owned(redis, index, after, limit, keep, scan_limit=LIST_SCAN_LIMIT)
    return [decode_record(r) for r in listing.records], listing.next_cursor


async def _cursor_position(
    redis: aioredis.Redis, index: str, cursor: str | None
) -> Position | None:
    """The cursor is the last job of the previous page with its score (`<score>:<id>`), or,
    as cursors were before they carried it, its id alone, which its score in the index places."""
    if not cursor:
        return None
    position = await position_of(redis, index, cursor)
    if position is None:
        raise ApiError(
            404, "not_found", "No job of yours has that id: the cursor is not one of this list's."
        )
    return position


async def cancel_job(
    redis: aioredis.Redis, principal: Principal, job_id: str, retention: int
) -> dict[str, Any]:
    """Cancel: a queued job ends `cancelled` now; a running one becomes `cancelling`."""
    for _ in range(3):  # the status may move under us (queued -> running); look again
        record = await load_job(redis, principal, job_id)
        status = record["status"]
        if status in TERMINAL:
            raise ApiError(409, "already_finished", f"The job already ended: {status}.")
        if status == CANCELLING:
            return record
        target, event = (
            (CANCELLING, "job.progress") if status == RUNNING else (CANCELLED, "job.cancelled")
        )
        fields: dict[str, Any] = {"status": target}
        releases: tuple[tuple[str, str], ...] = ()
        if target == CANCELLED:
            fields["finished_at"] = now()
            # It never runs: its upload's bytes come back now, not when a worker, perhaps far
            # down a backed-up queue, reaches its message.
            if record.get("stored"):
                releases = (upload_held(principal.id, record["stored"]),)
        change = transition(
            job_id,
            principal.id,
            expect=(status,),
            fields=fields,
            event=event,
            ttl=retention,
            releases=releases,
        )
        if (await commit_async(redis, change)).committed:
            return await load_job(redis, principal, job_id)
    raise ApiError(409, "conflict", "The job changed state while cancelling; try again.")
