"""The `jobcast` command's output console.

On a terminal, rich fits output to the window. Anywhere else (a file, a pipe, a test) it would
wrap at 80 columns and cut a key or a password in two; there, lines are never wrapped and
tables get room, so every credential stays on one line a script can read.
"""

from __future__ import annotations

import sys

from rich.console import Console

#: Width of tables when the output is not a terminal: wide enough for every column we print.
PIPE_WIDTH = 240


def make_console() -> Console:
    if sys.stdout.isatty():
        return Console()
    return Console(width=PIPE_WIDTH, soft_wrap=True)
