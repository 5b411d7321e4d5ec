"""Chat rooms: presence, history and messages, shared by every api process through Redis.

Presence is a sorted set per room: one member per connection, scored by when it expires. Live
connections refresh their entries; a process that dies stops refreshing, and its users drop out
of the list when the entries expire. Expired entries are reaped by the api processes that serve
the room (and on every join and leave): whoever removes them announces `chat.leave` for the
principals that left with them, so the room hears of it once. History is a capped list of the
room's last messages, written in the same commit as each message's event: joins and leaves, which
any principal can make many of, cannot push messages out of it as they push them out of the
room's capped stream (which stays the replay of everything, for `since`). A room from before
the list existed is read from its stream once, as it was then, and its list seeded with that.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis.asyncio as aioredis

from jobcast import scripts
from jobcast.events import STREAM_TTL_SECONDS, Event, Recent, publish_async
from jobcast.keys import Principal
from jobcast.ratelimit import Budget, spend
from jobcast.rediskeys import chat_messages_key, chat_rooms_key, presence_key, stream_key
from jobcast.schemas.text import hidden_character, refusal
from jobcast.settings import Settings
from realtime.protocol import ProtocolError

#: Stream entries read for the messages of a room from before its message list (`history`):
#: joins and leaves are among them.
HISTORY_SCAN_FACTOR = 4


def too_many_rooms(limit: int) -> ProtocolError:
    return ProtocolError(
        "too_many_rooms", f"You are in {limit} chat rooms, the most at once; leave one first."
    )


def _member(principal: Principal, connection_id: str) -> str:
    return json.dumps([principal.id, principal.name, connection_id])


def _prefix(principal: Principal) -> str:
    """How every member of `principal` starts (see `_member`)."""
    return json.dumps([principal.id])[:-1] + ","


async def _live_members(redis: aioredis.Redis, channel: str) -> list[tuple[str, str, str]]:
    """(principal id, name, connection id) of every unexpired entry; expired ones are left to
    `reap`, which announces them."""
    key = presence_key(channel)
    after_now = f"({time.time()!r}"  # exclusive: entries whose expiry is still ahead
    members: list[str] = await redis.zrangebyscore(key, after_now, "+inf")  # type: ignore[assignment]
    return [tuple(json.loads(m)) for m in members]


async def present(redis: aioredis.Redis, channel: str) -> list[dict[str, str]]:
    """Principals with a live entry in the room, each once, sorted by id."""
    people = {pid: name for pid, name, _ in await _live_members(redis, channel)}
    return [{"id": pid, "name": people[pid]} for pid in sorted(people)]


async def reap(redis: aioredis.Redis, channel: str, empty_ttl: int) -> None:
    """Remove expired entries (a dead process's connections) and announce `chat.leave`, with
    `reason: "expired"`, for each principal no live connection keeps in the room."""
    # Of several processes reaping the same room at once, exactly one gets each expired entry.
    keys = [presence_key(channel)]
    gone: list[str] = await scripts.run_async(redis, "presence_reap", keys, [repr(time.time())])
    if not gone:
        return
    people = await present(redis, channel)
    still_here = {person["id"] for person in people}
    left = {pid: name for pid, name, _ in (json.loads(m) for m in gone) if pid not in still_here}
    for pid, name in left.items():
        data = {"principal": {"id": pid, "name": name}, "present": people, "reason": "expired"}
        await publish_async(redis, Event(channel, "chat.leave", data))
    await _expire_if_empty(redis, channel, people, empty_ttl)


async def join(
    redis: aioredis.Redis,
    channel: str,
    principal: Principal,
    connection_id: str,
    ttl: float,
    max_rooms: int,
    empty_ttl: int,
) -> None:
    """Enter the room; announces `chat.join` when this is the principal's first connection.
    ProtocolError `too_many_rooms` when the principal is in `max_rooms` others already."""
    await reap(redis, channel, empty_ttl)  # a dead process's stale entry must not hide this join
    now = time.time()
    # "First in" is decided with the change, so two connections joining at once announce it once;
    # the principal's rooms cap how many streams one principal can make Redis keep.
    keys = [presence_key(channel), chat_rooms_key(principal.id)]
    argv = [
        _member(principal, connection_id),
        _prefix(principal),
        repr(now),
        repr(now + ttl),
        str(int(ttl) + 60),
        channel,
        str(max_rooms),
    ]
    first = await scripts.run_async(redis, "presence_join", keys, argv)
    if first == -1:
        raise too_many_rooms(max_rooms)
    if first:
        await _announce(redis, channel, "chat.join", principal)
        # The join renewed the stream's expiry; an empty room's messages, cut to `empty_ttl`
        # with it, must live as long again now someone is back.
        await redis.expire(chat_messages_key(channel), STREAM_TTL_SECONDS)


async def refresh(
    redis: aioredis.Redis, channel: str, principal: Principal, connection_id: str, ttl: float
) -> None:
    key, expires = presence_key(channel), time.time() + ttl
    await redis.zadd(key, {_member(principal, connection_id): expires})
    await redis.expire(key, int(ttl) + 60)
    await redis.zadd(chat_rooms_key(principal.id), {channel: expires}, gt=True)
    await redis.expire(chat_rooms_key(principal.id), int(ttl) + 60)


async def leave(
    redis: aioredis.Redis, channel: str, principal: Principal, connection_id: str, empty_ttl: int
) -> None:
    """Leave the room; announces `chat.leave` when no other connection keeps the principal in.
    A room nobody is in keeps its history for `empty_ttl` seconds only."""
    keys = [presence_key(channel), chat_rooms_key(principal.id)]
    argv = [_member(principal, connection_id), _prefix(principal), repr(time.time()), channel]
    last = await scripts.run_async(redis, "presence_leave", keys, argv)
    if last:
        people = await _announce(redis, channel, "chat.leave", principal)
        await _expire_if_empty(redis, channel, people, empty_ttl)


async def _expire_if_empty(
    redis: aioredis.Redis, channel: str, people: list[dict[str, str]], empty_ttl: int
) -> None:
    # Every event pushes the stream's expiry 7 days out; an empty room's history need not live
    # that long (a client that joins and leaves many rooms would otherwise pile them up).
    if not people:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.expire(stream_key(channel), empty_ttl)
            pipe.expire(chat_messages_key(channel), empty_ttl)
            await pipe.execute()


async def _announce(
    redis: aioredis.Redis, channel: str, type_: str, principal: Principal
) -> list[dict[str, str]]:
    """Publish a join or leave; returns who is in the room now."""
    people = await present(redis, channel)
    data = {
        "principal": {"id": principal.id, "name": principal.name},
        "present": people,
        "reason": "left" if type_ == "chat.leave" else "joined",
    }
    await publish_async(redis, Event(channel, type_, data))
    return people


async def history(
    redis: aioredis.Redis, channel: str, count: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The room's last `count` messages (oldest first) and the seq of the newest event."""
    # One script: each message enters the list in its event's commit, so read with the newest
    # seq the list holds exactly the messages at or before it, which the live hand-off relies
    # on. A room from before the list existed has its messages only in its stream: the script
    # reads them from there, as before the list, and seeds the list with them.
    kept = _message_list(channel, count)
    keys = [kept.key, stream_key(channel)]
    argv = [count, kept.keep * HISTORY_SCAN_FACTOR, kept.keep]
    messages, newest = await scripts.run_async(redis, "chat_history", keys, argv)
    return [json.loads(m) for m in messages], (str(newest) if newest else None)


def _message_list(channel: str, history: int) -> Recent:
    """The room's list of its last `history` messages (at least one), as each message's commit
    appends to it."""
    return Recent(chat_messages_key(channel), max(1, history), STREAM_TTL_SECONDS)


async def say(
    redis: aioredis.Redis,
    settings: Settings,
    channel: str,
    principal: Principal,
    data: dict[str, Any],
) -> str:
    """Publish a message to the room after the size and rate checks; returns its seq."""
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ProtocolError("bad_message", "A chat message needs a non-empty `data.text`.")
    hidden = hidden_character(text, allowed="\n\t")
    if hidden is not None:
        raise ProtocolError("bad_message", f"The message {refusal(hidden)}.")
    if len(text.encode()) > settings.chat_max_message_bytes:
        raise ProtocolError(
            "too_large", f"Chat messages are limited to {settings.chat_max_message_bytes} bytes."
        )
    budget = Budget("chat", settings.chat_rate_per_minute, settings.chat_rate_burst)
    decision = await spend(redis, budget, principal.id)
    if not decision.allowed:
        raise ProtocolError(
            "rate_limited", f"Too many chat messages; retry after {decision.retry_after_s} s."
        )
    body = {"from": {"id": principal.id, "name": principal.name}, "text": text}
    kept = _message_list(channel, settings.chat_history)
    return await publish_async(redis, Event(channel, "chat.message", body), (kept,))
