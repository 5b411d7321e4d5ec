"""The api's asyncio clients pack commands in C (hiredis), as redis-py's sync clients do, and
send the same bytes and refuse the same values its Python packer would."""

from __future__ import annotations

import asyncio

import hiredis
import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from jobcast import redis_clients
from jobcast.settings import Settings

#: A command of every kind of argument a caller sends: text (non-ASCII too), bytes, numbers.
ARGS = ("EVAL", "return ARGV", 0, "é✓", b"\x00raw", 7, 2.5, 10**20, "x" * 10_000)


def clients(settings: Settings) -> list[aioredis.Redis]:
    return [
        redis_clients.async_client(settings),
        redis_clients.async_pool_client(settings, max_connections=2, wait_seconds=1),
    ]


def test_async_clients_pack_a_command_in_one_c_call_to_the_same_bytes(settings: Settings) -> None:
    python_packed = b"".join(Connection().pack_command(*ARGS))
    for client in clients(settings):
        connection = client.connection_pool.connection_class()
        packed = connection.pack_command(*ARGS)
        # One chunk: redis-py's Python packer splits past 6 kB and joins bytes argument by
        # argument, a few microseconds of the api's CPU an order in a 500-order batch.
        assert packed == [hiredis.pack_command(ARGS)]
        assert b"".join(packed) == python_packed


def test_async_clients_refuse_values_redis_py_refuses(settings: Settings) -> None:
    for client in clients(settings):
        connection = client.connection_pool.connection_class()
        for value in (None, True):
            with pytest.raises(DataError):
                connection.pack_command("SET", "k", value)


def test_async_clients_round_trip_every_kind_of_argument(settings: Settings) -> None:
    async def run() -> None:
        for client in clients(settings):
            echoed = await client.eval(*ARGS[1:])
            assert echoed == ["é✓", "\x00raw", "7", "2.5", str(10**20), "x" * 10_000]
            await client.aclose()

    asyncio.run(run())
