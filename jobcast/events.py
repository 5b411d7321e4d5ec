"""The event contract, and committing a record change together with the events that announce it.

An event is `{"channel", "seq", "type", "ts", "data"}`. `seq` is the id Redis gives the event
in the channel's capped stream, so it is strictly increasing per channel and is what a client
resumes from. One Lua script updates the record, appends each event to its channel's stream and
publishes it: no crash can leave a record changed but unannounced, or announced but unchanged.
Workers (sync redis-py) and the api (redis.asyncio) share this module.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import redis
import redis.asyncio as aioredis

from jobcast import scripts
from jobcast.compact_json import dumps
from jobcast.orders.enums import OrderStatus
from jobcast.rediskeys import no_record_key, pubsub_channel, stream_key
from jobcast.tallies import Tally, lua_spec

#: Events kept per channel stream for replay (approximate: `XADD MAXLEN ~`).
STREAM_MAXLEN = 2000
#: Seconds a channel's stream lives after its last event.
STREAM_TTL_SECONDS = 7 * 24 * 3600


#: Every type of event committed on a channel, in the order the docs list them. An order's
#: change is `order.<its new status>` (`workers.orders.step`), except that one resting unfilled
#: stays `open`, announced by `order.accepted`. tests/realtime/test_event_types.py checks the
#: code publishes no other.
EVENT_TYPES = (
    "job.queued",
    "job.started",
    "job.progress",
    "job.requeued",
    "job.succeeded",
    "job.failed",
    "job.cancelled",
    "order.accepted",
    *(f"order.{status}" for status in OrderStatus if status is not OrderStatus.OPEN),
    "market.trade",
    "market.quote",
    "market.book",
    "chat.message",
    "chat.join",
    "chat.leave",
    "monitor.sample",
)


def job_channel(job_id: str) -> str:
    return f"job.{job_id}"


def user_channel(principal_id: str) -> str:
    """Everything one principal owns: their jobs and orders."""
    return f"user.{principal_id}"


def market_channel(symbol: str) -> str:
    return f"market.{symbol}"


# Not frozen: a few are built per order (accepted, filled, trades), and a frozen dataclass sets
# each field through object.__setattr__, about three times the cost of a plain slotted one.
@dataclass(slots=True)
class Event:
    """An event before it is committed (it has no `seq` yet)."""

    channel: str
    type: str
    data: dict[str, Any]
    ts: float = field(default_factory=time.time)

    def body(self) -> str:
        """JSON of the event without `seq`; the script splices the seq in front."""
        return dumps({"channel": self.channel, "type": self.type, "ts": self.ts, "data": self.data})


#: What every published event starts with: the seq comes first, so `seq_of` can find it without
#: parsing. `jobcast/lua/publish_event.lua` splices the same prefix in Redis (`with_seq` is its
#: Python twin; tests/realtime/test_events.py checks the three agree).
SEQ_PREFIX = '{"seq":"'


def with_seq(seq: str, body: str) -> str:
    """The published form of an event: `body` with `seq` as its first key (same as the Lua)."""
    return SEQ_PREFIX + seq + '",' + body[1:]


def seq_of(published: str) -> str:
    """The seq of a published event without parsing it (see `SEQ_PREFIX`)."""
    end = published.index('"', len(SEQ_PREFIX))
    return published[len(SEQ_PREFIX) : end]


@dataclass(frozen=True)
class Membership:
    """`member` put in the set `key` (`present`) or taken out of it, when the commit carrying it
    applies: an index of records kept in step with their status (`UNFINISHED_JOBS_KEY`)."""

    key: str
    member: str
    present: bool


@dataclass(frozen=True)
class Recent:
    """Event number `event` of the commit carrying it, as published, appended to the list
    `key`, which keeps its last `keep` and lives `ttl` seconds: a channel's recent events of one
    kind that other events cannot push out of its capped stream (a chat room's messages)."""

    key: str
    keep: int
    ttl: int
    event: int = 0


@dataclass(frozen=True)
class Commit:
    """A record change and its events, to be applied atomically."""

    record_key: str
    fields: dict[str, str]
    events: list[Event]
    expect_field: str = ""
    expect_values: tuple[str, ...] = ()
    record_ttl: int = 0
    #: Cluster-wide counters of this change (`jobcast.tallies`), applied only if it commits.
    tallies: tuple[Tally, ...] = ()
    #: (hash key, field) pairs removed only if it commits: what the change gives back (a
    #: finished job's upload leaves its owner's quota as its outcome is seen, not just after).
    releases: tuple[tuple[str, str], ...] = ()
    #: Set memberships changed only if it commits.
    memberships: tuple[Membership, ...] = ()
    #: Events also kept in lists of their own, only if it commits.
    recents: tuple[Recent, ...] = ()

    def _tallies(self) -> tuple[list[str], list[list[str | int]]]:
        return lua_spec(self.tallies, first_key=len(self.events) + 2)

    def keys(self) -> list[str]:
        streams = [stream_key(e.channel) for e in self.events]
        released = [key for key, _ in self.releases]
        sets = [m.key for m in self.memberships]
        lists = [r.key for r in self.recents]
        return [self.record_key, *streams, *self._tallies()[0], *released, *sets, *lists]

    def args(self) -> list[str]:
        tally_keys, tallies = self._tallies()
        first = len(self.events) + len(tally_keys) + 2  # the released hashes' first KEYS index
        releases = [[first + i, field] for i, (_, field) in enumerate(self.releases)]
        first += len(self.releases)  # the member sets' first KEYS index
        sets = [[first + i, m.member, int(m.present)] for i, m in enumerate(self.memberships)]
        first += len(self.memberships)  # the recent lists' first KEYS index
        recents = [[first + i, r.event + 1, r.keep, r.ttl] for i, r in enumerate(self.recents)]
        argv = [
            self.expect_field,
            json.dumps(list(self.expect_values)),
            json.dumps(self.fields),
            str(self.record_ttl),
            str(STREAM_MAXLEN),
            str(STREAM_TTL_SECONDS),
            json.dumps(tallies),
            json.dumps(releases),
            json.dumps(sets),
            json.dumps(recents),
        ]
        for event in self.events:
            argv += [pubsub_channel(event.channel), event.body()]
        return argv


@dataclass(frozen=True)
class CommitResult:
    committed: bool
    seqs: list[str]
    current: str | None = None  # the expect_field's value when the precondition failed


def commit_result(raw: list[Any]) -> CommitResult:
    """What the commit script (or one ending in its change) answered, read."""
    values = [v.decode() if isinstance(v, bytes) else str(v) for v in raw[1:]]
    if int(raw[0]) == 1:
        return CommitResult(committed=True, seqs=values)
    return CommitResult(committed=False, seqs=[], current=values[0] if values else None)


def commit(client: redis.Redis, change: Commit) -> CommitResult:
    """Apply `change` atomically (sync client, for workers)."""
    raw = scripts.run(client, "commit", change.keys(), change.args())
    return commit_result(raw)


async def commit_async(client: aioredis.Redis, change: Commit) -> CommitResult:
    """Apply `change` atomically (asyncio client, for the api)."""
    raw = await scripts.run_async(client, "commit", change.keys(), change.args())
    return commit_result(raw)


async def queue_commit(pipe: aioredis.client.Pipeline, change: Commit) -> None:
    """Queue `change` on a MULTI pipeline: it commits atomically with the pipeline's other
    commands (its reply is the script's, as `commit` reads it)."""
    await scripts.run_async(pipe, "commit", change.keys(), change.args())


def publish(client: redis.Redis, event: Event) -> str:
    """Commit an event that changes no record (chat, monitor, market data)."""
    result = commit(
        client, Commit(record_key=no_record_key(event.channel), fields={}, events=[event])
    )
    return result.seqs[0]


def decode_entry(channel: str, seq: str, body: str) -> dict[str, Any]:
    """An event read back from a stream entry, in its published form."""
    event: dict[str, Any] = json.loads(with_seq(seq, body))
    return event


def read_since(
    client: redis.Redis, channel: str, since: str, count: int = 1000
) -> list[dict[str, Any]]:
    """Events of `channel` after `since` (exclusive), oldest first."""
    entries: list[tuple[Any, dict[Any, Any]]] = client.xrange(  # type: ignore[assignment]
        stream_key(channel), min=f"({since}", max="+", count=count
    )
    return [decode_entry(channel, _text(seq), _entry_body(fields)) for seq, fields in entries]


def _entry_body(fields: dict[Any, Any]) -> str:
    return _text(fields.get("e", fields.get(b"e")))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def publish_async(
    client: aioredis.Redis, event: Event, recents: tuple[Recent, ...] = ()
) -> str:
    """`publish` for the api's asyncio client (chat messages, monitor samples)."""
    change = Commit(
        record_key=no_record_key(event.channel), fields={}, events=[event], recents=recents
    )
    result = await commit_async(client, change)
    return result.seqs[0]


async def read_latest_async(
    client: aioredis.Redis, channel: str, count: int
) -> list[dict[str, Any]]:
    """The newest `count` events of `channel`, oldest first."""
    entries: list[tuple[Any, dict[Any, Any]]] = await client.xrevrange(  # type: ignore[assignment]
        stream_key(channel), max="+", min="-", count=count
    )
    events = [decode_entry(channel, _text(seq), _entry_body(fields)) for seq, fields in entries]
    return events[::-1]
