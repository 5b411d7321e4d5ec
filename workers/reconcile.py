"""Find work that no task will ever run, and send its task again.

A job can be left `queued`, `running`, `retrying` or `cancelling` with no Celery message
anywhere: Redis died and lost its last second of AOF writes (the record survived, the message
did not), or a message was dropped by hand. A symbol can be left with accepted orders after its
cursor and no lease holder when its matching task died for good (the attempt cap). Such work is
*stuck* when it has been idle longer than `reconcile_after` seconds and no message for it waits
in a queue or is held (unacked) by a live worker: one whose heartbeat lists the task
(`workers.heartbeat`), or that took it less than `reconcile_after` ago (and, for a countdown
retry, its time is not long past). A message held otherwise is held by a dead or frozen worker
(its main process SIGKILLed, its host gone), which kombu would hand out again only after the
visibility timeout (twice the job time limit).

Resending is safe because the receivers refuse doubles: a job's outcome commit expects
`running` (a second run finds it terminal and commits nothing), and a matching step commits
only under the symbol's lease at the cursor it read (`workers.orders.store`).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import redis

from celeryconfig import QUEUES
from jobcast import rediskeys, scripts
from jobcast.events import Event, commit, job_channel, publish
from jobcast.jobs.records import CANCELLING, QUEUED, RETRYING, RUNNING, transition
from jobcast.rediskeys import (
    SYMBOL_RESENDS_KEY,
    UNACKED_INDEX_KEY,
    UNACKED_KEY,
    WORKERS_KEY,
    job_key,
    order_lease_key,
    queue_lists,
    stream_key,
)
from jobcast.tallies import RECONCILER_KEY, Tally, label
from jobcast.task_names import file_job_argsrepr_of
from jobcast.worker_registry import live_holds

#: Job statuses a task must still move on.
UNFINISHED = (QUEUED, RUNNING, RETRYING, CANCELLING)
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


def _job_ids(client: redis.Redis) -> Iterator[str]:
    prefix = job_key("")
    # Records only: other keys share the prefix (a record's tombstone, `<record key>:gone`, is a
    # string, and one HMGET on it would fail the whole sweep).
    for key in client.scan_iter(match=prefix + "*", count=1000, _type="hash"):
        job_id = str(key)[len(prefix) :]
        if ":" not in job_id:
            yield job_id


def _unfinished(client: redis.Redis) -> list[tuple[str, str, str, str]]:
    """(job id, status, created_at, owner) of every unfinished job."""
    ids = list(_job_ids(client))
    pipe = client.pipeline(transaction=False)
    for job_id in ids:
        pipe.hmget(job_key(job_id), "status", "created_at", "owner")
    rows = zip(ids, pipe.execute(), strict=True)
    return [(job_id, s, c or "0", o or "") for job_id, (s, c, o) in rows if s in UNFINISHED]


def idle_jobs(client: redis.Redis, now: float, idle_for: float) -> list[Stuck]:
    """Unfinished jobs whose last event (or creation) is older than `idle_for` seconds."""
    jobs = _unfinished(client)  # most records are finished: their streams are not read
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
    resend, so a symbol whose task keeps dying is not resent every sweep) is older than
    `idle_for` seconds."""
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


def _message_work(payload: dict[str, Any]) -> str | None:
    """What a queued message works on: its task id, or `symbol:<symbol>` for matching."""
    headers = payload.get("headers") or {}
    if str(headers.get("task", "")).endswith(".match"):
        body = json.loads(base64.b64decode(payload["body"]))
        return f"symbol:{body[0][0]}" if body and body[0] else None
    task_id = headers.get("id")
    return str(task_id) if task_id else None


def live_work(client: redis.Redis, held_since: float, held_live: set[str]) -> set[str]:
    """Task ids (and `symbol:<symbol>`) of every message waiting in a queue, or held by a worker
    that is alive (`held_live`: the task ids live workers report holding) or took it at
    `held_since` (epoch seconds) or later (its worker may not have reported it yet)."""
    pipe = client.pipeline(transaction=False)
    for queue in QUEUES:
        for name in queue_lists(queue):
            pipe.lrange(name, 0, -1)
    pipe.hgetall(UNACKED_KEY)
    pipe.zrangebyscore(UNACKED_INDEX_KEY, held_since, "+inf")
    *queued, held, recent = pipe.execute()
    payloads = [json.loads(raw) for raws in queued for raw in raws]
    recent_tags = set(recent)
    for tag, raw in held.items():
        payload = json.loads(raw)[0]
        task_id = (payload.get("headers") or {}).get("id")
        if task_id in held_live or tag in recent_tags or _eta(payload) >= held_since:
            payloads.append(payload)
    return {work for p in payloads if (work := _message_work(p))}


def _eta(payload: dict[str, Any]) -> float:
    """When a countdown retry (or a quarantined task) is due: its holder runs it then, however
    long ago it took it; 0 for a message due at once."""
    eta = (payload.get("headers") or {}).get("eta")
    return datetime.fromisoformat(eta).timestamp() if eta else 0.0


def without_task(
    client: redis.Redis, candidates: list[Stuck], held_since: float, heartbeat_age: float
) -> list[Stuck]:
    """The candidates no message exists for, counting a held message only if a worker that
    reported within `heartbeat_age` seconds holds it, or it was taken at `held_since` or later
    (read only when there are candidates)."""
    if not candidates:
        return []
    workers = {str(k): str(v) for k, v in client.hgetall(WORKERS_KEY).items()}
    held_live = live_holds(workers, time.time(), heartbeat_age)
    live = live_work(client, held_since, held_live)
    return [s for s in candidates if (s.key if s.kind == "job" else f"symbol:{s.key}") not in live]


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
