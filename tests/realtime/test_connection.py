"""A connection's send queue: bounded by frames and by the text they hold, released as written."""

from __future__ import annotations

import asyncio

from realtime.connection import ClientConnection


class HeldSocket:
    """A socket whose writes wait until the test lets them through, as a client not reading."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.open = asyncio.Event()

    async def send_text(self, text: str) -> None:
        await self.open.wait()
        self.sent.append(text)


def connection(
    queue_size: int = 100, queue_chars: int = 100
) -> tuple[ClientConnection, HeldSocket]:
    socket = HeldSocket()
    conn = ClientConnection(socket, queue_size, queue_chars)  # type: ignore[arg-type]
    return conn, socket


async def started_writing() -> None:
    await asyncio.sleep(0)  # the sender task takes the first frame and waits in send_text


def test_frames_past_the_text_budget_mark_the_client_too_slow() -> None:
    async def run() -> tuple[bool, int]:
        conn, _ = connection(queue_chars=100)
        closes: list[bool] = []
        conn.on_overflow = lambda: closes.append(True)
        conn.push("a" * 60)
        conn.push("b" * 41)
        return conn.overflowed, len(closes)

    assert asyncio.run(run()) == (True, 1)


def test_a_frame_being_written_still_counts_against_the_budget() -> None:
    async def run() -> bool:
        conn, _ = connection(queue_chars=100)
        conn.push("a" * 60)
        await started_writing()
        conn.push("b" * 41)
        return conn.overflowed

    assert asyncio.run(run())


def test_frames_filling_the_budget_exactly_are_all_sent() -> None:
    async def run() -> tuple[bool, list[str]]:
        conn, socket = connection(queue_chars=100)
        conn.push("a" * 60)
        conn.push("b" * 40)
        socket.open.set()
        await conn.drained()
        return conn.overflowed, socket.sent

    assert asyncio.run(run()) == (False, ["a" * 60, "b" * 40])


def test_written_frames_give_their_room_back() -> None:
    async def run() -> tuple[bool, int]:
        conn, socket = connection(queue_chars=100)
        socket.open.set()
        for _ in range(10):  # 600 characters in all, never more than 60 queued
            conn.push("a" * 60)
            await conn.drained()
        return conn.overflowed, len(socket.sent)

    assert asyncio.run(run()) == (False, 10)


def test_the_frame_count_still_bounds_small_frames() -> None:
    async def run() -> bool:
        conn, _ = connection(queue_size=3, queue_chars=1000)
        for _ in range(4):
            conn.push("a")
        return conn.overflowed

    assert asyncio.run(run())


def test_a_stopped_connection_sends_nothing_more() -> None:
    async def run() -> tuple[bool, list[str]]:
        conn, socket = connection(queue_chars=100)
        conn.push("a" * 90)
        conn.stop()
        conn.push("b" * 90)
        socket.open.set()
        await conn.drained()
        return conn.overflowed, socket.sent

    assert asyncio.run(run()) == (False, [])
