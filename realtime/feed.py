"""One connection's subscription to one channel: resume without gaps or duplicates.

Opening a feed subscribes live first and buffers, then sends the start (a snapshot, history, or
the replay after `since`), then flushes the buffer. Every event passes one gate: it is sent only
if its seq is above the last one sent, which is what removes the overlap between replay and
live. After a Redis drop the hub calls `resubscribed` and the feed catches up the same way.

Without `since`, the channel's newest seq is read after the live subscription and the
`subscribed` reply carries it: the feed sends exactly the events after it, so a client that
drops before any event arrives resumes from that seq (`since`) and misses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from jobcast.events import with_seq
from jobcast.rediskeys import stream_key
from jobcast.seq import REDIS_UNAVAILABLE, SINCE_AHEAD, SINCE_TOO_OLD, SINCE_UNKNOWN, seq_key
from realtime.connection import REPLAYED, ClientConnection
from realtime.hub import ChannelHub
from realtime.protocol import reply

Seq = tuple[int, int]
#: Reads a new subscriber's starting state. Returns the newest seq of the channel when it was
#: read (None: empty stream) and the message that carries the state as of that seq (a snapshot,
#: chat history; None for a bare "start from now").
Initial = Callable[[], Awaitable[tuple[str | None, str | None]]]
#: Stream entries read per round trip during a replay.
REPLAY_PAGE = 500
FROM_START = ("0", "0-0")
#: Pauses between attempts to catch up after a Redis drop, before giving up with a resync.
CATCH_UP_RETRIES = (0.05, 0.2, 0.5, 1.0, 2.0)


def seq_text(seq: Seq) -> str:
    return f"{seq[0]}-{seq[1]}"


class ChannelFeed:
    # Slots: one of these lives per subscription, thousands per process.
    __slots__ = (
        "_buffer",
        "_catchup",
        "_floor",
        "_initial",
        "_last",
        "_stale",
        "channel",
        "conn",
        "hub",
        "redis",
        "requested",
    )

    def __init__(
        self,
        conn: ClientConnection,
        hub: ChannelHub,
        redis: aioredis.Redis,
        channel: str,
        requested: str,
        initial: Initial,
    ) -> None:
        self.conn, self.hub, self.redis = conn, hub, redis
        self.channel, self.requested, self._initial = channel, requested, initial
        self._last: Seq | None = None
        #: Where a catch-up starts when nothing was sent yet: the stream's end at subscribe time.
        self._floor: Seq | None = None
        self._buffer: list[tuple[str, Seq, float]] | None = []
        self._catchup: asyncio.Task[None] | None = None
        #: Redis dropped while opening: catch up once the open is done.
        self._stale = False

    async def open(self, since: str | None, ref: Any = None) -> None:
        """Subscribe live (buffering), send the start or the replay, then go live."""
        await self.hub.subscribe(self.channel, self)
        try:
            if since is None:
                await self._announce(ref)
            else:
                self.conn.push(reply("subscribed", ref, channel=self.requested))
                await self._replay(since)
        finally:
            self._flush()
        if self._stale:
            self.resubscribed()

    async def close(self) -> None:
        if self._catchup is not None:
            self._catchup.cancel()
        await self.hub.unsubscribe(self.channel, self)

    def deliver(self, raw: str, seq: Seq, ts: float) -> None:
        buffer = self._buffer
        if buffer is None:
            self._forward(raw, seq, ts)
        elif len(buffer) >= self.conn.queue_size:
            self.conn.overflow()
        # The buffer's text counts as queued: events pile up here while a snapshot is read.
        elif self.conn.hold(len(raw)):
            buffer.append((raw, seq, ts))

    def resubscribed(self) -> None:
        if self._buffer is not None:
            self._stale = True  # still opening (or catching up): catch up again afterwards
            return
        self._stale = False
        self._buffer = []
        self._catchup = asyncio.create_task(self._catch_up())

    def _forward(self, raw: str, seq: Seq, ts: float) -> None:
        if self._last is not None and seq <= self._last:
            return
        self._last = seq
        self.conn.push(raw, ts)

    def _flush(self) -> None:
        buffered, self._buffer = self._buffer or [], None
        # Given back, then taken again by each push: what the gate drops frees its room.
        self.conn.release(sum(len(raw) for raw, _, _ in buffered))
        for raw, seq, ts in buffered:
            self._forward(raw, seq, ts)

    async def _announce(self, ref: Any) -> None:
        """`subscribed` with where the feed starts, then the starting state (if any)."""
        start = await self._start_point()
        resume = seq_text(self._floor) if self._floor else FROM_START[1]
        self.conn.push(reply("subscribed", ref, channel=self.requested, seq=resume))
        if start is not None:
            self.conn.push(start)

    async def _start_point(self) -> str | None:
        """Read the start; events at or below its seq are the past, not sent (the buffer may
        hold some: committed after the live subscription, before the read)."""
        marker, start = await self._initial()
        if marker is not None:
            self._last = self._floor = seq_key(marker)
        return start

    async def _catch_up(self) -> None:
        try:
            for delay in CATCH_UP_RETRIES:
                # Pooled connections to the old server fail once before they reconnect.
                with contextlib.suppress(RedisError, OSError):
                    start = self._last or self._floor
                    await self._replay(seq_text(start) if start else "0-0")
                    return
                await asyncio.sleep(delay)
            # Redis is still unreachable: the client must start over from a snapshot.
            self.conn.push(reply("resync", channel=self.requested, reason=REDIS_UNAVAILABLE))
        finally:
            self._flush()
            if self._stale:
                self.resubscribed()

    async def _replay(self, since: str) -> None:
        page: list[tuple[str, Seq]] = []
        if since not in FROM_START:
            # A resume's first read starts at the `since` event itself, the proof that nothing
            # after it was trimmed: the check and the first page in one round trip, which
            # counts when thousands of clients resume at once.
            page = await self._read_from(since)
            if not page or page[0][1] != seq_key(since):
                await self._restart(await self._why_not_kept(since))
                return
        self._last = max(self._last or (0, 0), seq_key(since))
        self._forward_replayed(page)  # the `since` event itself is at or below `_last`: skipped
        more = since in FROM_START or len(page) > REPLAY_PAGE
        while more and self.conn.accepting:
            page = await self._read_after(seq_text(self._last))
            self._forward_replayed(page)
            more = len(page) == REPLAY_PAGE

    def _forward_replayed(self, page: list[tuple[str, Seq]]) -> None:
        for raw, seq in page:
            self._forward(raw, seq, REPLAYED)

    async def _restart(self, why: str) -> None:
        """The old position means nothing in this stream now: the feed starts over from the
        start point, or, the stream being empty, from its beginning. Kept, a catch-up queued
        behind this one would resync again and take the events committed since for part of
        its start, so the client would never get them."""
        self._last = self._floor = None
        # Read before the resync is sent: an event committed once the client has it is above
        # the start, so it is sent (read after, it could fall below: never sent).
        start = await self._start_point()
        self.conn.push(reply("resync", channel=self.requested, reason=why))
        if start is not None:
            self.conn.push(start)

    async def _read_from(self, since: str) -> list[tuple[str, Seq]]:
        """The `since` event (if the stream still holds it) and up to a page after it; empty for
        a `since` that is no stream id."""
        with contextlib.suppress(ValueError):
            return await self._read(seq_text(seq_key(since)), REPLAY_PAGE + 1)
        return []

    async def _why_not_kept(self, since: str) -> str:
        """The resync's reason for a `since` the stream does not hold (read only then: a
        resume that finds its event costs no more)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.xrange(stream_key(self.channel), count=1)
        pipe.xrevrange(stream_key(self.channel), count=1)
        oldest, newest = await pipe.execute()
        if not newest:  # nothing kept: whatever it held has gone
            return SINCE_TOO_OLD
        if seq_key(since) > seq_key(newest[0][0]):
            return SINCE_AHEAD
        return SINCE_UNKNOWN if seq_key(since) > seq_key(oldest[0][0]) else SINCE_TOO_OLD

    async def _read_after(self, since: str) -> list[tuple[str, Seq]]:
        return await self._read(f"({since}", REPLAY_PAGE)

    async def _read(self, start: str, count: int) -> list[tuple[str, Seq]]:
        entries: list[tuple[str, dict[str, str]]] = await self.redis.xrange(  # type: ignore[assignment]
            stream_key(self.channel), min=start, max="+", count=count
        )
        return [(with_seq(seq, fields["e"]), seq_key(seq)) for seq, fields in entries]
