"""What a file job's commits announce.

The owner's view of an error in the event, the operator's in the record.
"""

from __future__ import annotations

import json

import redis

from jobcast.events import job_channel, read_since, user_channel
from jobcast.jobs.records import FAILED, QUEUED, decode_record
from jobcast.jobs.views import public_view
from jobcast.rediskeys import job_key
from workers.files.state import JobState

SERVER_TEXT = "OSError: [Errno 5] /srv/jobcast/var/uploads/u_1.csv"


def _running_job(client: redis.Redis) -> JobState:
    client.hset(job_key("j_1"), mapping={"status": QUEUED, "owner": "p_1", "operation": "profile"})
    state = JobState(client, "j_1", "p_1", ttl=600, operation="profile")
    assert state.start(1, size=30).committed
    return state


def test_a_failure_event_carries_the_owners_view_and_the_record_the_full_text(
    redis_client: redis.Redis,
) -> None:
    state = _running_job(redis_client)
    assert state.finish(FAILED, error={"code": "internal_error", "message": SERVER_TEXT}).committed

    stored = json.loads(redis_client.hget(job_key("j_1"), "error"))  # type: ignore[arg-type]
    assert stored["message"] == SERVER_TEXT
    for channel in (job_channel("j_1"), user_channel("p_1")):
        failed = [e for e in read_since(redis_client, channel, "0-0") if e["type"] == "job.failed"]
        assert len(failed) == 1
        shown = failed[0]["data"]["error"]
        assert shown["code"] == "internal_error"
        assert "/srv" not in shown["message"]
        assert "OSError" not in shown["message"]


def test_a_retry_event_hides_server_paths_too(redis_client: redis.Redis) -> None:
    state = _running_job(redis_client)
    error = {"code": "ragged_rows", "message": f"Row 3 is ragged in {SERVER_TEXT.split()[-1]}"}
    assert state.retrying(1, error, delay=2.0).committed

    events = read_since(redis_client, job_channel("j_1"), "0-0")
    shown = [e["data"]["error"] for e in events if "retry_in" in e["data"]]
    assert shown == [{"code": "ragged_rows", "message": "Row 3 is ragged in <path>"}]


def test_a_job_waiting_to_retry_shows_no_estimate_of_the_attempt_that_failed(
    redis_client: redis.Redis,
) -> None:
    # Its view said "10 s left" for as long as it waited for its next attempt, which starts
    # from the beginning.
    state = _running_job(redis_client)
    progress = {"phase": "scan", "bytes_done": 10, "bytes_total": 30, "rows": 2}
    assert state.progress({**progress, "percent": 33.3, "eta_seconds": 10.0}).committed
    assert state.retrying(1, {"code": "transient_error", "message": "disk"}, delay=2.0).committed

    record = decode_record(redis_client.hgetall(job_key("j_1")))  # type: ignore[arg-type]
    shown = public_view({**record, "id": "j_1"})
    assert shown["status"] == "retrying"
    assert shown["progress"]["eta_seconds"] is None
    assert shown["progress"]["rows"] == 2  # how far the failed attempt got stays


def test_a_started_job_shows_nothing_read_yet(redis_client: redis.Redis) -> None:
    _running_job(redis_client)
    progress = json.loads(redis_client.hget(job_key("j_1"), "progress"))  # type: ignore[arg-type]
    assert progress == {
        "phase": "scan",
        "bytes_done": 0,
        "bytes_total": 30,
        "rows": 0,
        "percent": 0.0,
        "eta_seconds": None,
    }
