"""SIGTERM stops a user command as Ctrl-C does.

Python's default for SIGTERM is to end at once: `jobcast submit --wait` left the terminal's
cursor hidden (its progress bars hide it) and said nothing of the job, which keeps running.
Sent on to the SIGINT handler in place instead, the signal takes the Ctrl-C path every command
already cleans up on: the client cancels the request under way and raises KeyboardInterrupt,
the bars stop and show the cursor, `submit` says how to follow or cancel the job."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def sigterm_interrupts() -> Iterator[threading.Event]:
    """While in it, SIGTERM interrupts as Ctrl-C does; the event is set once it did, so the
    command can exit 143 rather than 130. A second SIGTERM ends the process at once. A handler
    someone else installed is left alone, as is any thread but the main one (only it can)."""
    terminated = threading.Event()
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield terminated
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        terminated.set()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        interrupt = signal.getsignal(signal.SIGINT)
        if callable(interrupt):  # the client's (cancels the call under way) or Python's
            interrupt(signal.SIGINT, frame)
        else:  # SIGINT ignored, as in a command started in the background by a script
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield terminated
    finally:
        signal.signal(signal.SIGTERM, previous)
