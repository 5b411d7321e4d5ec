"""Logging for every Jobcast process: text by default, JSON lines with `JOBCAST_LOG_JSON=1`."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

#: LogRecord attributes that are not extra fields.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class TextFormatter(logging.Formatter):
    """`asctime level logger: message`, each second's date and time formatted once (the api
    writes a line per request)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._second, self._stamp = -1, ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        if second != self._second:
            stamp = time.strftime(self.default_time_format, self.converter(record.created))
            self._second, self._stamp = second, stamp
        return f"{self._stamp},{int(record.msecs):03d}"  # logging's own "%s,%03d"


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._second, self._stamp = -1, ""

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

    def _utc_time(self, created: float) -> str:
        """The record's UTC time to the second, formatted once per second."""
        second = int(created)
        if second != self._second:
            self._second, self._stamp = (
                second,
                time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)),
            )
        return self._stamp


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
