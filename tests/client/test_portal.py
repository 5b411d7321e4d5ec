"""The sync client's portal: Ctrl-C while a call waits, and a call cancelled wherever the
interrupt lands (before it is scheduled, before its first step, while it runs)."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jobcast.client import portal as portal_module
from jobcast.client.portal import Portal, _Call


@pytest.fixture
def portal() -> Iterator[Portal]:
    made = Portal()
    yield made
    made.close()


@pytest.fixture
def ctrl_c_as_in_a_terminal() -> Iterator[None]:
    """Python's own SIGINT handler, as a command run from a terminal has it. A test run started
    in the background (`make test &`) inherits SIGINT ignored, which the portal leaves alone:
    the Ctrl-C below was then lost and the call slept its 30 s."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_as_in_a_terminal")
def test_ctrl_c_while_a_call_waits_cancels_it_on_the_loop_and_raises_keyboard_interrupt(
    portal: Portal,
) -> None:
    unwound = threading.Event()

    async def slow() -> None:
        try:
            os.kill(os.getpid(), signal.SIGINT)  # as a terminal's Ctrl-C, mid-call
            await asyncio.sleep(30)
        finally:
            unwound.set()

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        portal.run(slow())
    assert time.monotonic() - started < 5
    assert unwound.is_set()  # cancelled there, not left running
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert portal.run(asyncio.sleep(0, "still works")) == "still works"


def _on_loop(portal: Portal, *steps: Callable[[], object]) -> None:
    """Run `steps` on the loop in one of its turns: queued one by one, the loop could wake
    between two of them and step a task started by the first (seen under load)."""
    done = threading.Event()

    def in_one_turn() -> None:
        for step in steps:
            step()
        done.set()

    portal._loop.call_soon_threadsafe(in_one_turn)
    assert done.wait(5)


def test_a_call_interrupted_before_it_was_scheduled_never_runs(portal: Portal) -> None:
    ran = []

    async def body() -> None:
        ran.append(True)

    call = _Call(body(), portal._loop)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine ... was never awaited" would be a warning
        _on_loop(portal, call.cancel)  # its start was never queued
    assert call.finished.is_set()
    assert call.outcome.cancelled()
    assert ran == []


def test_a_call_cancelled_between_its_start_and_first_step_never_runs(portal: Portal) -> None:
    ran = []

    async def body() -> None:
        ran.append(True)

    call = _Call(body(), portal._loop)
    _on_loop(portal, call.start, call.cancel)  # one loop turn: the task has not stepped yet
    assert call.finished.wait(5)
    assert call.outcome.cancelled()
    assert ran == []


@pytest.mark.usefixtures("ctrl_c_as_in_a_terminal")
def test_ctrl_c_recorded_as_a_call_is_being_made_cancels_that_call(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pressed after `run` looked for a recorded Ctrl-C but before the call was one to cancel:
    # `jobcast submit --wait` followed its job to the end, then exited 143 without a word.
    class PressedAsMade(portal_module._Call[None]):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(portal_module, "_Call", PressedAsMade)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), portal.ctrl_c_recorded():
        portal.run(asyncio.sleep(10))
    assert time.monotonic() - started < 5
