"""The stop filter: which records it turns into warnings, and only while the worker stops."""

from __future__ import annotations

import logging
import threading

from workers.stop_logs import InterruptedByStop


def record(message: str, *args: object, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("multiprocessing", level, __file__, 1, message, args, None)


def test_a_lost_process_is_a_warning_only_while_stopping() -> None:
    stopping = threading.Event()
    quiet = InterruptedByStop(stopping)
    lost = record("Process %r pid:%r exited with %r", "ForkPoolWorker-1", 7, "signal 15")
    assert quiet.filter(lost)
    assert lost.levelno == logging.ERROR  # a crash outside a stop stays an error

    stopping.set()
    lost = record("Process %r pid:%r exited with %r", "ForkPoolWorker-1", 7, "signal 15")
    other = record("Something else broke")
    assert quiet.filter(lost)
    assert quiet.filter(other)
    assert (lost.levelname, other.levelname) == ("WARNING", "ERROR")
    assert lost.getMessage() == (
        "Process 'ForkPoolWorker-1' pid:7 exited with 'signal 15' (the worker is stopping: the "
        "task is requeued and runs again at its next start)"
    )
