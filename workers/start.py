"""`python -m workers`: a worker started through Celery's `app.Worker`, not its `celery` command.

`celery -A workers.app worker` loads every plugin of the `celery` command (Flower with tornado,
click-repl) before it parses a flag: ~140 ms of CPU in each worker's start, for commands a worker
never runs. This takes the worker options `jobcast up` and the tests give, with the `celery
worker` spellings, and hands `app.Worker` what that command would hand it
(`tests/workers/test_start.py` compares the two): the same worker, signal handlers, banner,
log lines and exit code. Options it does not take are at the command's defaults.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from celery import Celery, concurrency, maybe_patch_concurrency
from celery.exceptions import SecurityError
from celery.platforms import maybe_drop_privileges
from celery.utils.log import mlevel
from celery.utils.nodenames import default_nodename, host_format, node_format

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "FATAL")
#: How click reads a true flag from the environment (`NO_COLOR`, as `celery --no-color`).
TRUE_WORDS = {"1", "true", "t", "yes", "y", "on"}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m workers", description=__doc__.splitlines()[0])
    p.add_argument("-n", "--hostname", help="node name, as celery's (%%h: this host)")
    p.add_argument("-Q", "--queues", type=_names, help="queues to consume (default: all)")
    p.add_argument("-I", "--include", type=_names, help="more task modules to import")
    p.add_argument("-c", "--concurrency", type=_concurrency, default=0, help="pool size or auto")
    pools = concurrency.get_available_pool_names()
    p.add_argument("-P", "--pool", default="prefork", choices=pools)
    p.add_argument("-l", "--loglevel", default="WARNING", type=str.upper, choices=LOG_LEVELS)
    p.add_argument("-f", "--logfile", help="log here instead of stderr (%%n, %%i as celery's)")
    for feature in ("gossip", "mingle", "heartbeat"):
        p.add_argument(f"--without-{feature}", action="store_true")
    return p


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def _concurrency(value: str) -> int | str:
    if value == "auto":
        return value
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"must be a non-negative integer or 'auto': {value!r}")
    return int(value)


def worker_options(app: Celery, args: argparse.Namespace) -> dict[str, Any]:
    """What `celery worker` hands `app.Worker` for the same flags."""
    hostname = host_format(default_nodename(args.hostname))
    conf = app.conf
    return {
        "hostname": hostname,
        "queues": args.queues,
        "exclude_queues": None,
        "include": args.include,
        "concurrency": args.concurrency or conf.worker_concurrency,
        "pool": _pool_class(app, args.pool),
        "pool_cls": None,
        "loglevel": mlevel(args.loglevel),
        "logfile": args.logfile,
        "pidfile": None,
        "statedb": node_format(conf.worker_state_db, hostname),
        "without_gossip": args.without_gossip,
        "without_mingle": args.without_mingle,
        "without_heartbeat": args.without_heartbeat,
        "no_color": os.environ.get("NO_COLOR", "").strip().lower() in TRUE_WORDS,
        **_command_defaults(app),
    }


def _pool_class(app: Celery, name: str) -> Any:
    # As the command: its default, prefork, stands for the configured pool (workers.pool's).
    configured = app.conf.worker_pool
    if name == "prefork" and configured:
        return concurrency.get_implementation(configured)
    return concurrency.get_implementation(name) or concurrency.get_implementation(configured)


def _command_defaults(app: Celery) -> dict[str, Any]:
    """The command's values for the options this one does not take."""
    conf = app.conf
    return {
        "prefetch_multiplier": conf.worker_prefetch_multiplier,
        "schedule_filename": conf.beat_schedule_filename,
        "optimization": "default",
        **dict.fromkeys(("autoscale", "beat", "scheduler", "heartbeat_interval"), None),
        **dict.fromkeys(("time_limit", "soft_time_limit", "task_events"), None),
        **dict.fromkeys(("max_tasks_per_child", "max_memory_per_child"), None),
        **dict.fromkeys(("pool_start_method", "executable", "umask"), None),
        **dict.fromkeys(("purge", "detach", "quiet"), False),
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    maybe_patch_concurrency(["", "-P", args.pool])  # eventlet and gevent patch before the app
    from workers.app import app  # after the flags: `--help` and a bad flag need no settings

    try:
        maybe_drop_privileges()
        worker = app.Worker(**worker_options(app, args))
        worker.start()
    except SecurityError as exc:  # as the command tells it: its message alone, exit 1
        print(exc.args[0], file=sys.stderr)
        sys.exit(1)
    sys.exit(worker.exitcode)
