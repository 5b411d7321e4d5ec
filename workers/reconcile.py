"""Find work that no task will ever run, and send its task again.

A job can be left `queued`, `running`, `retrying` or `cancelling` with no task to move it on:
its worker died holding its message (its main process SIGKILLed, its host gone; kombu would hand
the message out again only after the visibility timeout, twice the job time limit), Redis died
and lost its last second of AOF writes (the record survived, the message did not), or a message
was dropped by hand. A symbol can be left with accepted orders after its cursor and no lease
holder the same ways, or when its matching task died for good (the attempt cap).

A message counts as live while it waits in a queue or is held (unacked) by a live worker: one
whose heartbeat lists the task (`workers.heartbeat`), or that took it less than a grace ago
(`worker_registry.hold_grace`: a few heartbeats, long enough to have reported it), or a
countdown retry not due before then. Work with no live message is *stuck* once idle longer than
the grace when dead workers hold its message (the evidence is there), and longer than
`reconcile_after` when no message exists at all (it may be between a queue and the unacked
hash, and nothing tells a lost message from a slow one sooner).

Resending is safe because the receivers refuse doubles: a job's outcome commit expects
`running` (a second run finds it terminal and commits nothing), and a matching step commits
only under the symbol's lease at the cursor it read (`workers.orders.store`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import redis

from jobcast import rediskeys, scripts
from jobcast.events import Event, commit, job_channel, publish
from jobcast.jobs.records import transition
from jobcast.rediskeys import (
    SYMBOL_RESENDS_KEY,
    WORKERS_KEY,
    job_key,
    order_lease_key,
    stream_key,
)
from jobcast.tallies import RECONCILER_KEY, Tally, label
from jobcast.task_names import file_job_argsrepr_of
from jobcast.worker_registry import live_holds
from workers.broker_messages import Held, read_messages
from workers.unfinished_jobs import unfinished_jobs

#: Operators' channel for the reconciler's actions: the admins' monitor channel
#: (`realtime.channels.MONITOR_ADMIN`, not imported: it would pull the api into workers).
OPERATOR_CHANNEL = "monitor.admin"


@dataclass(frozen=True)
class Stuck:
    """Work with no task: `kind` "job" (key: job id) or "symbol" (key: symbol)."""

    kind: str
    key: str
    status: str
    idle_since: float
    owner: str = ""


def _ms(stream_id: str) -> float:
    return int(stream_id.split("-", 1)[0]) / 1000


def idle_jobs(client: redis.Redis, now: float, idle_for: float) -> list[Stuck]:
    """Unfinished jobs whose last event (or creation) is older than `idle_for` seconds."""
    jobs = unfinished_jobs(client)  # from their index: finished records are not read
    pipe = client.pipeline(transaction=False)
    for job_id, *_ in jobs:
        pipe.xrevrange(stream_key(job_channel(job_id)), count=1)
    found = []
    for (job_id, status, created, owner), last in zip(jobs, pipe.execute(), strict=True):
        since = max(float(created), _ms(last[0][0]) if last else 0.0)
        if now - since > idle_for:
            found.append(Stuck("job", job_id, status, since, owner))
    return found


def idle_symbols(
    client: redis.Redis, symbols: list[str], now: float, idle_for: float
) -> list[Stuck]:
    """Symbols with no lease holder whose oldest unmatched command (and the reconciler's last
    resend, so a symbol whose task keeps dying is not resent every sweep: a time, so it holds at
    any sweep interval) is older than `idle_for` seconds."""
    found = []
    for symbol in symbols:
        keys = [
            order_lease_key(symbol),
            rediskeys.market_key(symbol),
            rediskeys.inbound_key(symbol),
            SYMBOL_RESENDS_KEY,
        ]
        first, resent_ms = scripts.run(client, "reconcile_unmatched", keys, [symbol])
        since = max(_ms(first), int(resent_ms) / 1000) if first else now
        if now - since > idle_for:
            found.append(Stuck("symbol", symbol, "unmatched", since))
    return found


@dataclass(frozen=True)
class Bounds:
    """Seconds work must sit idle before it counts as stuck: `grace` when its message is held
    only by dead workers (`worker_registry.hold_grace`: a live worker would have reported it by
    then), `after` when no message for it exists anywhere (one may be between a queue and the
    unacked hash, or its worker's report late: the slow, cautious bound)."""

    grace: float
    after: float

    @classmethod
    def of(cls, grace: float, after: float) -> Bounds:
        return cls(min(grace, after), after)


def is_live(held: Held, held_live: set[str], since: float) -> bool:
    """A held message is a live worker's: one that reports holding it, or that took it at
    `since` or later (it may not have reported it yet), or it is not due before `since`."""
    return held.task_id in held_live or held.taken_at >= since or held.due_at >= since


def stuck_among(
    candidates: list[Stuck],
    waiting: set[str],
    held: list[Held],
    held_live: set[str],
    now: float,
    bounds: Bounds,
) -> list[Stuck]:
    """The candidates no live message exists for (none `waiting` in a queue, none `held` by a
    live worker) idle past their bound: `bounds.grace` if dead workers hold their message,
    `bounds.after` if nothing does."""
    since = now - bounds.grace
    live = waiting | {h.work for h in held if is_live(h, held_live, since)}
    orphaned = {h.work for h in held} - live
    found = []
    for stuck in candidates:
        work = stuck.key if stuck.kind == "job" else f"symbol:{stuck.key}"
        bound = bounds.grace if work in orphaned else bounds.after
        if work not in live and now - stuck.idle_since > bound:
            found.append(stuck)
    return found


def without_task(
    client: redis.Redis, candidates: list[Stuck], now: float, bounds: Bounds, heartbeat_age: float
) -> list[Stuck]:
    """The candidates `stuck_among` keeps, counting a worker that reported within
    `heartbeat_age` seconds as alive (the broker is read only when there are candidates)."""
    if not candidates:
        return []
    workers = {str(k): str(v) for k, v in client.hgetall(WORKERS_KEY).items()}
    held_live = live_holds(workers, time.time(), heartbeat_age)
    waiting, held = read_messages(client)
    return stuck_among(candidates, waiting, held, held_live, now, bounds)


def claim_job(client: redis.Redis, stuck: Stuck, ttl: int, now: float) -> bool:
    """Announce and count the resend of a stuck job, if it is still in the status it was found
    in; False when it moved meanwhile (then nothing is sent)."""
    data = {
        "reason": "no_task",
        "status": stuck.status,
        "idle_seconds": round(now - stuck.idle_since, 1),
    }
    change = transition(
        stuck.key,
        stuck.owner,
        expect=(stuck.status,),
        fields={},
        event="job.requeued",
        data=data,
        ttl=ttl,
        tallies=(Tally(RECONCILER_KEY, label("job", stuck.status)),),
    )
    shown = Event(
        OPERATOR_CHANNEL, "reconciler.requeued", {"kind": "job", "job_id": stuck.key, **data}
    )
    return commit(client, replace(change, events=[*change.events, shown])).committed


#: The record's fields `file_job_argsrepr_of` reads.
SHOWN_FIELDS = ("operation", "filename", "size", "owner", "owner_name")


def file_job_shown(client: redis.Redis, job_id: str) -> str:
    """What Flower shows of a resent job's task: what the api's first send showed, rebuilt from
    the record (the first message is gone). The resend itself is told by the job's
    `job.requeued` event, the log and `jobcast_reconciler_requeued_total`."""
    values = client.hmget(job_key(job_id), SHOWN_FIELDS)
    record = {name: str(v) for name, v in zip(SHOWN_FIELDS, values, strict=True) if v is not None}
    return file_job_argsrepr_of(job_id, record)


def claim_symbol(client: redis.Redis, stuck: Stuck, pending_ms: int, now: float) -> bool:
    """Note, count and announce the resend of a stuck symbol's task; False when a worker took
    its lease meanwhile (then nothing is sent)."""
    keys = [
        order_lease_key(stuck.key),
        rediskeys.pending_key(stuck.key),
        RECONCILER_KEY,
        SYMBOL_RESENDS_KEY,
    ]
    argv = [str(pending_ms), stuck.key, str(int(now * 1000))]
    if not int(scripts.run(client, "reconcile_claim_symbol", keys, argv)):
        return False
    data = {
        "kind": "symbol",
        "symbol": stuck.key,
        "reason": "no_task",
        "idle_seconds": round(now - stuck.idle_since, 1),
    }
    publish(client, Event(OPERATOR_CHANNEL, "reconciler.requeued", data))
    return True
