"""Stopping the push layer's background loops (the hub's, the monitor's, the ticker's)."""

from __future__ import annotations

import asyncio
import contextlib

#: Seconds between repeated cancellations of a background loop that did not stop.
STOP_RETRY_SECONDS = 0.5


async def stop_loop(task: asyncio.Task[None]) -> None:
    """Cancel `task` until it ends. Once is not always enough: a cancellation that lands inside
    a Redis call can be swallowed by the client library, and the loop would then sleep on
    forever, holding up the process's shutdown."""
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=STOP_RETRY_SECONDS)
    with contextlib.suppress(asyncio.CancelledError):
        task.result()
