from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import TimeoutError as RedisTimeoutError

from jobcast import scripts
from jobcast.scripts import ScriptKeys, ScriptLane
from jobcast.settings import Settings

#: The name of the test's client and its lane's connections (this test's own, on a shared Redis).
LANE_CLIENT = f"lane-test-{secrets.token_hex(4)}"
#: One read spend of a huge budget, and the record it reads: what `spend_and_read` sends.
SPEND_READ = (["rl:who", "rec"], ["0.001", "1000000", "1"])


def test_script_keys_are_sent_once_and_named_by_lua_index() -> None:
    keys = ScriptKeys("fixed")
    assert [keys.ref("a"), keys.ref("b"), keys.ref("a"), keys.ref("fixed")] == [2, 3, 2, 1]
    assert keys.keys == ["fixed", "a", "b"]


def _with_lane(settings: Settings, size: int, timeout: float, use: Any) -> Any:
    async def run() -> Any:
        client = aioredis.Redis.from_url(
            settings.broker_url,
            decode_responses=True,
            socket_timeout=timeout,
            client_name=LANE_CLIENT,  # its lane's connections too (made from its kwargs)
        )
        lane = ScriptLane(client, size)
        try:
            await client.hset("rec", mapping={"owner": "p_1"})
            return await use(client, lane)
        finally:
            await lane.aclose()
            await client.aclose()

    return asyncio.run(run())


def test_a_lane_answers_as_its_client_even_after_redis_forgot_the_script(
    settings: Settings,
) -> None:
    async def use(client: aioredis.Redis, lane: ScriptLane) -> list[Any]:
        through_client = await scripts.run_async(client, "rate_spend_read", *SPEND_READ)
        await client.script_flush()  # as a restarted Redis: no script cached
        return [through_client, await lane.run("rate_spend_read", *SPEND_READ)]

    through_client, through_lane = _with_lane(settings, 2, 5, use)
    assert through_lane[0] == through_client[0] == 1
    assert through_lane[-1] == through_client[-1] == '{"owner":"p_1"}'


def test_a_lane_at_its_cap_sends_through_its_client(settings: Settings) -> None:
    async def use(client: aioredis.Redis, lane: ScriptLane) -> list[Any]:
        calls = (lane.run("rate_spend_read", *SPEND_READ) for _ in range(5))
        return list(await asyncio.gather(*calls))

    answers = _with_lane(settings, 1, 5, use)
    assert [answer[0] for answer in answers] == [1] * 5


def test_a_lane_call_redis_does_not_answer_in_time_fails_and_the_next_one_is_served(
    settings: Settings,
) -> None:
    async def use(client: aioredis.Redis, lane: ScriptLane) -> Any:
        await lane.run("rate_spend_read", *SPEND_READ)  # a connection made and in the lane
        await client.execute_command("CLIENT", "PAUSE", "400", "ALL")
        with pytest.raises(RedisTimeoutError):
            await lane.run("rate_spend_read", *SPEND_READ)
        await asyncio.sleep(0.5)
        return await lane.run("rate_spend_read", *SPEND_READ)

    assert _with_lane(settings, 1, 0.2, use)[0] == 1


def test_a_cancelled_lane_call_never_leaves_its_reply_for_the_next_caller(
    settings: Settings,
) -> None:
    """A request dropped mid-call (the client went away) must not hand its unread reply to
    whoever takes the connection next: that would be another principal's record."""

    def spend_read(n: int) -> tuple[list[str], list[str]]:
        return [f"rl:{n}", f"rec:{n}"], ["0.001", "1000000", "1"]

    async def use(client: aioredis.Redis, lane: ScriptLane) -> list[tuple[int, Any]]:
        for n in range(40):
            await client.hset(f"rec:{n}", mapping={"owner": f"p_{n}"})
        seen: list[tuple[int, Any]] = []
        for round_ in range(30):
            calls = [
                asyncio.ensure_future(lane.run("rate_spend_read", *spend_read(n)))
                for n in range(40)
            ]
            for _ in range(round_ % 4):
                await asyncio.sleep(0)  # cancel at different points of the calls
            for call in calls[::3]:
                call.cancel()
            await asyncio.gather(*calls, return_exceptions=True)
            for n in range(40):
                seen.append((n, (await lane.run("rate_spend_read", *spend_read(n)))[-1]))
        return seen

    for n, record in _with_lane(settings, 4, 5, use):
        assert record == f'{{"owner":"p_{n}"}}'


def test_a_lane_connection_redis_closed_a_moment_ago_is_replaced_before_the_call(
    settings: Settings,
) -> None:
    # A restart quicker than the lane's old idle limit (1 s): its connection, closed by Redis
    # and unused since, carried the next call, which failed with "Connection closed by server".
    async def use(client: aioredis.Redis, lane: ScriptLane) -> Any:
        await lane.run("rate_spend_read", *SPEND_READ)  # a connection made and in the lane
        await _close_lane_connections(client)
        await asyncio.sleep(0.05)  # this loop reads the lane connection's end of stream
        return await lane.run("rate_spend_read", *SPEND_READ)

    assert _with_lane(settings, 1, 5, use)[0] == 1


async def _close_lane_connections(client: aioredis.Redis) -> None:
    """As a Redis restart closes them, the lane's connections only: the server is shared."""
    mine = await client.client_id()
    for entry in await client.client_list():
        if entry["name"] == LANE_CLIENT and int(entry["id"]) != mine:
            await client.client_kill_filter(_id=entry["id"])
