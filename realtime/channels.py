"""Which channels exist, who may subscribe to them, and what a new subscriber starts with.

`job.{id}` and `user.me` are the owner's only: anyone else is told the channel does not exist,
the same 404-like answer REST gives, so ids cannot be probed. `market.{symbol}` (a configured
symbol: any other is not_found, as `GET /market/{symbol}` answers), `chat.*` and `monitor` are
shared by every authenticated principal.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from jobcast.channel_names import NAME_RULE, is_channel_name
from jobcast.events import read_latest_async, user_channel
from jobcast.jobs.ids import JOB_ID
from jobcast.jobs.records import decode_record
from jobcast.jobs.views import public_view
from jobcast.keys import Principal
from jobcast.orders.symbols import no_such_symbol
from jobcast.rediskeys import job_key, stream_key
from realtime.protocol import ProtocolError

#: The monitor's full sample (hosts, pids) for admins; everyone else gets `monitor`: totals.
MONITOR_ADMIN = "monitor.admin"


@dataclass(frozen=True)
class Channel:
    """A channel a principal may subscribe to; `name` is the resolved one (`user.me` -> id)."""

    name: str
    kind: str
    requested: str


CHANNELS = (
    "Channels are job.{id}, user.me, market.{symbol}, chat.{room} or monitor; what follows the "
    f"kind is {NAME_RULE}."
)


#: The room of the seed's `/ws/chat/{user_id}` when the address names none.
LOBBY = "lobby"


def seed_room(given: Sequence[str]) -> str:
    """The room the seed's `/ws/chat/{user_id}?room=` names: the lobby when there is no `room`;
    ProtocolError `bad_room` for an empty or invalid name, or several (none is guessed)."""
    if len(given) > 1:
        said = f"?room= is given {len(given)} times; name one room."
        raise ProtocolError("bad_room", said)
    room = given[0] if given else LOBBY
    if not is_channel_name(room):
        said = f"The room {room!r} in ?room= is not a room name: {NAME_RULE}."
        raise ProtocolError("bad_room", said)
    return room


def not_found(requested: str) -> ProtocolError:
    return ProtocolError("not_found", f"No channel {requested!r} for you.")


async def authorize(
    redis: aioredis.Redis, principal: Principal, requested: str, symbols: Collection[str]
) -> Channel:
    """The channel `principal` may subscribe to as `requested`, or ProtocolError. `symbols`
    are the tradable ones: a market channel of any other would stay silent forever."""
    if requested in ("monitor", MONITOR_ADMIN):
        return _monitor(principal, requested)
    kind, _, rest = requested.partition(".")
    if not is_channel_name(rest):
        # A kind alone (`jobs`, `market`) names nothing: said, before the rule.
        unknown = "" if "." in requested else f"Unknown channel {requested!r}. "
        raise ProtocolError("bad_channel", unknown + CHANNELS)
    if kind == "chat":
        return Channel(requested, kind, requested)
    if kind == "market":
        if rest not in symbols:
            raise ProtocolError("not_found", no_such_symbol(rest, symbols))
        return Channel(requested, kind, requested)
    if kind == "user" and rest in ("me", principal.id):
        return Channel(user_channel(principal.id), "user", requested)
    # Only a job's id is looked up: `job.<id>:gone` read the record's tombstone, a string, and
    # its WRONGTYPE error answered `unavailable` where a missing job is `not_found`, telling
    # anyone which ids exist (and logging "Redis unavailable" at each try).
    owned = kind == "job" and JOB_ID.fullmatch(rest) is not None
    if owned and await redis.hget(job_key(rest), "owner") == principal.id:
        return Channel(requested, "job", requested)
    if kind in ("job", "user"):
        raise not_found(requested)
    raise ProtocolError("bad_channel", f"Unknown channel kind {kind!r}. {CHANNELS}")


def _monitor(principal: Principal, requested: str) -> Channel:
    """Admins get the full sample (hosts, pids) whichever they ask for; others the totals."""
    if principal.admin:
        return Channel(MONITOR_ADMIN, "monitor", requested)
    if requested == MONITOR_ADMIN:
        raise not_found(requested)
    return Channel("monitor", "monitor", requested)


async def latest_seq(redis: aioredis.Redis, channel: str) -> str | None:
    latest = await read_latest_async(redis, channel, 1)
    return str(latest[-1]["seq"]) if latest else None


async def job_snapshot(
    redis: aioredis.Redis, channel: Channel
) -> tuple[dict[str, Any] | None, str | None]:
    """The job record and the seq of the newest event it reflects, read in one transaction."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hgetall(job_key(channel.name.partition(".")[2]))
        pipe.xrevrange(stream_key(channel.name), count=1)
        raw, latest = await pipe.execute()
    seq = str(latest[0][0]) if latest else None
    if not raw:
        return None, seq
    record = decode_record(raw)
    # What GET /jobs/{id} shows (no storage names), plus the result: a client that subscribes
    # after completion gets it here.
    return {**public_view(record), "result": record.get("result")}, seq
