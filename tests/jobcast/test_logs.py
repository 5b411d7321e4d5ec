"""Log formats: the text formatter's per-second timestamp reads as logging's own."""

from __future__ import annotations

import json
import logging
import threading
import time

from jobcast.logs import JsonFormatter, RecordTemplate, TextFormatter

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


def _made_both_ways(
    args: tuple[object, ...], extra: dict[str, object]
) -> tuple[logging.LogRecord, logging.LogRecord]:
    logger = logging.getLogger("jobcast.test.template")
    template = RecordTemplate(logger, logging.INFO, "%s did %s")
    made = template.make(args, extra)
    ordinary = logger.makeRecord(
        logger.name, logging.INFO, "", 0, "%s did %s", args, None, extra=extra
    )
    return made, ordinary


def test_a_templated_record_is_the_record_logging_would_make() -> None:
    made, ordinary = _made_both_ways(("GET", "/x"), {"request_id": "r1", "status": 200})
    timing = {"created", "msecs", "relativeCreated"}
    assert {k: v for k, v in vars(made).items() if k not in timing} == {
        k: v for k, v in vars(ordinary).items() if k not in timing
    }
    assert abs(made.created - ordinary.created) < 1
    assert made.msecs == int((made.created - int(made.created)) * 1000)
    assert abs(made.relativeCreated - ordinary.relativeCreated) < 1000
    for formatter in (TextFormatter(), JsonFormatter()):
        made.created, made.msecs = ordinary.created, ordinary.msecs
        assert formatter.format(made) == formatter.format(ordinary)


def test_a_record_made_in_another_thread_names_that_thread() -> None:
    made: list[logging.LogRecord] = []
    logger = logging.getLogger("jobcast.test.template")
    template = RecordTemplate(logger, logging.INFO, "%s")
    thread = threading.Thread(target=lambda: made.append(template.make(("x",), {})), name="other")
    thread.start()
    thread.join()
    assert made[0].threadName == "other"
    assert made[0].getMessage() == "x"
