"""A lease in Redis that one process of the cluster holds at a time (the monitor's producer,
the reconciler): taken when free, extended by its holder, expiring when the holder goes silent.
The scripts are `jobcast/lua/lease_take_or_extend.lua` and `delete_if_holder.lua`."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis

from jobcast import scripts


def take_or_extend(client: redis.Redis, key: str, holder: str, ttl_ms: int) -> bool:
    """Take the lease if free, extend it if `holder` has it; whether `holder` holds it now."""
    return bool(scripts.run(client, "lease_take_or_extend", [key], [holder, str(ttl_ms)]))


def queue_take_or_extend(pipe: redis.client.Pipeline, key: str, holder: str, ttl_ms: int) -> None:
    """`take_or_extend` queued on `pipe`: its reply there is 1 when `holder` holds it, else 0."""
    scripts.run(pipe, "lease_take_or_extend", [key], [holder, str(ttl_ms)])


async def take_or_extend_async(client: aioredis.Redis, key: str, holder: str, ttl_ms: int) -> bool:
    """`take_or_extend` for the api's asyncio client (the monitor)."""
    held = await scripts.run_async(client, "lease_take_or_extend", [key], [holder, str(ttl_ms)])
    return bool(held)


def release(client: redis.Redis, key: str, holder: str) -> None:
    """Drop the lease, only if `holder` still holds it."""
    scripts.run(client, "delete_if_holder", [key], [holder])
