"""The errors a file job ends with and the figures its result carries, as the owner reads them."""

from __future__ import annotations

import pytest
import redis
from pydantic import ValidationError

from jobcast.jobs.params import SUBMITTED, JobParams
from workers.files import outcomes
from workers.files.errors import FileJobError


def refused_params(raw: dict[str, object]) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        JobParams.model_validate(raw, context=SUBMITTED)
    return refused.value


def test_params_a_deploy_tightened_say_which_field_and_to_submit_again() -> None:
    error = outcomes.invalid_params(refused_params({"operation": "nonsense"}))
    assert error["code"] == "invalid_params"
    assert error["message"].startswith("Invalid params: params.operation")
    assert error["message"].endswith(". Submit the job again.")


def test_time_limit_names_the_limit() -> None:
    assert outcomes.time_limit(600) == {
        "code": "time_limit",
        "message": "The job ran past 600 s.",
    }


def test_an_unforeseen_failure_names_its_exception_within_500_characters() -> None:
    error = outcomes.internal_error(KeyError("x" * 1000))
    assert error["code"] == "internal_error"
    assert error["message"].startswith("KeyError: 'xxx")
    assert len(error["message"]) == outcomes.INTERNAL_MESSAGE_CHARS


def test_a_transient_error_is_one_line_naming_the_redis_error() -> None:
    error = outcomes.transient_error(redis.ConnectionError("Connection refused"))
    assert error == {"code": "transient_error", "message": "ConnectionError: Connection refused"}


def test_retries_back_off_doubling_from_the_first_delay() -> None:
    assert [outcomes.retry_delay(attempt, 2.0) for attempt in (1, 2, 3, 4)] == [2, 4, 8, 16]


def test_the_log_detail_is_what_the_reader_said_first() -> None:
    raised = FileJobError("bad_input", "Row 3 has too few fields.")
    raised.__cause__ = ValueError("pyarrow: bad row")
    assert outcomes.reader_detail(raised) == "ValueError('pyarrow: bad row')"
    assert outcomes.reader_detail(FileJobError("bad_input", "alone")) == ""


def test_a_result_carries_what_its_run_cost_rounded_to_milliseconds() -> None:
    result = outcomes.with_figures({"rows": 3}, 1.23456, 0.98765, 4096)
    assert result == {
        "rows": 3,
        "duration_seconds": 1.235,
        "cpu_seconds": 0.988,
        "peak_rss_bytes": 4096,
    }
