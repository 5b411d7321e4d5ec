"""What a worker logs when it cannot reach its broker: one line, as the api says it.

Celery's consumer logs each failed connection attempt as "consumer: Cannot connect to <url>:
<error>." and, on a separate line, when it tries again. Behind Sentinel the error is redis-py's
MasterNotFoundError, whose text is every sentinel's client repr: about 3 KB a sentinel, with the
cause buried in it, at every attempt. Those records are rewritten here as one line with the
error told by `redis_problem` (each sentinel's address and answer, and where to look); the full
error stays at DEBUG (`jobcast.worker.broker`) for whoever needs it. Celery's "Frequent
restarts detected" (its pause after five failed attempts in a second) loses billiard's traceback.

Behind Sentinel the broker URL is one `sentinel://` URL per sentinel, and kombu takes them for
failover hosts: an attempt tries each in turn, and Celery logs each try ("Will retry using next
failover."). But kombu's Sentinel transport asks every sentinel at each try, so each is the same
try again, told once per sentinel and naming one as if it had failed. Those repeats are dropped
here, and the attempt's line says what it tried: the primary, through the sentinels.

At every reconnect Celery also says, at INFO, that it keeps the prefetch count because QoS is
per consumer: a note that asks nothing of the operator (16 lines over 3 outages), kept at DEBUG.
"""

from __future__ import annotations

import logging
import re
import warnings
from typing import Any

from billiard.exceptions import RestartFreqExceeded
from celery import signals
from celery.exceptions import CPendingDeprecationWarning
from celery.worker.consumer.consumer import CONNECTION_ERROR, CONNECTION_FAILOVER

from jobcast.redis_clients import redis_problem
from jobcast.settings import Settings

#: The logger Celery's consumer says its connection errors with.
CONSUMER_LOGGER = "celery.worker.consumer.consumer"

log = logging.getLogger("jobcast.worker.broker")

#: Celery's count of attempts, "(3/None)" when the retries have no limit (celeryconfig's).
UNLIMITED_ATTEMPT = re.compile(r"\((\d+)/None\)")
#: How Celery's note on keeping the prefetch count at a reconnect begins.
PREFETCH_NOTE = "Skipping prefetch count reduction after connection restart"
#: Celery's CONNECTION_ERROR (URL, error, next step) as said behind Sentinel (count, error, step).
THROUGH_SENTINELS = "consumer: Cannot reach the primary through %d sentinels: %s.\n%s\n"


class _Told(str):
    """An error's one-line text, formatted the same by `%s` and `%r` (Celery uses both)."""

    def __repr__(self) -> str:
        return str(self)


class CondensedBrokerError(logging.Filter):
    """Rewrites a consumer record that carries an error into one line with the error condensed;
    behind `sentinels` sentinels (0: Redis by URL), one line per attempt to reach the broker."""

    def __init__(self, sentinels: int = 0) -> None:
        super().__init__()
        self._sentinels = sentinels

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        errors = [arg for arg in args if isinstance(arg, BaseException)]
        if record.levelno < logging.WARNING or not errors:
            return True  # Celery's own DEBUG record of the error keeps it whole
        for error in errors:
            log.debug("the consumer's connection error in full:", exc_info=error)
        if self._sentinels and record.msg == CONNECTION_ERROR and len(args) == 3:
            _url, failed, step = args
            if step == CONNECTION_FAILOVER:
                return False  # the same attempt, through the same sentinels, again
            record.msg, args = THROUGH_SENTINELS, (self._sentinels, failed, step)
        told = tuple(_told(arg) if isinstance(arg, BaseException) else arg for arg in args)
        lines = (str(record.msg) % told).splitlines()
        joined = " ".join(line.strip() for line in lines if line.strip())
        record.msg, record.args = "%s", (UNLIMITED_ATTEMPT.sub(r"(attempt \1)", joined),)
        if any(isinstance(error, RestartFreqExceeded) for error in errors):
            # "Frequent restarts detected: 5 in 1s" came with billiard's traceback, every
            # second while Redis refused the worker: the line says all there is.
            record.exc_info, record.exc_text = None, None
        return True


class PrefetchNoteAtDebug(logging.Filter):
    """Keeps Celery's note on the prefetch count at a reconnect at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(PREFETCH_NOTE):
            return True
        log.debug("%s", record.getMessage())
        return False


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


def connect_signals(settings: Settings) -> None:
    condensed = CondensedBrokerError(len(settings.sentinels))
    consumer = logging.getLogger(CONSUMER_LOGGER)
    consumer.addFilter(condensed)
    consumer.addFilter(PrefetchNoteAtDebug())
    signals.celeryd_after_setup.connect(_quiet_cancel_warning, weak=False)
