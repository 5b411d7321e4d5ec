"""One way to list a principal's records: walk their owner index, read, prune, filter.

Every listed record (data item, job, order) is a Redis hash with an `owner` field, indexed in a
sorted set per owner. A listing walks that index in batches, reads each batch's records in one
pipelined round trip, forgets the entries whose record expired in one ZREM, and keeps the records
a filter wants until the page is full. Positions are index members, never offsets, so a cursor
stays valid while records are added and removed.

Two index shapes exist, and a walk takes the one its index uses:
- `oldest_first`: members `<created ms>.<ns within it>:<id>` (all scores 0), walked by
  ZRANGEBYLEX (data, orders),
  or newest first by ZREVRANGEBYLEX (`latest_first`, orders listed with `sort=newest`);
- `newest_first`: members are ids scored by creation time, walked down by score (jobs); its
  cursors carry the score (`<score>:<id>`), so one still places itself once its entry is gone
  (forgotten by a walk as expired, trimmed by the owner's record cap).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

#: Records a page holds at most.
MAX_PAGE = 200
#: Index entries read per round trip at most (a filtered walk doubles its batch up to this).
MAX_BATCH = 400

Record = dict[str, str]


@dataclass(frozen=True)
class Position:
    """Where a walk stands: an index member and, in a scored index, its score."""

    member: str
    score: float = 0.0


#: Reads up to `count` index entries after a position (None: from the start), in walk order;
#: fewer than `count` means the index ends there.
Fetch = Callable[[aioredis.Redis, str, Position | None, int], Awaitable[list[Position]]]


def index_member(created_ns: int, record_id: str) -> str:
    """The member of an oldest-first index: sorts by creation time to the nanosecond, then id.

    The millisecond comes first, as in the members written before the nanoseconds were added
    (`<ms>:<id>`, still read): the two shapes sort by millisecond alike. Records made within
    one millisecond used to list by id, so a batch of orders, all made at one instant, listed
    shuffled; their makers now give each its own nanosecond, in the order made."""
    ms, ns = divmod(created_ns, 1_000_000)
    return f"{ms:015d}.{ns:06d}:{record_id}"


def id_of_member(member: str) -> str:
    """The record id in an oldest-first member (a newest-first member is the id itself)."""
    return member.rsplit(":", 1)[-1]


async def oldest_first(
    redis: aioredis.Redis, index: str, after: Position | None, count: int
) -> list[Position]:
    return await _by_member(redis, index, after, count, backwards=False)


async def latest_first(
    redis: aioredis.Redis, index: str, after: Position | None, count: int
) -> list[Position]:
    """An oldest-first index (`index_member`) walked backwards: newest first."""
    return await _by_member(redis, index, after, count, backwards=True)


async def _by_member(
    redis: aioredis.Redis, index: str, after: Position | None, count: int, backwards: bool
) -> list[Position]:
    """Members after `after` in lexical order (or its reverse): ZRANGEBYLEX or ZREVRANGEBYLEX."""
    end = "-" if backwards else "+"
    start = f"({after.member}" if after else ("+" if backwards else "-")
    read = redis.zrevrangebylex if backwards else redis.zrangebylex
    members: list[str] = await read(index, start, end, start=0, num=count)  # type: ignore[assignment]
    return [Position(m) for m in members]


async def newest_first(
    redis: aioredis.Redis, index: str, after: Position | None, count: int
) -> list[Position]:
    top: Any = after.score if after else "+inf"
    kept: list[Position] = []
    offset = 0
    while True:
        raw: list[tuple[str, float]] = await redis.zrevrangebyscore(  # type: ignore[assignment]
            index, top, "-inf", start=offset, num=count, withscores=True
        )
        # Equal scores come in descending member order, so the entries at or before `after`
        # are a prefix of what came back: drop it, and read on until the batch is full (a
        # short batch tells the walk that the index is exhausted).
        kept += [Position(m, s) for m, s in raw if not _not_after(after, m, s)]
        if len(kept) >= count or len(raw) < count:
            return kept[:count]
        offset += count


def _not_after(after: Position | None, member: str, score: float) -> bool:
    return after is not None and score == after.score and member >= after.member


async def position_of(redis: aioredis.Redis, index: str, cursor: str) -> Position | None:
    """Where a newest-first cursor stands: `<score>:<member>` says it; a bare member (the shape
    cursors had before they carried their score) is placed by its score in the index, None
    if it is not there."""
    score, _, member = cursor.rpartition(":")
    if score:
        return Position(member, float(score))
    found = await redis.zscore(index, member)
    return None if found is None else Position(member, found)


def _cursor(index: OwnedIndex, position: Position) -> str:
    """A page's `next_cursor`: the member to resume after; newest first, with its score."""
    return (
        f"{position.score!r}:{position.member}" if index.fetch is newest_first else position.member
    )


