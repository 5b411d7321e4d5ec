"""Run a command in a pseudo-terminal, as a user's shell would: collect what it shows, or
talk to it (`Terminal`)."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

#: Rows and columns of the pretend terminal.
SIZE = (40, 120)
#: Colours and cursor moves, which `Terminal.expect` looks past.
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_in_terminal(
    argv: list[str],
    env: dict[str, str],
    timeout: float = 90,
    cwd: Path | None = None,
    size: tuple[int, int] = SIZE,
) -> tuple[int, str]:
    """(exit code, everything written to the terminal, escape codes included)."""
    master, proc = _spawn_in_pty(argv, env, size, cwd)
    try:
        output = _read_all(master, time.monotonic() + timeout)
        return proc.wait(timeout=10), output
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def _spawn_in_pty(
    argv: list[str],
    env: dict[str, str],
    size: tuple[int, int],
    cwd: Path | None = None,
    take_terminal: bool = False,
) -> tuple[int, subprocess.Popen[bytes]]:
    """(the pty's master end, the command) for `argv` started on a new pty of `size` (rows,
    columns); with `take_terminal`, the pty is its controlling terminal (Ctrl-C typed is a
    SIGINT)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
    proc = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=sized_by_the_terminal(env),
        cwd=cwd,
        start_new_session=True,
        preexec_fn=_take_terminal if take_terminal else None,
    )
    os.close(slave)
    return master, proc


def sized_by_the_terminal(env: dict[str, str]) -> dict[str, str]:
    """`env` without COLUMNS and LINES, which would override the pretend terminal's size: a
    whole-directory run's test process held them (80 and 24; set by something it loads, not by
    us), and a command then drew its tables 80 wide in a terminal of 60 or 120."""
    return {name: value for name, value in env.items() if name not in ("COLUMNS", "LINES")}


def _take_terminal() -> None:
    """In the child, its own session just made: the terminal becomes its controlling one, so
    Ctrl-C typed to it is a SIGINT, as in a shell. And SIGINT gets its default action back, as
    a shell gives its foreground commands: a test run started in the background (`make test &`)
    ignores it, every child would inherit that, and Python would not turn it into
    KeyboardInterrupt."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _read_all(fd: int, deadline: float) -> str:
    chunks: list[bytes] = []
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the command exited and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode(errors="replace")


def read_until(
    fd: int, shown: str, text: str, timeout: float = 60, raw: list[str] | None = None
) -> str:
    """Read `fd` (a terminal or a pipe) until `text` is in `shown` plus what was read, escape
    codes left out; what follows `text`. Fails after `timeout`, or if `fd` ends first. What was
    read, escape codes and all, is added to `raw` if given."""
    deadline = time.monotonic() + timeout
    while text not in shown:
        left = deadline - time.monotonic()
        assert left > 0, f"{text!r} never appeared; the screen:\n{shown[-3000:]}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the command exited and closed the terminal
                data = b""
            assert data or text in shown, f"{text!r} never appeared; it ended:\n{shown[-3000:]}"
            if raw is not None:
                raw.append(data.decode(errors="replace"))
            shown += ANSI.sub("", data.decode(errors="replace"))
    return shown[shown.index(text) + len(text) :]


class Terminal:
    """An interactive command in a pseudo-terminal: wait for text on its screen (escape codes
    left out), type to it."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, self.proc = _spawn_in_pty(argv, env, SIZE, take_terminal=True)
        self.screen = ""
        #: Everything the command wrote to the terminal so far, escape codes included.
        self.raw: list[str] = []

    def expect(self, text: str, timeout: float = 60) -> None:
        """Read until `text` has appeared since the last expect (fails after `timeout`)."""
        self.screen = read_until(self.master, self.screen, text, timeout, self.raw)

    def rest(self) -> str:
        """Everything shown since the last expect, once the command has exited."""
        self.raw.append(_read_all(self.master, time.monotonic() + 10))
        return self.screen + ANSI.sub("", self.raw[-1])

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        code = self.proc.wait(timeout=10)
        os.close(self.master)
        return code
