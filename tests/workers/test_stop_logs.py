"""The stop filter: which records it turns into warnings, and only while the worker stops."""

from __future__ import annotations

import logging
import os
import threading

import redis

from workers.stop_logs import SAID, InterruptedByStop, leave_recycle_note


def record(message: str, *args: object, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("multiprocessing", level, __file__, 1, message, args, None)


def test_a_lost_process_is_an_error_outside_a_stop_and_left_to_its_task_in_one() -> None:
    stopping = threading.Event()
    quiet = InterruptedByStop(stopping)
    lost = record("Process %r pid:%r exited with %r", "ForkPoolWorker-1", 7, "signal 15")
    assert quiet.filter(lost)
    assert lost.levelno == logging.ERROR  # a crash outside a stop stays an error

    stopping.set()
    lost = record("Process %r pid:%r exited with %r", "ForkPoolWorker-1", 7, "signal 15")
    other = record("Something else broke")
    # In a stop the process's exit is not a warning of its own: the task's loss (below) is the
    # one line that says what follows, and an idle process's exit loses nothing.
    assert not quiet.filter(lost)
    assert quiet.filter(other)
    assert other.levelname == "ERROR"


def test_a_task_lost_in_a_stop_is_one_warning_saying_it_runs_again() -> None:
    stopping = threading.Event()
    stopping.set()
    lost = record("Task handler raised error: %r", "WorkerLostError('signal 15 (SIGTERM) Job: 0.')")
    assert InterruptedByStop(stopping).filter(lost)
    assert lost.levelname == "WARNING"
    assert lost.getMessage().endswith(f"({SAID})")


def test_a_pool_process_that_ended_itself_on_purpose_is_a_warning_saying_why() -> None:
    # A file job over its memory budget: its failure is committed, then its process kills
    # itself; that logged two ERRORs and a WorkerLostError traceback in the main process.
    quiet = InterruptedByStop(threading.Event())  # not stopping
    pid = 2_000_000_000 + os.getpid()  # no real process's
    leave_recycle_note(pid, "a file job went over its memory budget")
    lost = record("Task handler raised error: %r", "WorkerLostError('signal 9 (SIGKILL) Job: 3.')")
    exited = record(
        "Process %r pid:%r exited with %r", "ForkPoolWorker-2", pid, "signal 9 (SIGKILL)"
    )
    assert quiet.filter(lost)
    assert quiet.filter(exited)
    assert (lost.levelname, exited.levelname) == ("WARNING", "WARNING")
    assert exited.exc_info is None
    assert "planned: a file job went over its memory budget" in exited.getMessage()
    assert "planned: a file job went over its memory budget" in lost.getMessage()
    # The note is taken: a later SIGKILL of that pid (the kernel's OOM killer) is an error.
    again = record(
        "Process %r pid:%r exited with %r", "ForkPoolWorker-2", pid, "signal 9 (SIGKILL)"
    )
    quiet.planned = None
    assert quiet.filter(again)
    assert again.levelname == "ERROR"


def test_a_message_the_broker_could_not_take_back_is_one_warning_saying_what_follows() -> None:
    # The embedded Redis killed mid-job: the stop's hand-back failed, and kombu logged it at
    # CRITICAL with a ~130-line chained traceback, after a line saying the task was requeued.
    try:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
    except redis.ConnectionError as exc:
        error, exc_info = exc, (type(exc), exc, exc.__traceback__)
    for stopping in (threading.Event(), _set(threading.Event())):
        unsettled = logging.LogRecord(
            "celery.worker.request",
            logging.CRITICAL,
            __file__,
            1,
            "Couldn't reject %r, reason: %r",
            ("9b2c-delivery-tag", error),
            exc_info,
        )
        assert InterruptedByStop(stopping).filter(unsettled)
        assert unsettled.levelname == "WARNING"
        assert unsettled.exc_info is None
        text = unsettled.getMessage()
        assert "Connection refused" in text
        assert "could not be handed back" in text
        assert "reconciler sends its work again" in text


def _set(event: threading.Event) -> threading.Event:
    event.set()
    return event
