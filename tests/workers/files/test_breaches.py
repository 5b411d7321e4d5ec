"""A breach's commit in the worker's main process: it never raises, and keeps its note when
Redis is away (the job's next run then counts no death)."""

from __future__ import annotations

import os

import pytest
import redis

from workers import stop_logs
from workers.files import breaches


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
