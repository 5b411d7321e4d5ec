"""Runs the async client for synchronous code: one event loop in a daemon thread per `Client`.

One implementation (the async one) serves both kinds of caller, and a sync caller works even
where an event loop is already running in its own thread (a notebook, a web handler).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Generator, Iterator
from concurrent.futures import Future, InvalidStateError
from typing import Any, Generic, NoReturn, TypeVar

from jobcast.client import errors

T = TypeVar("T")

#: Seconds an interrupted call gets to unwind (close its socket, its file) on the loop.
UNWIND_TIMEOUT = 5.0


class _Call(Generic[T]):
    """One coroutine run on the loop for a waiting thread, cancellable from it wherever a Ctrl-C
    lands: before, while or after it is scheduled. (`run_coroutine_threadsafe` hands back its
    future only once scheduled: interrupted inside it, the call ran on unseen and the generator
    closing after it said "aclose(): asynchronous generator is already running".)

    `start` and `cancel` run on the loop, in the order they were queued, so `cancel` knows
    whether `start` came (queued before it) or never will."""

    def __init__(self, coro: Awaitable[T], loop: asyncio.AbstractEventLoop) -> None:
        self.coro, self.loop = coro, loop
        self.outcome: Future[T] = Future()
        #: Set once the call is over on the loop (or will never run there).
        self.finished = threading.Event()
        self.started = self.running = self.cancelled = False
        #: A Ctrl-C came while the main thread waited on this call (`Portal._ctrl_c_cancels`).
        self.interrupted = False
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.started = True
        self.task = self.loop.create_task(self._run())

    def cancel(self) -> None:
        self.cancelled = True
        if not self.started:  # interrupted before it was scheduled: it never runs
            _close(self.coro)
            self.outcome.cancel()
            self.finished.set()
        elif self.running and self.task is not None:
            self.task.cancel()
        # else: created, not yet stepped; `_run` sees the flag first thing (a task cancelled
        # before its first step never runs its coroutine's `finally`).

    async def _run(self) -> None:
        self.running = True
        try:
            if self.cancelled:
                _close(self.coro)
                raise asyncio.CancelledError
            value = await self.coro
        except asyncio.CancelledError:
            self.outcome.cancel()
        except BaseException as exc:  # handed to the waiting thread, as it is
            _settle(self.outcome.set_exception, exc)
        else:
            _settle(self.outcome.set_result, value)
        finally:
            self.finished.set()


def _close(coro: Awaitable[Any]) -> None:
    """Close an awaitable that will never be awaited (no "never awaited" warning)."""
    close = getattr(coro, "close", None)
    if close is not None:
        close()


def _settle(setter: Any, value: Any) -> None:
    with contextlib.suppress(InvalidStateError):  # cancelled by the waiting thread meanwhile
        setter(value)


class Portal:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="jobcast-client", daemon=True
        )
        self._thread.start()
        #: Calls being waited on, from any thread (one may follow events while another reads).
        self._running: set[_Call[Any]] = set()
        self._lock = threading.Lock()
        #: A Ctrl-C recorded by `interrupt` and not yet raised as KeyboardInterrupt.
        self._ctrl_c = False

    @property
    def closed(self) -> bool:
        return self._loop.is_closed()

    def run(self, coro: Awaitable[T]) -> T:
        """The coroutine's result, computed on the loop; Ctrl-C cancels it there too."""
        if self.closed:
            _close(coro)  # it will never run: no "never awaited" warning
            raise errors.client_closed()
        call = _Call(coro, self._loop)
        with self._lock:
            self._running.add(call)
        # Looked for once the call is one `interrupt` cancels, not before: a Ctrl-C recorded
        # between the two went unseen, and the call ran to its end.
        call.interrupted = call.interrupted or self._ctrl_c
        try:
            if call.interrupted:  # pressed between two calls (`ctrl_c_recorded`)
                raise KeyboardInterrupt
            with self._ctrl_c_cancels(call):
                self._loop.call_soon_threadsafe(call.start)
                value = call.outcome.result()
        except BaseException:
            self._loop.call_soon_threadsafe(call.cancel)
            call.finished.wait(UNWIND_TIMEOUT)
            if call.interrupted:
                self._raise_interrupt()
            raise
        finally:
            with self._lock:
                self._running.discard(call)
        if call.interrupted:  # pressed as the call finished: still an interrupt
            self._raise_interrupt()
        return value

    def _raise_interrupt(self) -> NoReturn:
        self._ctrl_c = False  # raised once, here: the calls that close things then run
        raise KeyboardInterrupt from None

    @contextlib.contextmanager
    def ctrl_c_recorded(self) -> Iterator[None]:
        """While in it, Ctrl-C (and SIGTERM, which `sigterm_interrupts` sends on) is recorded
        and raised as KeyboardInterrupt at the next safe point: by the call under way, in any
        thread, cancelled on the loop and unwound; else by the next call; else on leaving the
        block. Raised where it lands, it could be lost between two calls, in a finalizer or a
        weakref callback (exceptions there are only printed), and the command went on. Left
        alone where `_ctrl_c_cancels` leaves it alone, as it is."""
        if (
            threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        ):
            yield
            return
        previous = signal.signal(signal.SIGINT, lambda signum, frame: self.interrupt())
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
        if self._ctrl_c:  # pressed after the last call
            self._raise_interrupt()

    def interrupt(self) -> None:
        """Ctrl-C: each call waited on is cancelled on the loop and raises KeyboardInterrupt once
        unwound; with none, the next call raises it. Called from a signal handler, which runs
        wherever the main thread is (inside `run`, holding `_lock`, too): it takes no lock."""
        self._ctrl_c = True
        if self.closed:
            return
        for call in list(self._running):
            call.interrupted = True
            self._loop.call_soon_threadsafe(call.cancel)

    @contextlib.contextmanager
    def _ctrl_c_cancels(self, call: _Call[Any]) -> Iterator[None]:
        """While the main thread waits on `call`, Ctrl-C cancels it on the loop and `run` raises
        KeyboardInterrupt once it has unwound. Raised by Python's own handler, the interrupt
        lands at whatever the main thread is running, and there it can be lost: in a weakref
        callback run by a collection, where exceptions are only printed ("Exception ignored"),
        `jobcast watch` went on after Ctrl-C. Another handler someone installed is left alone."""
        if (
            threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        ):
            yield
            return

        def cancel(signum: int, frame: Any) -> None:
            call.interrupted = True
            self._loop.call_soon_threadsafe(call.cancel)

        previous = signal.signal(signal.SIGINT, cancel)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

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
            if aclose is not None and not self.closed:
                self.run(aclose())

    def close(self) -> None:
        if self.closed:
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
        for call in pending:
            self._loop.call_soon_threadsafe(call.cancel)
        deadline = time.monotonic() + UNWIND_TIMEOUT
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running:
                    return
            time.sleep(0.01)
