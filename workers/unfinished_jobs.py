"""The unfinished jobs as the reconciler reads them: from their index, not from every record.

A job enters and leaves `UNFINISHED_JOBS_KEY` in the commit that changes its status
(`jobcast.jobs.records.transition`), so a sweep reads as many records as jobs are in flight,
however many finished ones are kept. What no commit can do, the sweep does: an entry whose record
expired (its retention ran out before it ended) or ended without the index hearing of it (a
process of an older version finished it) is dropped once read.

A Redis written before the index existed holds unfinished jobs the index never heard of: while
`UNFINISHED_JOBS_BUILT_KEY` is absent, a sweep first puts every unfinished record into it by
the old way (a SCAN of every job record), then sets the key, once per Redis. A marker, not a
check on every sweep, because nothing cheaper than that very scan tells "no unfinished job" from
"an index never built"; and a marker kept in the same Redis goes with its data (a Redis restored
from an older dump has neither and is built again). One caveat, told in the README: a job made
by an api of the older version after the build is not in the index until a newer process changes
its status; deleting the marker once no older process runs has the next sweep build again.
"""

from __future__ import annotations

from collections.abc import Iterator

import redis

from jobcast.jobs.records import UNFINISHED
from jobcast.rediskeys import UNFINISHED_JOBS_BUILT_KEY, UNFINISHED_JOBS_KEY, job_key

#: Ids read per SSCAN / SCAN round trip.
BATCH = 1000

#: (job id, status, created_at, owner) of an unfinished job.
Row = tuple[str, str, str, str]


def unfinished_jobs(client: redis.Redis) -> list[Row]:
    """Every unfinished job, dropping from the index the entries that are not (any more)."""
    if not client.exists(UNFINISHED_JOBS_BUILT_KEY):
        build(client)
    # SSCAN, not SMEMBERS: a backlog of many thousands is read in slices, never blocking Redis
    # for one large reply; an id a rehash shows twice is read once.
    ids = list(dict.fromkeys(str(i) for i in client.sscan_iter(UNFINISHED_JOBS_KEY, count=BATCH)))
    rows = _read(client, ids)
    done = [job_id for job_id, status, *_ in rows if status not in UNFINISHED]
    if done:
        # Safe without a check in Redis: an ended job never runs again and a job id is never
        # reused, so what was read gone or ended stays so.
        client.srem(UNFINISHED_JOBS_KEY, *done)
    return [row for row in rows if row[1] in UNFINISHED]


def build(client: redis.Redis) -> None:
    """Put every unfinished job record into the index (the scan it saves later sweeps), then
    mark it built. A job that ends meanwhile may be put in after its end: the next sweep drops
    it; one created meanwhile entered with its creation."""
    rows = _read(client, list(_recorded_ids(client)))
    with client.pipeline(transaction=True) as pipe:
        unfinished = [row[0] for row in rows if row[1] in UNFINISHED]
        if unfinished:
            pipe.sadd(UNFINISHED_JOBS_KEY, *unfinished)
        pipe.set(UNFINISHED_JOBS_BUILT_KEY, "1")
        pipe.execute()


def _recorded_ids(client: redis.Redis) -> Iterator[str]:
    prefix = job_key("")
    # Records only: other keys share the prefix (a record's tombstone, `<record key>:gone`, is a
    # string, and one HMGET on it would fail the whole sweep).
    for key in client.scan_iter(match=prefix + "*", count=BATCH, _type="hash"):
        job_id = str(key)[len(prefix) :]
        if ":" not in job_id:
            yield job_id


def _read(client: redis.Redis, ids: list[str]) -> list[Row]:
    """(id, status or "", created_at, owner) of each job; status "" when it has no record."""
    pipe = client.pipeline(transaction=False)
    for job_id in ids:
        pipe.hmget(job_key(job_id), "status", "created_at", "owner")
    rows = zip(ids, pipe.execute(), strict=True)
    return [(job_id, s or "", c or "0", o or "") for job_id, (s, c, o) in rows]
