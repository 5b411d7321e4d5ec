"""A session's channels: subscribe (with the right start for each kind), unsubscribe, publish.

A job channel starts with a snapshot of the record, a chat room with its recent history and who
is present; every other channel starts live from "now" (or replays from `since`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from redis.exceptions import RedisError

from jobcast.keys import Principal
from jobcast.ratelimit import Budget, spend
from realtime import chat, metrics
from realtime.channels import Channel, authorize, job_snapshot, latest_seq
from realtime.connection import ClientConnection
from realtime.feed import ChannelFeed, Initial
from realtime.hub import HubUnavailableError
from realtime.protocol import ClientMessage, ProtocolError, reply
from realtime.runtime import Realtime


class Subscriptions:
    __slots__ = ("conn", "feeds", "principal", "rooms", "rt", "session_id")

    def __init__(
        self, rt: Realtime, conn: ClientConnection, principal: Principal, session_id: str
    ) -> None:
        self.rt, self.conn, self.principal, self.session_id = rt, conn, principal, session_id
        self.feeds: dict[str, ChannelFeed] = {}  # by resolved channel name
        self.rooms: set[str] = set()

    async def handle(self, message: ClientMessage) -> None:
        if not message.channel:
            raise ProtocolError("bad_field", "`channel` is required.", message.id)
        if message.type == "subscribe":
            await self.subscribe(message.channel, message.since, message.id)
        elif message.type == "unsubscribe":
            await self.unsubscribe(message.channel, message.id)
        else:
            await self.publish(message.channel, message.data or {}, message.id)

    async def subscribe(self, requested: str, since: str | None, ref: Any) -> None:
        channel = await authorize(self.rt.redis, self.principal, requested, self.rt.symbols)
        if channel.name in self.feeds:
            raise ProtocolError("already_subscribed", f"Already subscribed to {requested}.", ref)
        if len(self.feeds) >= self.rt.settings.ws_max_subscriptions:
            raise ProtocolError("too_many_subscriptions", "Unsubscribe from something first.", ref)
        await self._spend_subscribe(ref)
        if channel.kind == "chat":
            await self._join(channel.name, ref)
        feed = ChannelFeed(
            self.conn, self.rt.hub, self.rt.redis, channel.name, requested, self._initial(channel)
        )
        self.feeds[channel.name] = feed
        metrics.SUBSCRIPTIONS.inc()
        try:
            await feed.open(since, ref)
        except BaseException as exc:
            # Half-open subscriptions must not linger in the hub or the room.
            with contextlib.suppress(RedisError, OSError):
                await self._drop(channel.name)
            if isinstance(exc, HubUnavailableError):
                raise ProtocolError(
                    "unavailable", "Redis is unavailable; retry shortly.", ref
                ) from None
            raise

    async def unsubscribe(self, requested: str, ref: Any) -> None:
        channel = await authorize(self.rt.redis, self.principal, requested, self.rt.symbols)
        if channel.name not in self.feeds:
            raise ProtocolError("not_subscribed", f"Not subscribed to {requested}.", ref)
        await self._drop(channel.name)
        self.conn.push(reply("unsubscribed", ref, channel=requested))

    async def publish(self, requested: str, data: dict[str, Any], ref: Any) -> None:
        if not requested.startswith("chat.") or requested not in self.rooms:
            raise ProtocolError("publish_refused", "Only chat rooms you joined take messages.", ref)
        seq = await chat.say(self.rt.redis, self.rt.settings, requested, self.principal, data)
        self.conn.push(reply("published", ref, channel=requested, seq=seq))

    async def refresh_presence(self) -> None:
        for room in list(self.rooms):
            await chat.refresh(
                self.rt.redis,
                room,
                self.principal,
                self.session_id,
                self.rt.settings.chat_presence_ttl,
            )

    async def close_all(self) -> None:
        for name in list(self.feeds):
            await self._drop(name)

    async def _drop(self, name: str) -> None:
        feed = self.feeds.pop(name, None)
        if feed is not None:
            metrics.SUBSCRIPTIONS.dec()
            await feed.close()
        if name in self.rooms:
            self.rooms.discard(name)
            empty_ttl = self.rt.settings.chat_empty_room_ttl
            await chat.leave(self.rt.redis, name, self.principal, self.session_id, empty_ttl)

    async def _spend_subscribe(self, ref: Any) -> None:
        """Subscribes cost Redis work (and a chat room a stream): a per-principal budget."""
        settings = self.rt.settings
        budget = Budget("wssub", settings.ws_subscribes_per_minute, settings.ws_subscribes_burst)
        decision = await spend(self.rt.redis, budget, self.principal.id)
        if not decision.allowed:
            wait = decision.retry_after_s
            raise ProtocolError("rate_limited", f"Too many subscribes; retry after {wait} s.", ref)

    async def _join(self, room: str, ref: Any) -> None:
        s = self.rt.settings
        try:
            limits = (s.chat_presence_ttl, s.chat_max_rooms_per_principal, s.chat_empty_room_ttl)
            await chat.join(self.rt.redis, room, self.principal, self.session_id, *limits)
        except ProtocolError as exc:
            exc.ref = ref
            raise
        self.rooms.add(room)

    def _initial(self, channel: Channel) -> Initial:
        async def start() -> tuple[str | None, str | None]:
            if channel.kind == "job":
                record, seq = await job_snapshot(self.rt.redis, channel)
                return seq, reply("snapshot", channel=channel.requested, seq=seq, data=record)
            if channel.kind == "chat":
                return await self._chat_start(channel)
            return await latest_seq(self.rt.redis, channel.name), None

        return start

    async def _chat_start(self, channel: Channel) -> tuple[str | None, str]:
        redis = self.rt.redis
        messages, seq = await chat.history(redis, channel.name, self.rt.settings.chat_history)
        people = await chat.present(redis, channel.name)
        history = reply(
            "chat.history", channel=channel.requested, seq=seq, messages=messages, present=people
        )
        return seq, history
