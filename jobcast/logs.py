"""Logging for every Jobcast process: text by default, JSON lines with `JOBCAST_LOG_JSON=1`."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

#: LogRecord attributes that are not extra fields, and uvicorn's `color_message`: its message
#: with ANSI colour codes for a terminal, the same words as `message` and noise in a JSON line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}


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

    def format(self, record: logging.LogRecord) -> str:
        """As `logging.Formatter.format` with the format above, in one f-string: the api writes
        a line per request, and the generic path (a "does it use the time" check, %-style
        formatting from the record's dict) was a third of the line's formatting."""
        if record.exc_info or record.exc_text or record.stack_info:
            return super().format(record)
        record.message = record.getMessage()
        record.asctime = self.formatTime(record)
        return f"{record.asctime} {record.levelname} {record.name}: {record.message}"


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        # UTC, and saying so: a bare time was read as the reader's local one.
        self._utc_time = PerSecond("%Y-%m-%dT%H:%M:%SZ", time.gmtime)

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


#: Loggers that write a line per request: theirs are the lines worth holding to a turn's end.
PER_REQUEST_LOGGERS = frozenset({"jobcast.access", "uvicorn.access"})


class TurnBatchingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler that writes the per-request lines logged during one turn of an event loop
    together, in one write as the turn ends, rather than one write (a system call: stderr is
    line-buffered) per line. The api logs a line per request, and a loaded api answers several
    requests per turn. Any other line is written at once, after any still waiting, so the order
    holds: uvicorn stops on SIGTERM by re-raising the signal once it has shut down, which ends
    the process before the turn's end comes, and its last lines (and a warning logged while
    shutting down) must not be held then. A line logged with no event loop running in its
    thread (start-up, other threads) is written at once too."""

    def __init__(
        self, stream: TextIO | None = None, batched: frozenset[str] = PER_REQUEST_LOGGERS
    ) -> None:
        super().__init__(stream)
        self._batched = batched
        self._waiting: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        loop = asyncio._get_running_loop() if record.name in self._batched else None
        if loop is None:
            self._waiting.append(line)
            self._write_waiting()
            return
        if not self._waiting:
            loop.call_soon(self._end_of_turn)
        self._waiting.append(line)

    def _end_of_turn(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write_waiting()

    def _write_waiting(self) -> None:
        if not self._waiting:
            return
        text, self._waiting = "".join(self._waiting), []
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:
            self.handleError(logging.makeLogRecord({"msg": text.rstrip()}))

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write_waiting()
        super().flush()


#: uvicorn's `--log-config` for JSON lines, which `jobcast up` passes with several api processes:
#: uvicorn's supervising one never loads the app, whose `configure_logging` sets up the others.
UVICORN_JSON_LOGGING = Path(__file__).with_name("uvicorn_json_logging.json")
#: Loggers uvicorn gives a level of their own: they follow the process's level instead.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def configure_logging(
    json_lines: bool, level: int | str = logging.INFO, stream: TextIO | None = None
) -> None:
    """Every record of the process through one handler, in one format and at one level: Jobcast's
    own and its libraries' (uvicorn's, Celery's). A logger that has handlers of its own (uvicorn
    gives its loggers some) that does not pass records on gets this one instead; one that does
    gets none, so no line is written twice. A logger silenced by having no handler and passing
    nothing on (uvicorn's access log under `--no-access-log`) stays silent."""
    handler = TurnBatchingHandler(stream)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for logger in _loggers_with_handlers():
        logger.handlers[:] = [] if logger.propagate else [handler]
    for name in ("jobcast", *UVICORN_LOGGERS):
        logging.getLogger(name).setLevel(logging.NOTSET)


def _loggers_with_handlers() -> list[logging.Logger]:
    known = list(logging.root.manager.loggerDict.values())
    return [logger for logger in known if isinstance(logger, logging.Logger) and logger.handlers]
