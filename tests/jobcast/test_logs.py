"""Log formats: the text formatter's per-second timestamp reads as logging's own."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import threading
import time
from datetime import UTC, datetime

from jobcast.logs import JsonFormatter, RecordTemplate, TextFormatter, TurnBatchingHandler

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


def test_text_lines_with_an_exception_are_the_standard_format() -> None:
    record = record_at(time.time())
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert TextFormatter().format(record) == STANDARD.format(record)


class CountedWrites(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def batching_to(stream: io.StringIO, *names: str) -> list[logging.Logger]:
    """Loggers writing to one handler that holds the lines of the first to each turn's end."""
    handler = TurnBatchingHandler(batched=frozenset(names[:1]))
    handler.setStream(stream)
    loggers = [logging.getLogger(name) for name in names]
    for logger in loggers:
        logger.handlers[:], logger.propagate = [handler], False
        logger.setLevel(logging.INFO)
    return loggers


def test_lines_of_one_loop_turn_are_written_together_and_in_order() -> None:
    stream = CountedWrites()
    (logger,) = batching_to(stream, "jobcast.test.batching")
    logger.info("before the loop")  # no loop: written at once

    async def turns() -> None:
        for turn in range(2):
            for n in range(3):
                logger.info("turn %d line %d", turn, n)
            assert stream.writes == 1 + turn  # this turn's lines still wait
            await asyncio.sleep(0)
            await asyncio.sleep(0)

    asyncio.run(turns())
    logger.info("after the loop")
    lines = stream.getvalue().splitlines()
    assert lines == [
        "before the loop",
        *(f"turn {turn} line {n}" for turn in range(2) for n in range(3)),
        "after the loop",
    ]
    assert stream.writes == 4


def test_other_lines_are_written_at_once_after_those_waiting() -> None:
    # uvicorn's last lines on SIGTERM: the process ends before the turn does.
    stream = CountedWrites()
    per_request, other = batching_to(stream, "jobcast.test.per_request", "jobcast.test.other")

    async def turn() -> None:
        per_request.info("request 1")
        per_request.info("request 2")
        assert stream.writes == 0
        other.info("shutting down")
        assert stream.getvalue().splitlines() == ["request 1", "request 2", "shutting down"]
        assert stream.writes == 1

    asyncio.run(turn())


def test_json_lines_carry_each_records_own_time_in_utc_saying_so() -> None:
    # It was `2026-12-06T08:54:02`: UTC, but read as local time by whoever had no way to know.
    formatter = JsonFormatter()
    for created in (1_700_000_000.5, 1_700_000_001.0, 1_700_000_000.9):
        entry = json.loads(formatter.format(record_at(created)))
        assert entry["time"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created))
        told = datetime.fromisoformat(entry["time"])
        assert told == datetime.fromtimestamp(int(created), UTC)


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


def test_json_lines_leave_out_uvicorns_coloured_copy_of_the_message() -> None:
    record = record_at(time.time())
    record.color_message = "GET \x1b[36m%s\x1b[0m"
    assert "color_message" not in json.loads(JsonFormatter().format(record))
