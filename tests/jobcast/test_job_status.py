"""Job statuses: the enum the code uses is the list the API publishes."""

from __future__ import annotations

import json
from typing import get_args

from jobcast.jobs.records import STARTABLE, TERMINAL, JobStatus, encode_fields
from jobcast.schemas import jobs as schemas


def test_the_api_schema_lists_the_job_statuses_of_the_enum() -> None:
    assert get_args(schemas.JobStatus) == tuple(JobStatus)


def test_a_status_is_stored_and_sent_as_its_text() -> None:
    assert encode_fields({"status": JobStatus.CANCELLING}) == {"status": "cancelling"}
    assert json.dumps({"status": JobStatus.FAILED}) == '{"status": "failed"}'


def test_terminal_states_are_not_startable() -> None:
    assert not set(TERMINAL) & set(STARTABLE)
    assert set(TERMINAL) == {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}
