"""Rate limits kept in Redis, so every api process spends from the same budget.

GCRA (the generic cell rate algorithm): one key per (budget, client) holds the "theoretical
arrival time"; a request is allowed when it is no earlier than that time minus the burst
tolerance. One Lua script (`jobcast/lua/rate_spend.lua`; `rate_spend_read.lua` also reads a
record in the same round trip) decides and updates atomically, using
Redis' clock so api processes with skewed clocks still agree.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis

from jobcast import scripts
from jobcast.rediskeys import rate_limit_key
from jobcast.settings import Settings

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Budget:
    """A named limit: `per_minute` sustained, `burst` at once."""

    name: str
    per_minute: int
    burst: int

    @property
    def interval_ms(self) -> float:
        return 60_000 / self.per_minute


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int
    reset_s: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_s)
        return headers


def budget_for(method: str, settings: Settings) -> Budget:
    """A principal's budget for a request: "read" for GET/HEAD/OPTIONS, "submit" otherwise."""
    if method.upper() in READ_METHODS:
        return Budget("read", settings.rate_read_per_minute, settings.rate_read_burst)
    return Budget("submit", settings.rate_submit_per_minute, settings.rate_submit_burst)


def anonymous_budget(settings: Settings) -> Budget:
    """The per-address budget spent by requests and sockets without a valid key."""
    return Budget("anon", settings.rate_anonymous_per_minute, settings.rate_anonymous_burst)


async def spend(client: aioredis.Redis, budget: Budget, who: str, cost: int = 1) -> Decision:
    """Spend `cost` requests of `budget` for client `who` (all of them, or none)."""
    key = rate_limit_key(budget.name, who)
    raw = await scripts.run_async(client, "rate_spend", [key], _spend_args(budget, cost))
    return _decision(budget, raw)


async def spend_and_read(
    client: aioredis.Redis | scripts.ScriptLane,
    budget: Budget,
    who: str,
    record_key: str,
    leave_out: tuple[str, ...] = (),
) -> tuple[Decision, dict[str, str]]:
    """Spend one request of `budget` for `who` and, if allowed, read the hash at `record_key`
    without the fields named in `leave_out`, in one round trip (a refused spend reads nothing:
    the record is then empty)."""
    keys = [rate_limit_key(budget.name, who), record_key]
    args = [*_spend_args(budget, 1), *leave_out]
    *raw, record = await scripts.run_async(client, "rate_spend_read", keys, args)
    return _decision(budget, raw), orjson.loads(record)


async def spend_and_reserve(
    client: aioredis.Redis, budget: Budget, who: str, ledger: str, reserve_args: list[Any]
) -> tuple[Decision, list[int]]:
    """Spend one request of `budget` for `who` and, if allowed, reserve in the quota `ledger`
    as `quota_reserve.lua` does with `reserve_args` (`jobcast.quotas.reserve_args`), in one
    round trip: (the decision, the reservation's raw reply; a refused spend reserves nothing)."""
    keys = [rate_limit_key(budget.name, who), ledger]
    args = [*_spend_args(budget, 1), *reserve_args]
    raw = await scripts.run_async(client, "rate_spend_reserve", keys, args)
    return _decision(budget, raw[:4]), raw[4:]


def _spend_args(budget: Budget, cost: int) -> list[str]:
    return [str(budget.interval_ms), str(budget.burst), str(cost)]


def _decision(budget: Budget, raw: list[int]) -> Decision:
    allowed, remaining, retry_ms, reset_ms = (float(v) for v in raw)
    return Decision(
        allowed=bool(allowed),
        limit=budget.burst,
        remaining=max(0, int(remaining)),
        retry_after_s=max(1, math.ceil(retry_ms / 1000)),
        reset_s=max(0, math.ceil(reset_ms / 1000)),
    )


def client_address(peer: str | None, forwarded_for: str | None, trusted: list[str]) -> str:
    """The client's address: the direct peer, unless the peer is a trusted proxy, in which case
    the right-most X-Forwarded-For entry that is not itself a trusted proxy."""
    if peer is None:
        return "unknown"
    if not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return peer


def _is_trusted(address: str, trusted: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)
