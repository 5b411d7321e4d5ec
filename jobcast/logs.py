"""Logging for every Jobcast process: text by default, JSON lines with `JOBCAST_LOG_JSON=1`."""

from __future__ import annotations

import json
import logging
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
