import asyncio
import time

import pytest

from jobcast.deadlines import LOOKS_PER_PERIOD, SharedDeadline


async def _bounded(deadline: SharedDeadline, seconds: float) -> str:
    task = deadline.enter()
    try:
        await asyncio.sleep(seconds)
        return "done"
    except asyncio.CancelledError:
        if deadline.expired(task):
            raise TimeoutError from None
        raise
    finally:
        deadline.leave(task)


def test_a_block_past_its_time_raises_timeout_within_a_look_of_it() -> None:
    async def run() -> float:
        deadline = SharedDeadline(0.2)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await _bounded(deadline, 5)
        # The task goes on as asyncio.timeout leaves it: not cancelled.
        assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
        await asyncio.sleep(0)
        return time.monotonic() - started

    took = asyncio.run(run())
    assert 0.2 <= took < 0.2 + 0.2 / LOOKS_PER_PERIOD + 0.15


def test_blocks_in_time_end_as_they_would_and_are_each_bounded_alone() -> None:
    async def run() -> list[object]:
        deadline = SharedDeadline(0.3)
        calls = [_bounded(deadline, s) for s in (0.01, 0.05, 1.0, 0.1)]
        return list(await asyncio.gather(*calls, return_exceptions=True))

    answers = asyncio.run(run())
    assert answers[:2] == ["done", "done"]
    assert answers[3] == "done"
    assert isinstance(answers[2], TimeoutError)


def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    async def run() -> None:
        deadline = SharedDeadline(5)
        call = asyncio.ensure_future(_bounded(deadline, 5))
        await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(run())


def test_no_time_bounds_nothing() -> None:
    async def run() -> str:
        return await _bounded(SharedDeadline(None), 0.05)

    assert asyncio.run(run()) == "done"


def test_a_cancellation_from_elsewhere_that_comes_with_the_expiry_stays_a_cancellation() -> None:
    # As asyncio.timeout: the expiry is taken back, the other cancel is not swallowed into a
    # TimeoutError (a request whose client left would have been answered as a Redis timeout).
    async def run() -> None:
        deadline = SharedDeadline(60)  # its own looks come far too late to interfere
        call = asyncio.ensure_future(_bounded(deadline, 5))
        await asyncio.sleep(0.01)
        due, pending = deadline._due[call]
        deadline._due[call] = (due - 60, pending)  # its time is up ...
        call.cancel()  # ... as a cancel from elsewhere arrives, in one turn of the loop
        deadline._look()
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(run())
