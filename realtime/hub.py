"""The hub: one Redis pub/sub connection per api process, fanned out to local listeners.

A channel is subscribed in Redis when its first local listener arrives and dropped after its
last one leaves, so Redis sees one subscriber per api process, never one per WebSocket.

Redis drops are noticed through subscribe confirmations: after any reconnect (ours, with
backoff, or redis-py's own silent one) Redis confirms each channel again, and a confirmation
nobody asked for tells that channel's listeners to catch up from the stream.

A connection that dies silently (half-open TCP) is noticed by pinging it when it has been quiet
for a while: no answer in time, and it is dropped and reconnected like any other.

An outage is logged once when it starts, again only every STILL_DOWN_EVERY seconds while it
lasts, and once when Redis answers on a new connection (`Outage`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from jobcast.events import seq_of
from jobcast.redis_clients import redis_problem
from jobcast.rediskeys import hub_control_channel, pubsub_channel
from jobcast.seq import seq_key
from realtime import metrics
from realtime.liveness import Liveness
from realtime.loops import stop_loop

log = logging.getLogger("jobcast.realtime.hub")

PREFIX = pubsub_channel("")
#: Seconds a first subscriber waits for Redis to confirm the subscription.
CONFIRM_TIMEOUT = 5.0
INITIAL_BACKOFF = 0.1
#: Seconds between the "still down" lines of one outage: a line at every reconnect attempt
#: (each backoff, 5 s at most) buried everything else in the log during a long one.
STILL_DOWN_EVERY = 60.0


class Listener(Protocol):
    def deliver(self, raw: str, seq: tuple[int, int], ts: float) -> None:
        """Called for each live event of the channel (must not block)."""

    def resubscribed(self) -> None:
        """Called when the channel was subscribed again after a Redis drop."""


class HubUnavailableError(Exception):
    """Redis did not confirm a subscription in time."""


class SilentConnectionError(RedisConnectionError):
    """The pub/sub connection did not answer a ping in time: it is dead, though not closed."""


class Outage:
    """What the log says of the pub/sub connection's outages: when one starts, that it goes on
    now and then, and when it ends."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.said_at = 0.0
        self.failures = 0

    def failed(self, problem: str, backoff: float, now: float) -> None:
        self.failures += 1
        if self.since is None:
            self.since = self.said_at = now
            log.warning("pub/sub connection lost (%s); reconnecting in %.1f s", problem, backoff)
        elif now - self.said_at >= STILL_DOWN_EVERY:
            self.said_at = now
            log.warning(
                "pub/sub still down after %.0f s (%d attempts; last: %s)",
                now - self.since,
                self.failures,
                problem,
            )

    def answered(self, now: float) -> None:
        """Redis confirmed a subscription on a new connection."""
        if self.since is not None:
            log.info(
                "pub/sub reconnected after %.1f s (%d failed attempts)",
                now - self.since,
                self.failures,
            )
        self.since, self.failures = None, 0


