"""Chat rooms: presence, history and messages, shared by every api process through Redis.

Presence is a sorted set per room: one member per connection, scored by when it expires. Live
connections refresh their entries; a process that dies stops refreshing, and its users drop out
of the list when the entries expire. Expired entries are reaped by the api processes that serve
the room (and on every join and leave): whoever removes them announces `chat.leave` for the
principals that left with them, so the room hears of it once. History is the room's event
stream itself (the last N `chat.message` events), so it needs no second copy.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis.asyncio as aioredis

from jobcast.events import Event, publish_async, read_latest_async
from jobcast.keys import Principal
from jobcast.ratelimit import Budget, spend
from jobcast.rediskeys import chat_rooms_key, presence_key, stream_key
from jobcast.settings import Settings
from realtime.protocol import ProtocolError

#: Stream entries read to find the last N messages among joins and leaves.
HISTORY_SCAN_FACTOR = 4

# Take the expired entries out and return them, in one step: of several processes reaping the
# same room at once, exactly one gets them (and announces the leaves).
# KEYS: [presence set]  ARGV: [now]
_REAP_LUA = """
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1]) end
return gone
"""

# Join and leave decide "first in" / "last out" and change the set in one step, so two
# connections of one principal joining or leaving at once announce it once, not twice.
# Members are JSON `["<principal id>", "<name>", "<connection id>"]`; ARGV[2] is the prefix
# `["<principal id>",` that picks out a principal's entries.
_PRESENCE_LUA_HEAD = """
local function others_live(key, member, prefix, now)
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf')) do
    if m ~= member and string.sub(m, 1, #prefix) == prefix then return true end
  end
  return false
end
"""
# The principal's rooms (KEYS[2], room -> when its last entry there expires) cap how many rooms
# one principal is in at once: each room is a stream in Redis, so joining without bound would
# grow Redis without bound.
# KEYS: [set, principal's rooms]  ARGV: [member, prefix, now, expires at, key ttl, room, limit]
# Returns 1 if first in, 0 if already in, -1 if the principal is in `limit` other rooms.
_JOIN_LUA = (
    _PRESENCE_LUA_HEAD
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
if not redis.call('ZSCORE', KEYS[2], ARGV[6])
   and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[7]) then
  return -1
end
local first = not others_live(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], 'GT', ARGV[4], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return first and 1 or 0
"""
)
# KEYS: [set, principal's rooms]  ARGV: [member, prefix, now, room]
# Returns 1 if this removed the principal's last live entry.
_LEAVE_LUA = (
    _PRESENCE_LUA_HEAD
    + """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
if others_live(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then return 0 end
redis.call('ZREM', KEYS[2], ARGV[4])
return 1
"""
)


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
    members: list[str] = await redis.zrangebyscore(key, f"({time.time()!r}", "+inf")  # type: ignore[assignment]
    return [tuple(json.loads(m)) for m in members]


async def present(redis: aioredis.Redis, channel: str) -> list[dict[str, str]]:
    """Principals with a live entry in the room, each once, sorted by id."""
    people = {pid: name for pid, name, _ in await _live_members(redis, channel)}
    return [{"id": pid, "name": people[pid]} for pid in sorted(people)]


async def reap(redis: aioredis.Redis, channel: str, empty_ttl: int) -> None:
    """Remove expired entries (a dead process's connections) and announce `chat.leave`, with
    `reason: "expired"`, for each principal no live connection keeps in the room."""
    gone: list[str] = await redis.eval(_REAP_LUA, 1, presence_key(channel), repr(time.time()))
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
    redis: aioredis.Redis, channel: str, principal: Principal, connection_id: str,
    ttl: float, max_rooms: int, empty_ttl: int,
) -> None:  # fmt: skip
    """Enter the room; announces `chat.join` when this is the principal's first connection.
    ProtocolError `too_many_rooms` when the principal is in `max_rooms` others already."""
    await reap(redis, channel, empty_ttl)  # a dead process's stale entry must not hide this join
    now = time.time()
    first = await redis.eval(
        _JOIN_LUA, 2, presence_key(channel), chat_rooms_key(principal.id),
        _member(principal, connection_id), _prefix(principal), repr(now), repr(now + ttl),
        str(int(ttl) + 60), channel, str(max_rooms),
    )  # fmt: skip
    if first == -1:
        raise too_many_rooms(max_rooms)
    if first:
        await _announce(redis, channel, "chat.join", principal)


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
    last = await redis.eval(
        _LEAVE_LUA, 2, presence_key(channel), chat_rooms_key(principal.id),
        _member(principal, connection_id), _prefix(principal), repr(time.time()), channel,
    )  # fmt: skip
    if last:
        people = await _announce(redis, channel, "chat.leave", principal)
        await _expire_if_empty(redis, channel, people, empty_ttl)


async def _expire_if_empty(
    redis: aioredis.Redis, channel: str, people: list[dict[str, str]], empty_ttl: int
) -> None:
    # Every event pushes the stream's expiry 7 days out; an empty room's history need not live
    # that long (a client that joins and leaves many rooms would otherwise pile them up).
    if not people:
        await redis.expire(stream_key(channel), empty_ttl)


async def _announce(
    redis: aioredis.Redis, channel: str, type_: str, principal: Principal
) -> list[dict[str, str]]:
    """Publish a join or leave; returns who is in the room now."""
    people = await present(redis, channel)
    data = {"principal": {"id": principal.id, "name": principal.name}, "present": people,
            "reason": "left" if type_ == "chat.leave" else "joined"}  # fmt: skip
    await publish_async(redis, Event(channel, type_, data))
    return people


async def history(
    redis: aioredis.Redis, channel: str, count: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The room's last `count` messages (oldest first) and the seq of the newest event."""
    recent = await read_latest_async(redis, channel, max(1, count * HISTORY_SCAN_FACTOR))
    latest = str(recent[-1]["seq"]) if recent else None
    messages = [e for e in recent if e["type"] == "chat.message"]
    return (messages[-count:] if count else []), latest


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
    if len(text.encode()) > settings.chat_max_message_bytes:
        raise ProtocolError("too_large", f"Chat messages are limited to {settings.chat_max_message_bytes} bytes.")  # fmt: skip
    budget = Budget("chat", settings.chat_rate_per_minute, settings.chat_rate_burst)
    decision = await spend(redis, budget, principal.id)
    if not decision.allowed:
        raise ProtocolError("rate_limited", f"Too many chat messages; retry after {decision.retry_after_s} s.")  # fmt: skip
    body = {"from": {"id": principal.id, "name": principal.name}, "text": text}
    return await publish_async(redis, Event(channel, "chat.message", body))
