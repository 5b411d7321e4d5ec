"""Past `quota_job_records` a principal's oldest ended jobs go before their retention, on a real
api and `files` worker: they answer 410 as expired ones do, leave the listing, and a converted
file and the kept results stop counting against the quota."""

from __future__ import annotations

from pathlib import Path

import redis

from jobcast import rediskeys
from jobcast.events import job_channel
from jobcast.keys import create_key
from jobcast.settings import Settings
from tests.conftest import StartApi, StartWorker
from tests.workers.files.support import JobsClient, await_terminal

CAP = 3


def test_past_the_cap_the_oldest_ended_jobs_go_and_their_artifact_stops_counting(
    start_api: StartApi,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    _, url = start_api({"JOBCAST_QUOTA_JOB_RECORDS": str(CAP)})
    start_worker(queues="files")
    key, info = create_key(redis_client, settings.secret("key_secret"), "alice")
    alice = JobsClient(url, key)
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,x\n2,y\n")
    ledger = rediskeys.quota_ledger_key(info.principal_id)

    converted = alice.submit_ok(table, '{"operation": "convert", "to": "parquet"}')
    await_terminal(redis_client, converted)
    assert redis_client.hexists(ledger, f"artifact:{converted}")
    assert redis_client.hexists(ledger, f"result:{converted}")
    later = []
    for _ in range(CAP):
        later.append(alice.submit_ok(table))
        await_terminal(redis_client, later[-1])

    # The fourth job's submit trimmed the oldest ended one: the converted file's job.
    for path in (f"/jobs/{converted}", f"/jobs/{converted}/result", f"/jobs/{converted}/artifact"):
        answer = alice.http.get(path)
        assert answer.status_code == 410, (path, answer.text)
    assert not redis_client.hexists(ledger, f"artifact:{converted}")
    # Its kept result stops counting too; the jobs kept still count theirs.
    assert not redis_client.hexists(ledger, f"result:{converted}")
    assert all(redis_client.hexists(ledger, f"result:{job_id}") for job_id in later)
    # What went with it: its event stream (larger than the record, kept a week) and its Celery
    # result; its tombstone answers 410 an hour, not the record's retention and a month more.
    assert not redis_client.exists(rediskeys.stream_key(job_channel(converted)))
    assert not redis_client.exists(rediskeys.celery_result_key(converted))
    assert 0 < redis_client.ttl(rediskeys.tombstone_key(rediskeys.job_key(converted))) <= 3600
    assert redis_client.exists(rediskeys.stream_key(job_channel(later[0])))
    assert redis_client.exists(rediskeys.celery_result_key(later[0]))
    listed = alice.http.get("/jobs").json()["items"]
    assert [j["id"] for j in listed] == later[::-1]
    assert redis_client.zcard(rediskeys.jobs_of_key(info.principal_id)) == CAP
    assert all(alice.job(job_id)["status"] == "succeeded" for job_id in later)
    alice.http.close()
