"""The `jobcast` command's output console.

Lines are never wrapped by rich (soft wrap): rich would otherwise cut them at the terminal's
width, or at 80 columns when the output is a file or a pipe, and split a key or a password in
two. On a terminal the terminal itself folds long lines, and a copied key stays whole; anywhere
else tables get room, so every credential stays on one line a script can read.
"""

from __future__ import annotations

import sys

from rich.console import Console

#: Width of tables when the output is not a terminal: wide enough for every column we print.
PIPE_WIDTH = 240


def make_console() -> Console:
    if sys.stdout.isatty():
        return Console(soft_wrap=True)  # the terminal wraps; a copied key stays whole
    return Console(width=PIPE_WIDTH, soft_wrap=True)


def table_width(console: Console) -> int | None:
    """The width the command's tables are fitted to: the terminal's; None when the output is not
    a terminal, where every value is printed whole for a script, however wide."""
    return console.width if console.is_terminal else None
