"""The per-principal connection count: its pure parts, and the Redis script under a race."""

from __future__ import annotations

import asyncio

import redis
import redis.asyncio as aioredis

from jobcast.rediskeys import ws_connections_key
from jobcast.settings import Settings
from realtime.connections import batched, expiries, refresh, register
from realtime.ticker import next_due, tick_step

TTL = 10.0


def test_refresh_entries_are_grouped_into_one_zadd_per_principal() -> None:
    entries = [("p1", "a"), ("p2", "b"), ("p1", "c")]
    assert expiries(entries, 99.5) == {
        ws_connections_key("p1"): {"a": 99.5, "c": 99.5},
        ws_connections_key("p2"): {"b": 99.5},
    }


def test_batches_cover_every_entry_once_in_order() -> None:
    entries = [("p", str(n)) for n in range(7)]
    assert [len(b) for b in batched(entries, 3)] == [3, 3, 1]
    assert [e for b in batched(entries, 3) for e in b] == entries
    assert list(batched([], 3)) == []


def test_the_ticker_refreshes_every_third_of_the_shortest_ttl() -> None:
    settings = Settings(_env_file=None, ws_heartbeat_interval=15, ws_connection_ttl=3)  # type: ignore[call-arg]
    assert tick_step(settings) == 1.0
    assert tick_step(settings.replace(ws_connection_ttl=300, chat_presence_ttl=300)) == 15


def test_a_ticker_keeps_its_period_and_restarts_it_when_a_whole_period_behind() -> None:
    assert next_due(15.0, 15.0, now=15.01) == 30.0
    assert next_due(15.0, 15.0, now=31.0) == 46.0


def test_racing_registrations_never_pass_the_limit(settings: Settings) -> None:
    async def scenario() -> list[bool]:
        client = aioredis.Redis.from_url(settings.broker_url, max_connections=20)
        try:
            return await asyncio.gather(
                *(register(client, ("p", f"c{n}"), 3, 1000.0, TTL) for n in range(20))
            )
        finally:
            await client.aclose()

    assert sum(asyncio.run(scenario())) == 3


def test_expired_entries_free_their_places_and_refreshed_ones_keep_them(
    settings: Settings, redis_client: redis.Redis
) -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        client = aioredis.Redis.from_url(settings.broker_url)
        try:
            await register(client, ("p", "kept"), 2, 1000.0, TTL)
            await register(client, ("p", "dead"), 2, 1000.0, TTL)
            refused = await register(client, ("p", "new"), 2, 1000.0 + TTL - 1, TTL)
            await refresh(client, [("p", "kept")], 1000.0 + TTL - 1, TTL)
            # "dead" was not refreshed: past its expiry it no longer counts; "kept" still does.
            later = 1000.0 + TTL + 1
            admitted = await register(client, ("p", "new"), 2, later, TTL)
            full = await register(client, ("p", "newer"), 2, later, TTL)
            return refused, admitted, full
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == (False, True, False)
    assert set(redis_client.zrange(ws_connections_key("p"), 0, -1)) == {"kept", "new"}  # type: ignore[arg-type]
