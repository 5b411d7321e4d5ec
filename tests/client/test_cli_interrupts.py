"""Ctrl-C of a user command is never lost, wherever it lands in the command's session."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator

import pytest
import typer

from jobcast.client import Client
from jobcast.client_cli.common import (
    client_session,
)
from jobcast.client_cli.exit_codes import (
    EXIT_INTERRUPTED,
)
from tests.client.conftest import ClientStack


@pytest.fixture
def session_env(stack: ClientStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The stack's address and key, and Python's own SIGINT handler, as a command run from a
    terminal has them (a test run started in the background inherits SIGINT ignored)."""
    for name, value in stack.env().items():
        monkeypatch.setenv(name, value)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class _CtrlCWhileCollected:
    """Ctrl-C pressed while Python finalizes this object: an exception raised there is only
    printed ("Exception ignored in ..."), as in a weakref callback a collection runs."""

    def __del__(self) -> None:
        signal.raise_signal(signal.SIGINT)


def exit_code_of(command: Callable[[Client], object]) -> int | None:
    """The exit code a command's session ended with; None if it was not ended."""
    try:
        with client_session() as client:
            command(client)
    except typer.Exit as exc:
        return exc.exit_code
    return None


@pytest.mark.usefixtures("session_env")
def test_ctrl_c_between_two_calls_ends_the_command_with_130() -> None:
    # Raised where it landed, the interrupt was lost there and the command went on.
    def pressed_between_calls(client: Client) -> None:
        client.me()
        _CtrlCWhileCollected()  # made and finalized at once
        client.me()
        pytest.fail("the Ctrl-C was lost: the next call ran")

    assert exit_code_of(pressed_between_calls) == EXIT_INTERRUPTED
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.usefixtures("session_env")
def test_ctrl_c_after_the_last_call_still_ends_the_command_with_130() -> None:
    def pressed_after_the_last_call(client: Client) -> None:
        client.me()
        signal.raise_signal(signal.SIGINT)  # recorded, not raised here: on leaving the session

    assert exit_code_of(pressed_after_the_last_call) == EXIT_INTERRUPTED
