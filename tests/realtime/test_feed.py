"""A feed's replay and its live subscription overlap by construction; each event is sent once.

Events committed after the live subscription is confirmed and before the stream is read arrive
twice (live, buffered, and in the replay or snapshot). Over a real socket that window is hit
only by chance; here the hub commits events exactly there, through real Redis pub/sub and the
real stream, so the overlap happens on every run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import redis
import redis.asyncio as aioredis

from jobcast.events import Event, publish, read_since
from jobcast.redis_clients import async_client
from jobcast.rediskeys import stream_key
from jobcast.settings import Settings
from realtime.connection import ClientConnection
from realtime.feed import ChannelFeed, Initial
from realtime.hub import ChannelHub

CHANNEL = "market.OVERLAP"


class Recorder:
    """A second listener on the channel: the hub hands it each event in the same call as the
    feed, so once it has an event the feed has buffered it too."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = asyncio.Event()

    def deliver(self, raw: str, seq: tuple[int, int], ts: float) -> None:
        self.count += 1
        self.changed.set()

    def resubscribed(self) -> None:
        pass

    async def heard(self, count: int) -> None:
        while self.count < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 5)


class OverlapHub(ChannelHub):
    """The real hub, which runs `during` once the channel is live and before `subscribe`
    returns: the moment between the feed's live subscription and its stream read."""

    def __init__(self, client: aioredis.Redis, during: Callable[[], Awaitable[None]]) -> None:
        super().__init__(client)
        self._during = during

    async def subscribe(self, channel: str, listener: Any) -> None:
        await super().subscribe(channel, listener)
        await self._during()


class RecordingSocket:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def send_text(self, text: str) -> None:
        self.frames.append(json.loads(text))


def events_in(frames: list[dict[str, Any]]) -> list[str]:
    return [f["seq"] for f in frames if f.get("channel") == CHANNEL and "type" in f and "data" in f]


def commit_during_open(
    client: redis.Redis, recorder: Recorder, count: int
) -> Callable[[], Awaitable[None]]:
    """Commit `count` events and wait until the hub has delivered them live."""

    async def during() -> None:
        for i in range(count):
            publish(client, Event(CHANNEL, "market.trade", {"n": f"during-{i}"}))
        await recorder.heard(count)

    return during


async def open_feed(
    settings: Settings,
    client: redis.Redis,
    since: str | None,
    initial: Callable[[ClientConnection], Initial],
) -> list[dict[str, Any]]:
    """Open a feed on CHANNEL while 3 events are committed in the overlap; the frames sent."""
    recorder = Recorder()
    hub = OverlapHub(async_client(settings), commit_during_open(client, recorder, 3))
    async with feed_on(settings, hub, recorder, initial) as (feed, frames):
        await feed.open(since)
    return frames


@asynccontextmanager
async def feed_on(
    settings: Settings,
    hub: ChannelHub,
    recorder: Recorder | None,
    initial: Callable[[ClientConnection], Initial],
    reader: aioredis.Redis | None = None,
) -> AsyncIterator[tuple[ChannelFeed, list[dict[str, Any]]]]:
    """A feed on CHANNEL through `hub` (started, `recorder`, if any, already listening), reading
    the stream with `reader` (a new client by default), not yet open, and the frames its
    connection sends; on leaving, what it queued is sent, then it closes."""
    await hub.start()
    if recorder is not None:
        await ChannelHub.subscribe(hub, CHANNEL, recorder)
    reader = reader or aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
    socket = RecordingSocket()
    conn = ClientConnection(socket, queue_size=100, queue_chars=1024**2)  # type: ignore[arg-type]
    feed = ChannelFeed(conn, hub, reader, CHANNEL, CHANNEL, initial(conn))
    try:
        yield feed, socket.frames
        await conn.drained()
    finally:
        await feed.close()
        await hub.stop()
        await reader.aclose()


def no_initial(conn: ClientConnection) -> Initial:
    async def initial() -> tuple[str | None, str | None]:
        raise AssertionError("a resume replays; it sends no starting state")

    return initial


def test_resume_sends_events_committed_between_subscribe_and_replay_exactly_once(
    settings: Settings, redis_client: redis.Redis
) -> None:
    seen = [publish(redis_client, Event(CHANNEL, "market.trade", {"n": i})) for i in range(2)]
    missed = [publish(redis_client, Event(CHANNEL, "market.trade", {"n": i})) for i in range(2)]

    frames = asyncio.run(open_feed(settings, redis_client, seen[-1], no_initial))

    everything = [e["seq"] for e in read_since(redis_client, CHANNEL, "0-0")]
    assert len(everything) == 2 + 2 + 3
    # The two missed while away, then the three committed in the overlap: each once, in order.
    assert events_in(frames) == everything[2:]
    assert everything[2:4] == missed


