"""Logging for every Jobcast process: text by default, JSON lines with `JOBCAST_LOG_JSON=1`."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

#: LogRecord attributes that are not extra fields.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class PerSecond:
    """A timestamp's date and time to the second, formatted once per second: the api writes a
    log line per request, and `strftime` was a visible share of one."""

    def __init__(self, fmt: str, convert: Callable[[float], time.struct_time]) -> None:
        self._fmt, self._convert = fmt, convert
        self._second, self._stamp = -1, ""

    def __call__(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._second, self._stamp = second, time.strftime(self._fmt, self._convert(second))
        return self._stamp


class TextFormatter(logging.Formatter):
    """`asctime level logger: message`, in local time as logging's default formatter writes it."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._stamp = PerSecond(self.default_time_format, time.localtime)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return f"{self._stamp(record.created)},{int(record.msecs):03d}"  # logging's "%s,%03d"


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._utc_time = PerSecond("%Y-%m-%dT%H:%M:%S", time.gmtime)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 6),
            "time": self._utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RecordTemplate:
    """Records for one logger, level and message format, made from one record built up front.

    `LogRecord.__init__` looks up the source file's name, the process and its name and the
    thread's name for every record: a third of a line's cost where one is written per request
    (the api's access log). Here those are copied from the first record and only the time, the
    arguments and the extra fields are each record's own. A record made in another thread, or
    after a fork, is made the ordinary way."""

    def __init__(self, logger: logging.Logger, level: int, msg: str) -> None:
        self.logger, self.level, self.msg = logger, level, msg
        first = logger.makeRecord(logger.name, level, "", 0, msg, (), None)
        self._fields = dict(vars(first))
        self._origin = (first.created, first.relativeCreated)
        self._thread = first.thread
        self._task_names = "taskName" in self._fields  # Python 3.12+
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        self._thread = None

    def make(self, args: tuple[Any, ...], extra: dict[str, Any]) -> logging.LogRecord:
        if threading.get_ident() != self._thread:
            return self.logger.makeRecord(
                self.logger.name, self.level, "", 0, self.msg, args, None, extra=extra
            )
        record = logging.LogRecord.__new__(logging.LogRecord)
        fields = record.__dict__
        fields.update(self._fields)
        created = time.time()
        fields["created"], fields["args"] = created, args
        fields["msecs"] = int((created - int(created)) * 1000) + 0.0
        fields["relativeCreated"] = self._origin[1] + (created - self._origin[0]) * 1000
        if self._task_names:
            fields["taskName"] = _task_name()
        fields.update(extra)
        return record


def _task_name() -> str | None:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return None
    return task.get_name() if task is not None else None


def configure_logging(json_lines: bool, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    jobcast = logging.getLogger("jobcast")
    jobcast.handlers[:] = [handler]
    jobcast.setLevel(level)
    jobcast.propagate = False
