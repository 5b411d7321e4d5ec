"""How a worker (and Flower, which runs through this app) logs: at `JOBCAST_LOG_LEVEL`, and with
`JOBCAST_LOG_JSON=1` every line a JSON object, Celery's, kombu's and Jobcast's alike, through
`jobcast.logs`.

Celery's own set-up stays for text (its format is what operators of Celery know), at the
setting's level rather than `--loglevel`'s. For JSON lines it is replaced whole (a
`setup_logging` receiver tells Celery not to make its own), and the few things Celery writes
past logging are turned into records: the start banner, its stop messages, and whatever a task
prints.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from celery import signals
from celery.apps import worker as celery_worker
from celery.utils.log import LoggingProxy

from jobcast.logs import configure_logging
from jobcast.settings import Settings

log = logging.getLogger("jobcast.worker")
#: The logger Celery writes a task's prints to (its own name for it).
REDIRECTED = "celery.redirected"


def connect_signals(settings: Settings) -> None:
    level = settings.log_level
    _flower_logs_at(level, settings.log_json)
    if not settings.log_json:

        def at_level(logger: logging.Logger, **_: Any) -> None:
            logger.setLevel(level)

        signals.after_setup_logger.connect(at_level, weak=False)
        signals.after_setup_task_logger.connect(at_level, weak=False)
        signals.celeryd_init.connect(_start_checks_logged(level), weak=False)
        return

    def json_lines(**_: Any) -> None:
        # The real stderr: once sys.stderr is a LoggingProxy (below, and in each pool process,
        # which inherits it), a handler writing to it would log its own lines forever.
        configure_logging(True, level, stream=sys.__stderr__)
        sys.stdout = LoggingProxy(logging.getLogger(REDIRECTED), logging.WARNING)
        sys.stderr = LoggingProxy(logging.getLogger(REDIRECTED), logging.WARNING)

    def before_start(instance: Any, **_: Any) -> None:
        # Before Celery's own set-up: its checks warn first (running as root, say).
        configure_logging(True, level, stream=sys.__stderr__)
        logging.captureWarnings(True)
        instance.quiet = True  # the banner is printed to the process's stdout, past logging

    signals.celeryd_init.connect(before_start, weak=False)
    signals.setup_logging.connect(json_lines, weak=False)
    signals.celeryd_after_setup.connect(_banner_as_a_record, weak=False)
    # Celery prints its stop messages ("Warm shutdown") straight to the process's stdout.
    celery_worker.safe_say = _say_as_a_record


def _start_checks_logged(level: str) -> Any:
    def in_celerys_format(conf: Any, **_: Any) -> None:
        # `worker_init`, where a worker's start checks meet Redis, comes before Celery sets its
        # logging up: their lines (a refused password, a name taken) came out bare, without time
        # or level. In Celery's own format until Celery replaces this handler with its own.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(conf.worker_log_format))
        logging.getLogger().handlers[:] = [handler]
        logging.getLogger().setLevel(level)

    return in_celerys_format


def _banner_as_a_record(instance: Any, **_: Any) -> None:
    log.info("%s", instance.startup_info(artlines=False).strip())


def _say_as_a_record(msg: str, f: Any = None) -> None:
    logging.getLogger(celery_worker.__name__).warning("%s", msg.strip())


def _flower_logs_at(level: str, json_lines: bool) -> None:
    """Flower's command (a Celery plugin, loaded before the app) has imported tornado's options;
    parsing them turns tornado's text logging on, at INFO. Once it has, the level is the
    setting's, and for JSON lines Jobcast's logging takes tornado's place. A worker never parses
    them."""
    options = sys.modules.get("tornado.options")
    if options is None:
        return
    if json_lines:
        options.options.add_parse_callback(lambda: configure_logging(True, level))
    else:
        options.options.add_parse_callback(lambda: logging.getLogger().setLevel(level))
