"""A control command a worker refuses, told in one WARNING line instead of an ERROR traceback.

Flower's worker page offers every remote control, Autoscale among them. A Jobcast worker runs a
fixed pool (`--concurrency`), so Celery refuses autoscaling with ValueError('Autoscale not
enabled'), and kombu logged that as "ERROR pidbox command error" with a 15-line traceback, as if
the worker had failed. The operator has the refusal in Flower's answer; the worker's log says it
in one line. Any other error in a control command keeps kombu's record, traceback and all.
"""

from __future__ import annotations

import logging
from pathlib import PurePath
from types import TracebackType

#: The logger kombu says a failed control command with, and its message.
PIDBOX_LOGGER = "kombu.pidbox"
COMMAND_ERROR = "pidbox command error: %r"
#: Where Celery's control commands are: a ValueError raised there is a refusal, not a fault.
CONTROL_MODULE = PurePath("celery", "worker", "control.py")


class RefusedCommandAsWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != COMMAND_ERROR or not record.exc_info:
            return True
        error, tb = record.exc_info[1], record.exc_info[2]
        if isinstance(error, ValueError) and _raised_in_control(tb):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = "control command refused: %s", (error,)
            record.exc_info, record.exc_text = None, None
        return True


def _raised_in_control(tb: TracebackType | None) -> bool:
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    return last is not None and PurePath(last.tb_frame.f_code.co_filename).parts[-3:] == (
        CONTROL_MODULE.parts
    )


def connect_signals() -> None:
    logging.getLogger(PIDBOX_LOGGER).addFilter(RefusedCommandAsWarning())
