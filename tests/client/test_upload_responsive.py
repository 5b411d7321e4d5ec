"""Uploading from a pipe whose writer is slow leaves the caller's event loop free: the body
waits for the next chunk in a thread, so the caller's other tasks run meanwhile."""

from __future__ import annotations

import asyncio
import os
import threading
import time

from jobcast.client.multipart import FileBody

#: The writer's pauses: the whole upload waits on them (~0.75 s).
PAUSES, PAUSE_SECONDS = 5, 0.15
PIECE = b"a,b\n1,2\n" * 100
#: Seconds between the other task's ticks.
TICK_SECONDS = 0.01


def write_slowly(fd: int) -> None:
    with os.fdopen(fd, "wb") as pipe:
        for _ in range(PAUSES):
            time.sleep(PAUSE_SECONDS)
            pipe.write(PIECE)
            pipe.flush()


async def upload_while_ticking(body: FileBody) -> tuple[bytes, int]:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(TICK_SECONDS)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        sent = b"".join([chunk async for chunk in body])
        return sent, ticks
    finally:
        ticker.cancel()


def test_another_task_ticks_while_the_body_waits_on_a_slow_pipe() -> None:
    read_fd, write_fd = os.pipe()
    writer = threading.Thread(target=write_slowly, args=(write_fd,))
    with os.fdopen(read_fd, "rb") as pipe:
        body = FileBody(pipe, {"operation": "profile"})
        writer.start()
        sent, ticks = asyncio.run(upload_while_ticking(body))
    writer.join()
    assert PIECE * PAUSES in sent
    assert sent.endswith(f"\r\n--{body.boundary}--\r\n".encode())
    # ~75 ticks in the writer's ~0.75 s; a loop held by the read ticks not once.
    assert ticks >= 15, ticks
