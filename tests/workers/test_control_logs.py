"""A control command a worker refuses (Flower's Autoscale, on a fixed pool) is one WARNING line
in its log, not an ERROR with a traceback; the operator still gets the refusal as the answer."""

from __future__ import annotations

import logging
import sys

from celery import Celery

import celeryconfig
from jobcast.settings import Settings
from tests.conftest import StartWorker
from tests.support.processes import wait_for
from workers.control_logs import COMMAND_ERROR, PIDBOX_LOGGER, RefusedCommandAsWarning


def test_autoscaling_a_fixed_pool_is_refused_in_one_warning_line(
    settings: Settings, start_worker: StartWorker
) -> None:
    worker = start_worker("orders", name="fixed")
    app = Celery("probe", config_source=celeryconfig.config_for(settings))
    replies = app.control.autoscale(4, 1, reply=True, timeout=5.0, limit=1)
    app.close()
    (reply,) = (answer for node in replies for answer in node.values())
    assert "Autoscale not enabled" in reply["error"]  # the operator is told
    refused = "WARNING/MainProcess] control command refused: Autoscale not enabled"
    wait_for(lambda: refused in worker.output(), 10, "the refusal in the worker's log", worker)
    assert "pidbox command error" not in worker.output()
    assert "Traceback" not in worker.output()


def test_any_other_error_in_a_control_command_keeps_its_traceback() -> None:
    try:
        raise ValueError("a bug in our own code, not a refusal")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        PIDBOX_LOGGER, logging.ERROR, __file__, 1, COMMAND_ERROR, (exc_info[1],), exc_info
    )
    assert RefusedCommandAsWarning().filter(record)
    assert record.levelno == logging.ERROR
    assert record.exc_info is exc_info
