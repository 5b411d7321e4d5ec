"""Runs the async client for synchronous code: one event loop in a daemon thread per `Client`.

One implementation (the async one) serves both kinds of caller, and a sync caller works even
where an event loop is already running in its own thread (a notebook, a web handler).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Generator
from concurrent.futures import Future
from typing import Any, TypeVar

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
        #: Calls being waited on, from any thread (one may follow events while another reads).
        self._running: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def run(self, coro: Awaitable[T]) -> T:
        """The coroutine's result, computed on the loop; Ctrl-C cancels it there too."""
        finished = threading.Event()

        async def tracked() -> T:
            try:
                return await coro
            finally:
                finished.set()

        future = asyncio.run_coroutine_threadsafe(tracked(), self._loop)
        with self._lock:
            self._running.add(future)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            finished.wait(UNWIND_TIMEOUT)
            raise
        finally:
            with self._lock:
                self._running.discard(future)

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
        self._cancel_running()
        self.run(self._loop.shutdown_asyncgens())  # generators a caller left unfinished
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(UNWIND_TIMEOUT)
        self._loop.close()

    def _cancel_running(self) -> None:
        """Cancel what other threads still wait on (a thread following events while Ctrl-C
        ends the command), and let them unwind: a generator closed under a running call says
        "aclose(): asynchronous generator is already running" on the way out."""
        with self._lock:
            pending = list(self._running)
        for future in pending:
            future.cancel()
        deadline = time.monotonic() + UNWIND_TIMEOUT
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running:
                    return
            time.sleep(0.01)