def snapshot_of_stream(client: redis.Redis) -> Callable[[ClientConnection], Initial]:
    """A starting state that covers every event up to the newest when it is read."""

    def make(conn: ClientConnection) -> Initial:
        async def initial() -> tuple[str | None, str | None]:
            newest = read_since(client, CHANNEL, "0-0")[-1]["seq"]
            return newest, json.dumps({"type": "snapshot", "seq": newest})

        return initial

    return make


def test_snapshot_covers_events_committed_between_subscribe_and_read_so_none_is_sent_again(
    settings: Settings, redis_client: redis.Redis
) -> None:
    publish(redis_client, Event(CHANNEL, "market.trade", {"n": "before"}))

    frames = asyncio.run(open_feed(settings, redis_client, None, snapshot_of_stream(redis_client)))

    newest = read_since(redis_client, CHANNEL, "0-0")[-1]["seq"]
    assert frames == [
        {"type": "subscribed", "channel": CHANNEL, "seq": newest},
        {"type": "snapshot", "seq": newest},
    ]
    assert events_in(frames) == []


def stream_end(client: redis.Redis) -> Callable[[ClientConnection], Initial]:
    """A bare "start from now": the newest seq when it is read, no starting state."""

    def make(conn: ClientConnection) -> Initial:
        async def initial() -> tuple[str | None, str | None]:
            events = read_since(client, CHANNEL, "0-0")
            return (events[-1]["seq"] if events else None), None

        return initial

    return make


def test_start_from_now_says_where_it_starts_so_a_resume_from_there_misses_nothing(
    settings: Settings, redis_client: redis.Redis
) -> None:
    publish(redis_client, Event(CHANNEL, "market.trade", {"n": "before"}))

    first = asyncio.run(open_feed(settings, redis_client, None, stream_end(redis_client)))
    # The client drops before any event reaches it; these are committed while it is away.
    for i in range(2):
        publish(redis_client, Event(CHANNEL, "market.trade", {"n": f"away-{i}"}))
    start = first[0]
    assert start["type"] == "subscribed"
    again = asyncio.run(open_feed(settings, redis_client, start["seq"], no_initial))

    everything = [e["seq"] for e in read_since(redis_client, CHANNEL, "0-0")]
    # Events at or below the announced seq are the past; every later one arrives exactly once.
    assert start["seq"] in everything
    after = everything[everything.index(start["seq"]) + 1 :]
    assert events_in(first) + events_in(again) == after
    assert len(after) >= 2 + 3