class ChannelHub:
    def __init__(
        self,
        client: aioredis.Redis,
        max_backoff: float = 5.0,
        ping_interval: float = 5.0,
        ping_timeout: float = 5.0,
    ) -> None:
        self._client = client  # ours: closed by `stop`
        self._max_backoff = max_backoff
        self._ping_interval, self._ping_timeout = ping_interval, ping_timeout
        self._listeners: dict[str, set[Listener]] = {}
        self._pending: dict[str, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        # Always subscribed, so the connection exists (and is re-confirmed) with no channels.
        self._control = hub_control_channel(secrets.token_hex(6))
        #: Raw Redis channels outside the event namespace, always subscribed (see `watch`).
        self._watched: dict[str, Callable[[str], None]] = {}
        self.connected = asyncio.Event()
        self._outage = Outage()

    def watch(self, raw_channel: str, callback: Callable[[str], None]) -> None:
        """Call `callback` with each message published on `raw_channel` (a Redis channel name
        outside the event namespace, e.g. key revocations). Takes effect at the next connect:
        call it before `start`."""
        self._watched[raw_channel] = callback

    @property
    def channels(self) -> list[str]:
        return list(self._listeners)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="jobcast-hub")

    async def stop(self) -> None:
        if self._task is not None:
            # The read loop lives in Redis calls: one cancellation may be swallowed there.
            await stop_loop(self._task)
        await self._drop_pubsub()
        await self._client.aclose()

    async def subscribe(self, channel: str, listener: Listener) -> None:
        """Add a listener; returns once Redis delivers the channel's live events to this hub.

        Raises `HubUnavailableError` if Redis does not confirm in time (it is away, or the pub/sub
        connection is being replaced); the listener is then gone again, whatever failed."""
        listeners = self._listeners.setdefault(channel, set())
        first = not listeners
        listeners.add(listener)
        metrics.HUB_CHANNELS.set(len(self._listeners))
        try:
            if first:
                # Pending from now on, so a second listener arriving while this one waits for the
                # lock also waits for the confirmation instead of assuming the channel is live.
                future = asyncio.get_running_loop().create_future()
                self._pending[channel] = future
                await self._subscribe_confirmed(channel, future)
            elif channel in self._pending:
                await asyncio.wait_for(asyncio.shield(self._pending[channel]), CONFIRM_TIMEOUT)
        except BaseException as exc:
            # Cancelled or failed: a listener left registered would be fed events (and counted)
            # for a subscription its owner believes failed.
            await self.unsubscribe(channel, listener)
            if isinstance(exc, (TimeoutError, RedisError, OSError)):
                raise HubUnavailableError(channel) from exc
            raise

    async def unsubscribe(self, channel: str, listener: Listener) -> None:
        listeners = self._listeners.get(channel)
        if listeners is None:
            return
        listeners.discard(listener)
        if listeners:
            return
        del self._listeners[channel]
        metrics.HUB_CHANNELS.set(len(self._listeners))
        async with self._lock:
            if channel not in self._listeners and self._pubsub is not None:
                # Redis away or the connection being replaced: the channel is simply not
                # resubscribed on reconnect (see `_send` for why any exception means that).
                with contextlib.suppress(RedisConnectionError):
                    await self._send(self._pubsub.unsubscribe, PREFIX + channel)

    async def _subscribe_confirmed(self, channel: str, future: asyncio.Future[None]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONFIRM_TIMEOUT
        try:
            # Waiting for a reconnect happens outside the lock: during an outage, subscribes
            # wait side by side instead of each queueing for the whole timeout of the last.
            await asyncio.wait_for(self.connected.wait(), CONFIRM_TIMEOUT)
            async with self._lock:
                if self._pubsub is None or not self.connected.is_set():
                    raise RedisConnectionError("pub/sub connection is down")
                await self._send(self._pubsub.subscribe, PREFIX + channel)
            await asyncio.wait_for(asyncio.shield(future), max(deadline - loop.time(), 0.0))
        finally:
            self._pending.pop(channel, None)
            if not future.done():
                # Listeners waiting on it fail the way this one did (and unsubscribe); marked
                # as retrieved so an unwaited failure does not log "never retrieved".
                future.set_exception(RedisConnectionError(f"{channel} was not confirmed"))
                future.exception()

    @staticmethod
    async def _send(command: Callable[[str], Awaitable[None]], raw_channel: str) -> None:
        """Send a (un)subscribe on the pub/sub connection, which the reading task may be tearing
        down at that very moment (Redis dropped): redis-py then fails with its internals half
        reset (an `AttributeError` on a writer already set to None, among others) rather than a
        `ConnectionError`, or, while the read loop reconnects it, with asyncio's `RuntimeError`
        "readuntil() called while another coroutine is already waiting for incoming data". Any
        failure here means the same thing: the connection is lost, and the read loop replaces
        it."""
        try:
            await command(raw_channel)
        except (RedisError, OSError, AttributeError, TypeError, ValueError, RuntimeError) as exc:
            raise RedisConnectionError(f"pub/sub connection lost ({exc!r})") from exc

    async def _run(self) -> None:
        backoff = INITIAL_BACKOFF
        while True:
            try:
                await self._connect()
                backoff = INITIAL_BACKOFF
                await self._read()
            except (RedisError, OSError) as exc:
                problem = redis_problem(exc, where=True)
                self._outage.failed(problem, backoff, asyncio.get_running_loop().time())
            self.connected.clear()
            await self._drop_pubsub()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    async def _connect(self) -> None:
        self._pubsub = self._client.pubsub()
        channels = [PREFIX + c for c in self._listeners]
        # Each of these is confirmed by Redis, which tells their listeners to catch up.
        await self._pubsub.subscribe(self._control, *self._watched, *channels)
        self.connected.set()

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def _read(self) -> None:
        # Reads never block for longer than the next ping or verdict: a blocking read would
        # wait forever on a half-open connection.
        clock = asyncio.get_running_loop().time
        liveness = Liveness(self._ping_interval, self._ping_timeout, heard_at=clock())
        while True:
            await self._check_alive(liveness, clock())
            message = await self._pubsub.get_message(timeout=liveness.wait(clock()))
            if message is not None:
                liveness.heard(clock())
                self._handle(message)

    async def _check_alive(self, liveness: Liveness, now: float) -> None:
        if liveness.dead(now):
            raise self._silent()
        if liveness.ping_due(now):
            liveness.pinged(now)
            # Subscribed, Redis answers with a "pong" message in the stream read above. One
            # ping per quiet interval per process, however many channels it holds.
            try:
                await asyncio.wait_for(self._pubsub.ping(), self._ping_timeout)
            except TimeoutError as exc:  # the send itself is stuck behind a full socket buffer
                raise self._silent() from exc

    def _silent(self) -> SilentConnectionError:
        kwargs = self._client.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        return SilentConnectionError(
            f"no answer to a PING from {where} db {kwargs.get('db', 0)} within "
            f"{self._ping_timeout:.1f} s (half-open connection, or Redis stalled)"
        )

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        watcher = self._watched.get(message.get("channel") or "")
        if watcher is not None:
            if kind == "message":
                watcher(message["data"])
        elif kind == "message":
            self._dispatch(message["channel"][len(PREFIX) :], message["data"])
        elif kind == "subscribe" and message["channel"] == self._control:
            self._outage.answered(asyncio.get_running_loop().time())
        elif kind == "subscribe":
            self._confirmed(message["channel"][len(PREFIX) :])

    def _confirmed(self, channel: str) -> None:
        future = self._pending.get(channel)
        if future is not None and not future.done():
            future.set_result(None)
            return
        metrics.HUB_RESUBSCRIPTIONS.inc()
        for listener in list(self._listeners.get(channel, ())):
            listener.resubscribed()

    def _dispatch(self, channel: str, raw: str) -> None:
        listeners = self._listeners.get(channel)
        if not listeners:
            return
        try:
            seq = seq_key(seq_of(raw))
            ts = float(json.loads(raw).get("ts", 0.0))
        except (ValueError, AttributeError):
            log.warning("dropped a malformed event on %s", channel)
            return
        for listener in list(listeners):
            listener.deliver(raw, seq, ts)