@dataclass(frozen=True)
class OwnedIndex:
    """One owner's index: its key, how to walk it, and where each member's record lives."""

    key: str
    owner: str
    record_key: Callable[[str], str]  # index member -> key of its record hash
    fetch: Fetch
    #: Only these fields of each record (they must include `owner`); None: all of them. A
    #: listing whose records carry large fields it does not show (a job's result) names the
    #: rest, so a page of 200 costs what 200 summaries cost.
    fields: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Listing:
    records: list[Record]
    next_cursor: str | None  # where to resume (`_cursor`); None once the index is exhausted


#: Index entries one filtered listing request examines at most: a rare filter then ends a page
#: early, with a cursor, rather than read thousands of records in one request.
LIST_SCAN_LIMIT = 2000


async def list_owned(
    redis: aioredis.Redis,
    index: OwnedIndex,
    after: Position | None,
    limit: int,
    keep: Callable[[Record], bool] | None = None,
    scan_limit: int | None = None,
) -> Listing:
    """Up to `limit` of the owner's records after `after` that `keep` accepts, in walk order.

    With `scan_limit`, at most that many index entries are examined: a rare filter then ends a
    page early (with a cursor) instead of reading the whole index in one request.
    """
    found: list[Record] = []
    scanned, batch = 0, limit + 1  # one past the page: an unfiltered walk knows if more remain
    while scan_limit is None or scanned < scan_limit:
        count = min(batch, MAX_BATCH)
        if scan_limit is not None:
            count = min(count, scan_limit - scanned)
        entries = await index.fetch(redis, index.key, after, count)
        records = await _read(redis, index, entries)
        for n, (entry, record) in enumerate(zip(entries, records, strict=True), 1):
            after = entry
            if record.get("owner") == index.owner and (keep is None or keep(record)):
                found.append(record)
                if len(found) == limit:
                    more = n < len(entries) or len(entries) == count
                    return Listing(found, _cursor(index, entry) if more else None)
        scanned += len(entries)
        if len(entries) < count:
            return Listing(found, None)
        batch *= 2
    return Listing(found, _cursor(index, after) if after else None)


def _present(fields: tuple[str, ...], values: list[str | None]) -> Record:
    """An HMGET reply as the record HGETALL would give with only those fields ({} if gone)."""
    return {name: value for name, value in zip(fields, values, strict=True) if value is not None}


async def _read(redis: aioredis.Redis, index: OwnedIndex, entries: list[Position]) -> list[Record]:
    """The entries' records in one round trip; entries whose record expired leave the index."""
    if not entries:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for entry in entries:
            if index.fields is None:
                pipe.hgetall(index.record_key(entry.member))
            else:
                pipe.hmget(index.record_key(entry.member), index.fields)
        replies: list[Any] = await pipe.execute()
    records = replies if index.fields is None else [_present(index.fields, r) for r in replies]
    # A record is indexed as it is written (one MULTI or script: every creator must keep it so,
    # or a listing in between drops a new record for good), so a missing one has expired (its
    # tombstone still answers 410 by id): the index forgets it, or a busy owner's index would
    # grow forever.
    gone = [e.member for e, r in zip(entries, records, strict=True) if not r]
    if gone:
        await redis.zrem(index.key, *gone)
    return records