def test_a_catch_up_queued_behind_a_resync_sends_what_came_after_the_resync(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """Redis came back empty and the hub confirmed the channel twice in a row (ours and
    redis-py's reconnect): the first catch-up resyncs, and an event committed right after that
    resync must reach the client, not be taken for part of a second resync's start."""
    publish(redis_client, Event(CHANNEL, "market.trade", {"n": "before"}))
    after: list[str] = []

    def make(conn: ClientConnection) -> Initial:
        calls = 0

        async def initial() -> tuple[str | None, str | None]:
            nonlocal calls
            calls += 1
            events = read_since(redis_client, CHANNEL, "0-0")
            newest = events[-1]["seq"] if events else None
            if calls == 2:  # the resync's start, read from the empty stream; then one commit
                after.append(publish(redis_client, Event(CHANNEL, "market.trade", {"n": "x"})))
            return newest, None

        return initial

    async def run() -> list[dict[str, Any]]:
        recorder = Recorder()
        async with feed_on(settings, ChannelHub(async_client(settings)), recorder, make) as (
            feed,
            frames,
        ):
            await feed.open(None)
            redis_client.delete(stream_key(CHANNEL))  # Redis restarted without its data
            feed.resubscribed()
            feed.resubscribed()  # queued: runs once the first catch-up is done
            await recorder.heard(1)
            while (catchup := feed._catchup) is not None and not catchup.done():
                await catchup  # the first, then the one queued behind it
        return frames

    frames = asyncio.run(run())

    resyncs = [f for f in frames if f.get("type") == "resync"]
    assert resyncs == [{"type": "resync", "channel": CHANNEL, "reason": "since_too_old"}]
    assert events_in(frames) == after


class ReactingSocket(RecordingSocket):
    """A client that commits an event as soon as it gets its resync (a trader acting on the
    fresh state), before the feed's next step."""

    def __init__(self, client: redis.Redis) -> None:
        super().__init__()
        self.client = client
        self.committed: list[str] = []

    async def send_text(self, text: str) -> None:
        await super().send_text(text)
        if self.frames[-1].get("type") == "resync":
            self.committed.append(publish(self.client, Event(CHANNEL, "market.trade", {"n": 1})))


def test_an_event_committed_once_the_client_has_its_resync_is_sent(
    settings: Settings, redis_client: redis.Redis
) -> None:
    publish(redis_client, Event(CHANNEL, "market.trade", {"n": "before"}))

    def make(conn: ClientConnection) -> Initial:
        async def initial() -> tuple[str | None, str | None]:
            for _ in range(5):  # the connection's writer runs meanwhile, as on a loaded loop
                await asyncio.sleep(0)
            events = read_since(redis_client, CHANNEL, "0-0")
            return (events[-1]["seq"] if events else None), None

        return initial

    async def run() -> tuple[list[dict[str, Any]], list[str]]:
        recorder = Recorder()
        hub = ChannelHub(async_client(settings))
        await hub.start()
        await ChannelHub.subscribe(hub, CHANNEL, recorder)
        reader = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        socket = ReactingSocket(redis_client)
        conn = ClientConnection(socket, queue_size=100, queue_chars=1024**2)  # type: ignore[arg-type]
        feed = ChannelFeed(conn, hub, reader, CHANNEL, CHANNEL, make(conn))
        try:
            await feed.open(None)
            redis_client.delete(stream_key(CHANNEL))  # Redis restarted without its data
            feed.resubscribed()
            while (catchup := feed._catchup) is not None and not catchup.done():
                await catchup
            await recorder.heard(1)
            await asyncio.sleep(0.1)  # anything the gate let through reaches the socket
            await conn.drained()
        finally:
            await feed.close()
            await hub.stop()
            await reader.aclose()
        return socket.frames, socket.committed

    frames, committed = asyncio.run(run())

    assert [f["type"] for f in frames if f.get("type") == "resync"] == ["resync"]
    assert len(committed) == 1
    assert events_in(frames) == committed


class CountingRedis(aioredis.Redis):
    """The real client, noting the name of each command it sends."""

    sent: list[str]

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.sent.append(str(args[0]).upper())
        return await super().execute_command(*args, **options)


def test_a_resume_from_a_kept_seq_reads_the_stream_once(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """Thousands of clients resume at once after a network drop: each one's check that its
    `since` is still kept and its replay come in one round trip, not two."""
    seen = publish(redis_client, Event(CHANNEL, "market.trade", {"n": "seen"}))
    missed = [publish(redis_client, Event(CHANNEL, "market.trade", {"n": i})) for i in range(3)]

    async def run() -> tuple[list[dict[str, Any]], list[str]]:
        reader = CountingRedis.from_url(settings.broker_url, decode_responses=True)
        reader.sent = []
        hub = ChannelHub(async_client(settings))
        # No listener before the feed: one would have the hub confirm the channel again once
        # the feed joins it, and the feed catch up (a second XRANGE) on a loaded machine.
        async with feed_on(settings, hub, None, no_initial, reader) as (feed, frames):
            await hub.connected.wait()  # else the channel is confirmed twice: a catch-up follows
            await feed.open(seen)
        return frames, reader.sent

    frames, sent = asyncio.run(run())

    assert events_in(frames) == missed
    assert sent == ["XRANGE"]


def opening_feed(queue_chars: int) -> tuple[ChannelFeed, ClientConnection]:
    """A feed whose hub hands it nothing: what a test delivers waits in its buffer, as events
    that arrive while a feed opens do."""
    conn = ClientConnection(RecordingSocket(), 100, queue_chars)  # type: ignore[arg-type]

    async def empty_channel() -> tuple[str | None, str | None]:
        return None, None

    feed = ChannelFeed(conn, cast(Any, None), cast(Any, None), CHANNEL, CHANNEL, empty_channel)
    return feed, conn


def test_events_buffered_while_a_feed_opens_count_against_the_clients_budget() -> None:
    feed, conn = opening_feed(queue_chars=1000)
    feed.deliver("a" * 600, (1, 0), 0.0)
    held = conn.budget.held
    feed.deliver("b" * 600, (2, 0), 0.0)  # 1,200 characters buffered, in two frames
    assert (held, conn.overflowed) == (600, True)


class DeliveringHub:
    """Hands the feed one event as it subscribes: buffered until the open is done."""

    def __init__(self, event: str) -> None:
        self.event = event

    async def subscribe(self, channel: str, listener: ChannelFeed) -> None:
        listener.deliver(self.event, (1, 0), 0.0)


def test_buffered_events_are_counted_once_and_freed_once_sent() -> None:
    async def run() -> tuple[int, list[str]]:
        feed, conn = opening_feed(queue_chars=1000)
        event = json.dumps({"type": "market.trade", "channel": CHANNEL, "seq": "1-0", "data": {}})
        feed.hub = cast(Any, DeliveringHub(event))
        await feed.open(None)
        await conn.drained()
        return conn.budget.held, [f["type"] for f in cast(RecordingSocket, conn.websocket).frames]

    assert asyncio.run(run()) == (0, ["subscribed", "market.trade"])
