"""The `jobcast` command's entry point, kept apart from the command's modules: Ctrl-C while
they load (half a second of every run) ended in a KeyboardInterrupt traceback; it exits 130
quietly, as it does once the command runs.

It also ends the command quietly when what reads its output leaves early (`jobcast jobs ls |
head -1`): exit 141, as a shell reports a command that SIGPIPE ended (128 + 13). Python ignores
SIGPIPE, so a write raises BrokenPipeError instead, which click and rich each turned into exit 1
(and an unflushed line into Python's "Exception ignored" message). SIGPIPE's default action is
not restored instead: the client's sockets would then end the process the same way whenever a
server cut a connection, before the client could say so or retry.
"""

from __future__ import annotations

import io
import os
import sys
from typing import NoReturn


def main() -> None:
    _without_httpx_command_line()
    try:
        from jobcast.cli import cli
    except KeyboardInterrupt:
        sys.exit(130)
    _end_quietly_when_the_reader_leaves()
    try:
        cli()
    finally:
        sys.stdout.flush()  # here, not at the interpreter's exit, where it cannot end quietly


def _without_httpx_command_line() -> None:
    """`import httpx` loads httpx's own command (click, pygments, rich's syntax and progress)
    whenever those are installed, as here (Celery needs click, rich pygments): ~0.13 s of CPU
    in every user command, for a module jobcast never runs. A module marked None in sys.modules
    cannot be imported, and httpx then does without its command, as when they are missing."""
    if "httpx" not in sys.modules:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]


class _Stdout(io.FileIO):
    """File descriptor 1, whose write ends the command when the reader has gone."""

    def write(self, data: object) -> int:
        try:
            return super().write(data)  # type: ignore[arg-type]
        except BrokenPipeError:
            _reader_gone()


def _reader_gone() -> NoReturn:
    from jobcast.client_cli.exit_codes import EXIT_READER_GONE

    # What is still written on the way out (a buffer flushed, a closing line) goes nowhere.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    raise SystemExit(EXIT_READER_GONE)


def _end_quietly_when_the_reader_leaves() -> None:
    """sys.stdout, as Python made it, on a descriptor 1 whose writes end quietly."""
    stdout = sys.stdout
    if stdout is None or not isinstance(stdout, io.TextIOWrapper) or stdout.fileno() != 1:
        return
    stdout.flush()
    raw = _Stdout(1, "wb", closefd=False)
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding=stdout.encoding,
        errors=stdout.errors,
        line_buffering=stdout.line_buffering,
        write_through=stdout.write_through,
    )
