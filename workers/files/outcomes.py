"""What a file job's task commits when its run ends: the error the owner reads for each way it
can fail, and the figures a result carries. Pure: built from what happened, tested without Redis
(the task, workers/files/tasks.py, commits them)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from jobcast.jobs.records import EncodedJson, encode_json
from jobcast.redis_clients import redis_problem
from jobcast.schemas.errors import field_errors, summary
from workers.files.errors import FileJobError, underlying

#: Characters of an unforeseen exception's text kept in the job's error.
INTERNAL_MESSAGE_CHARS = 500


def invalid_params(exc: ValidationError) -> dict[str, str]:
    """Params queued before a deploy tightened a rule (the api now refuses them at submit)."""
    problems = summary(field_errors(exc.errors(), "params"), "params")
    return {"code": "invalid_params", "message": f"{problems}. Submit the job again."}


def time_limit(seconds: float) -> dict[str, str]:
    return {"code": "time_limit", "message": f"The job ran past {seconds} s."}


def internal_error(exc: Exception) -> dict[str, str]:
    """A bug or an input nothing foresaw, named by its exception."""
    return {
        "code": "internal_error",
        "message": f"{type(exc).__name__}: {exc}"[:INTERNAL_MESSAGE_CHARS],
    }


def transient_error(exc: Exception) -> dict[str, str]:
    # The owner reads this on the job: one line (behind Sentinel redis-py's text is kilobytes
    # of client reprs, hosts included); the log names each sentinel's answer.
    return {"code": "transient_error", "message": f"{type(exc).__name__}: {redis_problem(exc)}"}


def reader_detail(exc: FileJobError) -> str:
    """What the reader said (pyarrow's text) for the log: the owner is told what to fix."""
    inner = underlying(exc)
    return repr(inner) if inner is not None else ""


def retry_delay(attempt: int, first: float) -> float:
    """Seconds before retrying after the failed `attempt` (1 for the first), `first` doubled
    after each."""
    return first * 2.0 ** (attempt - 1)


def with_figures(
    result: dict[str, Any], seconds: float, cpu_seconds: float, peak_rss: int
) -> dict[str, Any]:
    """`result` with what the run cost: wall and CPU seconds (all threads of the process), and
    the job's own peak memory, not the process's lifetime one."""
    result.update(
        duration_seconds=round(seconds, 3),
        cpu_seconds=round(cpu_seconds, 3),
        peak_rss_bytes=peak_rss,
    )
    return result


def stored_result(result: dict[str, Any], max_bytes: int) -> EncodedJson:
    """`result` as the job's record stores it, or result_too_large: it is kept whole in that
    record (and sent whole in each snapshot), in memory every principal shares, so it is
    measured in that form, figures included, before any of it is stored. Encoded once here,
    the same text is what the owner's quota is charged for and what the outcome commits."""
    text = EncodedJson(encode_json(result))
    if len(text) <= max_bytes:  # ASCII (`encode_json` escapes the rest): characters are bytes
        return text
    raise FileJobError(
        "result_too_large",
        f"The result would take {len(text)} bytes, more than the {max_bytes} bytes a job may "
        "keep: a result is a summary. Group by shorter or fewer columns, profile fewer or "
        "shorter columns, or convert the file to get all of it.",
    )
