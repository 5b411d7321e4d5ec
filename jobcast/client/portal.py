"""Runs the async client for synchronous code: one event loop in a daemon thread per `Client`.

One implementation (the async one) serves both kinds of caller, and a sync caller works even
where an event loop is already running in its own thread (a notebook, a web handler).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Generator
from typing import TypeVar

T = TypeVar("T")

#: Seconds an interrupted call gets to unwind (close its socket, its file) on the loop.
UNWIND_TIMEOUT = 5.0


class Portal:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="jobcast-client", daemon=True
        )
        self._thread.start()

    def run(self, coro: Awaitable[T]) -> T:
        """The coroutine's result, computed on the loop; Ctrl-C cancels it there too."""
        finished = threading.Event()

        async def tracked() -> T:
            try:
                return await coro
            finally:
                finished.set()

        future = asyncio.run_coroutine_threadsafe(tracked(), self._loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            finished.wait(UNWIND_TIMEOUT)
            raise

    def iterate(self, items: AsyncIterator[T]) -> Generator[T, None, None]:
        """The async iterator as a generator; closing the generator closes the iterator."""
        try:
            while True:
                try:
                    yield self.run(anext(items))
                except StopAsyncIteration:
                    return
        finally:
            aclose = getattr(items, "aclose", None)
            if aclose is not None and not self._loop.is_closed():
                self.run(aclose())

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self.run(self._loop.shutdown_asyncgens())  # generators a caller left unfinished
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(UNWIND_TIMEOUT)
        self._loop.close()
