"""Uploads kept for want of a replica's confirmation go at the next sweep once one confirms, if
their job has still ended; a job that runs again keeps its upload (its own end deletes it)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import redis

from api.job_store import new_job_id
from jobcast import kept_uploads
from jobcast.rediskeys import KEPT_UPLOADS_KEY, job_key
from jobcast.settings import Settings
from jobcast.storage_paths import upload_path
from workers.files.kept import BATCH, release_kept
from workers.files.sweeper import kept_release_in, release_once


def kept(client: redis.Redis, settings: Settings, status: str | None, n: int) -> Path:
    """An upload kept for a job in `status` (None: its record is gone), listed."""
    job_id = new_job_id()
    if status is not None:
        client.hset(job_key(job_id), mapping={"id": job_id, "status": status})
    stored = f"{n:032x}"
    path = upload_path(settings, stored)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"a,b\n1,2\n")
    kept_uploads.note(client, stored, job_id)
    return path


def test_once_a_replica_confirms_the_ended_jobs_uploads_go_and_a_rerun_keeps_its_own(
    redis_client: redis.Redis, settings: Settings
) -> None:
    ended = [kept(redis_client, settings, s, n) for n, s in enumerate(["succeeded", "cancelled"])]
    failed = kept(redis_client, settings, "failed", 2)
    gone = kept(redis_client, settings, None, 3)
    rerun = kept(redis_client, settings, "running", 4)

    release = kept_release_in(redis_client, settings)
    assert release() == 4  # no Sentinel here: nothing to wait for, as when a replica confirms
    assert not any(p.exists() for p in [*ended, failed, gone])
    assert rerun.exists()
    assert redis_client.zcard(KEPT_UPLOADS_KEY) == 0  # the rerun's end deletes it, or lists it


def test_nothing_goes_while_no_replica_confirms(
    redis_client: redis.Redis, settings: Settings
) -> None:
    path = kept(redis_client, settings, "succeeded", 0)
    asked: list[bool] = []

    def unconfirmed() -> bool:
        asked.append(True)
        return False

    assert release_kept(redis_client, unconfirmed, lambda s: upload_path(settings, s).unlink()) == 0
    assert asked
    assert path.exists()
    assert redis_client.zcard(KEPT_UPLOADS_KEY) == 1  # asked again at the next sweep


def test_with_nothing_listed_no_replica_is_asked(redis_client: redis.Redis) -> None:
    def never() -> bool:
        raise AssertionError("a WAIT for nothing")

    assert release_kept(redis_client, never, lambda s: None) == 0


def test_a_sweep_takes_the_oldest_batch_and_leaves_the_rest_for_the_next(
    redis_client: redis.Redis, settings: Settings
) -> None:
    paths = [kept(redis_client, settings, "succeeded", n) for n in range(BATCH + 2)]
    release = kept_release_in(redis_client, settings)
    assert release() == BATCH
    assert [p.exists() for p in paths] == [False] * BATCH + [True, True]
    assert release() == 2


def test_redis_away_is_logged_and_deletes_nothing(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = redis.Redis(port=1, socket_connect_timeout=0.5)
    with caplog.at_level(logging.WARNING, logger="jobcast.files.sweep"):
        release_once(kept_release_in(unreachable, settings))
    assert "kept uploads not released: Redis unavailable" in caplog.text
