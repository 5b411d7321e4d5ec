"""`GET /jobs/{id}`'s answer written from the record is the `Job` model's, byte for byte."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.job_json import render_job
from jobcast.jobs.records import JobStatus, decode_record, encode_fields
from jobcast.jobs.views import public_view
from jobcast.schemas.jobs import Job
from tests.api.test_hot_path import JOB_STATES

#: A queued job's record as `api.job_store.create_job` writes it.
CREATED = {
    "id": "j_6f1c0e6b2f9d4a7c8e3b5a10",
    "owner": "p_1",
    "owner_name": "me",
    "status": "queued",
    "operation": "profile",
    "params": {"operation": "profile", "group_by": [], "metrics": {}, "to": None},
    "filename": "t.csv",
    "size": 8,
    "stored": "u_1",
    "created_at": 1764633600.125,
    "attempt": 0,
    "idempotency_key": "",
    "error": None,
}


def record(**fields: Any) -> dict[str, str]:
    return encode_fields({**CREATED, **fields})


def as_the_model_writes(raw: dict[str, str]) -> bytes:
    return (
        Job.model_validate(public_view(decode_record(raw))).model_dump_json(by_alias=True).encode()
    )


@pytest.mark.parametrize("state", JOB_STATES)
def test_every_state_is_written_as_the_model_writes_it(state: str) -> None:
    fields = {k: v for k, v in JOB_STATES[state].items() if k != "result"}
    raw = record(**fields)
    assert render_job(raw) == as_the_model_writes(raw)


numbers = st.integers(min_value=-(2**80), max_value=2**80) | st.floats()
progress = st.fixed_dictionaries(
    {
        "phase": st.text(),
        "bytes_done": st.integers(min_value=0, max_value=2**70),
        "bytes_total": st.integers(min_value=0),
        "rows": st.integers(min_value=0),
        "percent": numbers,
        "eta_seconds": st.none() | numbers,
    }
)


@given(
    status=st.sampled_from([s.value for s in JobStatus]) | st.text(),
    filename=st.text(),
    progress=st.none() | progress,
    error=st.none() | st.fixed_dictionaries({"code": st.text(), "message": st.text()}),
    times=st.tuples(st.floats(), st.none() | st.floats(), st.integers()),
)
def test_any_record_the_server_writes_is_written_as_the_model_writes_it(
    status: str, filename: str, progress: Any, error: Any, times: tuple[float, Any, int]
) -> None:
    created, started, size = times
    raw = record(
        status=status,
        filename=filename,
        progress=progress,
        error=error,
        created_at=created,
        started_at=started,
        size=size,
    )
    rendered = render_job(raw)
    assert rendered is not None
    assert rendered == as_the_model_writes(raw)


@pytest.mark.parametrize(
    "odd",
    [
        {"operation": "sort"},
        {"progress": {"phase": "scan", "bytes_done": "1"}},
        {
            "progress": {
                "phase": "scan",
                "bytes_done": True,
                "bytes_total": 1,
                "rows": 1,
                "percent": 1,
                "eta_seconds": None,
            }
        },
        {"error": "boom"},
        {"error": {"code": 3, "message": "m"}},
        {"params": {"operation": "profile", "unknown": 1}},
        {"created_at": None},
        {"size": "many"},
    ],
)
def test_a_record_not_as_the_server_writes_it_is_left_to_the_model(odd: dict[str, Any]) -> None:
    assert render_job(record(**odd)) is None
