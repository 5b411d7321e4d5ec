"""Stopping a background loop whose first cancellation is swallowed (as redis-py can)."""

from __future__ import annotations

import asyncio

from realtime.loops import stop_loop


async def _swallows_one_cancellation(swallowed: list[int]) -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        swallowed.append(1)  # a client library catching it in its own clean-up
    await asyncio.sleep(3600)  # the loop goes on as if nothing happened


def test_a_loop_that_swallows_a_cancellation_is_cancelled_again_until_it_ends() -> None:
    async def scenario() -> list[int]:
        swallowed: list[int] = []
        task = asyncio.create_task(_swallows_one_cancellation(swallowed))
        await asyncio.sleep(0)
        await asyncio.wait_for(stop_loop(task), 5)
        assert task.cancelled()
        return swallowed

    assert asyncio.run(scenario()) == [1]
