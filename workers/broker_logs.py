"""What a worker logs when it cannot reach its broker: one line, as the api says it.

Celery's consumer logs each failed connection attempt as "consumer: Cannot connect to <url>:
<error>." and, on a separate line, when it tries again. Behind Sentinel the error is redis-py's
MasterNotFoundError, whose text is every sentinel's client repr: about 3 KB a sentinel, with the
cause buried in it, at every attempt. Those records are rewritten here as one line with the
error told by `redis_problem` (each sentinel's address and answer, and where to look); the full
error stays at DEBUG (`jobcast.worker.broker`) for whoever needs it. Celery's "Frequent
restarts detected" (its pause after five failed attempts in a second) loses billiard's traceback.
"""

from __future__ import annotations

import logging
import re
import warnings
from typing import Any

from billiard.exceptions import RestartFreqExceeded
from celery import signals
from celery.exceptions import CPendingDeprecationWarning

from jobcast.redis_clients import redis_problem

#: The logger Celery's consumer says its connection errors with.
CONSUMER_LOGGER = "celery.worker.consumer.consumer"

log = logging.getLogger("jobcast.worker.broker")

#: Celery's count of attempts, "(3/None)" when the retries have no limit (celeryconfig's).
UNLIMITED_ATTEMPT = re.compile(r"\((\d+)/None\)")


class _Told(str):
    """An error's one-line text, formatted the same by `%s` and `%r` (Celery uses both)."""

    def __repr__(self) -> str:
        return str(self)


class CondensedBrokerError(logging.Filter):
    """Rewrites a consumer record that carries an error into one line with the error condensed."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        errors = [arg for arg in args if isinstance(arg, BaseException)]
        if record.levelno < logging.WARNING or not errors:
            return True  # Celery's own DEBUG record of the error keeps it whole
        for error in errors:
            log.debug("the consumer's connection error in full:", exc_info=error)
        told = tuple(_told(arg) if isinstance(arg, BaseException) else arg for arg in args)
        lines = (str(record.msg) % told).splitlines()
        joined = " ".join(line.strip() for line in lines if line.strip())
        record.msg, record.args = "%s", (UNLIMITED_ATTEMPT.sub(r"(attempt \1)", joined),)
        if any(isinstance(error, RestartFreqExceeded) for error in errors):
            # "Frequent restarts detected: 5 in 1s" came with billiard's traceback, every
            # second while Redis refused the worker: the line says all there is.
            record.exc_info, record.exc_text = None, None
        return True


def _told(error: BaseException) -> _Told:
    # Without its last full stop: Celery's text puts one after it.
    return _Told(redis_problem(error, where=True).removesuffix("."))


def _quiet_cancel_warning(**_: Any) -> None:
    # At every lost connection Celery warns, in six lines, that running tasks "cannot be
    # acknowledged as the connection is gone" unless they are cancelled. Ours are acked on their
    # old channel once Redis is back (broker_channel.py); celeryconfig keeps them running.
    # Added once Celery's logging set-up has put its own "always" filters first.
    warnings.filterwarnings(
        "ignore",
        message=r"\s*In Celery 5\.1 we introduced an optional breaking change",
        category=CPendingDeprecationWarning,
    )


def connect_signals() -> None:
    logging.getLogger(CONSUMER_LOGGER).addFilter(CondensedBrokerError())
    signals.celeryd_after_setup.connect(_quiet_cancel_warning, weak=False)
