"""The `jobcast` command's entry point, kept apart from the command's modules: Ctrl-C while
they load (half a second of every run) ended in a KeyboardInterrupt traceback; it exits 130
quietly, as it does once the command runs."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from jobcast.cli import cli
    except KeyboardInterrupt:
        sys.exit(130)
    cli()
