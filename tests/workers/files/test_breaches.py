"""A breach's commit in the worker's main process: it never raises, keeps its note when Redis is
away (the job's next run then counts no death), and a convert it ends keeps no converted file."""

from __future__ import annotations

import json
import os

import pytest
import redis

from jobcast import quotas
from jobcast.jobs.records import FAILED, QUEUED
from jobcast.rediskeys import job_key, quota_ledger_key
from jobcast.settings import Settings
from jobcast.storage_paths import ARTIFACT_PARTIAL_SUFFIX, artifact_path, partial_path
from workers import stop_logs
from workers.files import breaches
from workers.files.state import JobState


def test_a_breach_redis_cannot_take_is_one_warning_and_its_note_is_kept(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pid = 2_000_000_000 + os.getpid()  # no real process's
    away = redis.Redis(port=1, socket_connect_timeout=1)  # nothing listens there
    monkeypatch.setattr(breaches, "_client", away)
    error = {"code": "memory_limit", "message": "over"}
    stop_logs.leave_breach_note(pid, {"job_id": "j_1", "error": error, "started": 5.0})
    try:
        breaches.commit_breach(pid)  # does not raise
        assert [r.levelname for r in caplog.records] == ["WARNING"]
        assert "file job j_1 went over its memory budget" in caplog.records[0].getMessage()
        assert stop_logs.breach_started_at(pid) == 5.0
    finally:
        stop_logs.drop_breach_note(pid)


def test_a_lost_process_with_no_breach_note_commits_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(breaches, "_client", None)
    breaches.commit_breach(2_000_000_001 + os.getpid())
    assert breaches._client is None  # not even a client made


def test_a_convert_ended_by_a_breach_keeps_no_partial_file_nor_its_reservation(
    monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis, settings: Settings
) -> None:
    # Killed mid-convert, the process left its `.partial` file until the sweep and the bytes it
    # had reserved until the job's retention. The kill itself cannot be placed in a test this
    # small: the note it leaves is committed as the worker's main process does.
    params = json.dumps({"operation": "convert", "to": "csv"})
    record = {"id": "j_1", "status": QUEUED, "owner": "p_1", "params": params}
    redis_client.hset(job_key("j_1"), mapping=record)
    assert JobState(redis_client, "j_1", "p_1", ttl=600, operation="convert").start(1, 30).committed
    partial = partial_path(artifact_path(settings, "j_1", "csv"), ARTIFACT_PARTIAL_SUFFIX)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"n\n7\n")
    quotas.charge(redis_client, "p_1", quotas.artifact_entry("j_1"), 64 << 20, 600)
    monkeypatch.setattr(breaches, "_client", redis_client)
    monkeypatch.setattr(breaches, "get_settings", lambda: settings)
    pid = 2_000_000_002 + os.getpid()  # no real process's
    error = {"code": "memory_limit", "message": "over"}
    stop_logs.leave_breach_note(pid, {"job_id": "j_1", "error": error, "rss": 1, "budget": 1})

    breaches.commit_breach(pid)

    assert redis_client.hget(job_key("j_1"), "status") == FAILED
    assert not partial.exists()
    assert redis_client.hkeys(quota_ledger_key("p_1")) == []
