"""Log formats: the text formatter's per-second timestamp reads as logging's own."""

from __future__ import annotations

import json
import logging
import time

from jobcast.logs import JsonFormatter, TextFormatter

STANDARD = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def record_at(created: float) -> logging.LogRecord:
    record = logging.LogRecord("jobcast.access", logging.INFO, "", 0, "GET %s", ("/x",), None)
    record.created, record.msecs = created, (created - int(created)) * 1000
    return record


def test_text_lines_are_the_standard_format_across_seconds() -> None:
    formatter = TextFormatter()
    now = time.time()
    for created in (now, now + 0.5, now + 1.25, now + 3600.999, now + 0.001):
        assert formatter.format(record_at(created)) == STANDARD.format(record_at(created))


def test_json_lines_carry_each_records_own_utc_time() -> None:
    formatter = JsonFormatter()
    for created in (1_700_000_000.5, 1_700_000_001.0, 1_700_000_000.9):
        entry = json.loads(formatter.format(record_at(created)))
        assert entry["time"] == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
