"""Prints, as JSON, what `app.Worker` is handed for the worker flags after `celery` or `ours`:
by Celery's `celery -A workers.app worker` command, or by `workers.start`. Run in a process of
its own (`tests/workers/test_start.py`): it imports `workers.app`, whose signal handlers a test
process must not carry."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from workers.app import app


def shown(value: Any) -> Any:
    return f"{value.__module__}:{value.__qualname__}" if isinstance(value, type) else value


def report(**options: Any) -> NoReturn:
    print(json.dumps({name: shown(value) for name, value in options.items()}, sort_keys=True))
    raise SystemExit(0)


def main() -> None:
    which, flags = sys.argv[1], sys.argv[2:]
    app.Worker = report  # type: ignore[method-assign]
    if which == "celery":
        from celery.bin.celery import main as celery_main

        sys.argv = ["celery", "-A", "workers.app", "worker", *flags]
        celery_main()
    else:
        from workers.start import main as our_main

        our_main(flags)


if __name__ == "__main__":
    main()
