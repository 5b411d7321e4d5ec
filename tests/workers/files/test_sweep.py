"""The sweep's decisions on a real directory, with a fake lookup of which job records live."""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from pathlib import Path

import pytest

from jobcast.settings import Settings
from workers.files.sweep import LiveJobs, SweepResult, SweepRules, rules_for, sweep

NOW = time.time()
HOUR = 3600.0
RULES = SweepRules(min_age=HOUR, upload_age=10 * HOUR, partial_age=2 * HOUR)
LIVE_JOB, GONE_JOB = "j_" + "a" * 24, "j_" + "b" * 24
UPLOAD = "c" * 32


def live_jobs(job_ids: Collection[str]) -> set[str]:
    return {LIVE_JOB} & set(job_ids)


def redis_is_away(job_ids: Collection[str]) -> set[str]:
    raise ConnectionError("Redis is away")


class Storage:
    """The uploads and artifacts directories of one test, with files aged at will."""

    def __init__(self, root: Path) -> None:
        self.uploads, self.artifacts = root / "uploads", root / "artifacts"
        self.uploads.mkdir()
        self.artifacts.mkdir()

    def file(self, path: Path, age_hours: float, size: int = 10) -> Path:
        path.write_bytes(b"x" * size)
        moment = NOW - age_hours * HOUR
        os.utime(path, (moment, moment))
        return path

    def sweep(self, lookup: LiveJobs = live_jobs) -> SweepResult:
        return sweep(self.uploads, self.artifacts, NOW, RULES, lookup)


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(tmp_path)


def test_old_artifact_of_an_expired_job_is_deleted_and_counted(storage: Storage) -> None:
    artifact = storage.file(storage.artifacts / f"{GONE_JOB}.parquet", age_hours=1.5, size=123)

    assert storage.sweep() == SweepResult(files=1, bytes=123)
    assert not artifact.exists()


def test_artifact_of_a_live_job_is_kept_however_old(storage: Storage) -> None:
    artifact = storage.file(storage.artifacts / f"{LIVE_JOB}.csv", age_hours=100)

    assert storage.sweep() == SweepResult()
    assert artifact.exists()


def test_files_younger_than_the_min_age_are_kept(storage: Storage) -> None:
    artifact = storage.file(storage.artifacts / f"{GONE_JOB}.csv", age_hours=0.5)

    storage.sweep()

    assert artifact.exists()


def test_upload_goes_only_past_its_age(storage: Storage) -> None:
    old = storage.file(storage.uploads / UPLOAD, age_hours=11)
    recent = storage.file(storage.uploads / ("d" * 32), age_hours=9)

    storage.sweep()

    assert not old.exists()
    assert recent.exists()


def test_stale_partial_files_are_deleted_and_young_ones_kept(storage: Storage) -> None:
    stale = [
        storage.file(storage.uploads / f"{UPLOAD}.part", age_hours=3),
        storage.file(storage.artifacts / f"{LIVE_JOB}.csv.partial", age_hours=3),
    ]
    young = [
        storage.file(storage.uploads / ("d" * 32 + ".part"), age_hours=1.5),
        storage.file(storage.artifacts / f"{GONE_JOB}.csv.partial", age_hours=1.5),
    ]

    assert storage.sweep().files == 2
    assert [p.exists() for p in stale] == [False, False]
    assert [p.exists() for p in young] == [True, True]


def test_subdirectories_symlinks_and_unknown_names_are_untouched(
    storage: Storage, tmp_path: Path
) -> None:
    outside = storage.file(tmp_path / "precious", age_hours=100)
    link = storage.artifacts / f"{GONE_JOB}.csv"
    link.symlink_to(outside)
    os.utime(link, (0, 0), follow_symlinks=False)
    nested = storage.artifacts / f"{GONE_JOB}.parquet"
    nested.mkdir()
    inside = storage.file(nested / f"{GONE_JOB}.csv", age_hours=100)
    foreign = storage.file(storage.uploads / "notes.txt", age_hours=100)

    assert storage.sweep() == SweepResult()
    assert link.is_symlink()
    assert [outside.exists(), inside.exists(), foreign.exists()] == [True, True, True]


def test_failing_record_lookup_deletes_nothing_at_all(storage: Storage) -> None:
    files = [
        storage.file(storage.artifacts / f"{GONE_JOB}.csv", age_hours=100),
        storage.file(storage.uploads / UPLOAD, age_hours=100),
        storage.file(storage.uploads / f"{UPLOAD}.part", age_hours=100),
    ]

    with pytest.raises(ConnectionError):
        storage.sweep(redis_is_away)

    assert all(p.exists() for p in files)


def test_missing_directories_are_an_empty_sweep(tmp_path: Path) -> None:
    result = sweep(tmp_path / "no-uploads", tmp_path / "no-artifacts", NOW, RULES, redis_is_away)

    assert result == SweepResult()


def test_file_already_deleted_by_another_sweeper_is_not_counted(storage: Storage) -> None:
    artifact = storage.file(storage.artifacts / f"{GONE_JOB}.csv", age_hours=100)

    def other_sweeper_first(job_ids: Collection[str]) -> set[str]:
        artifact.unlink()  # between this sweep's listing and its delete
        return set()

    assert storage.sweep(other_sweeper_first) == SweepResult()


def test_rules_keep_uploads_past_retention_and_partials_at_least_an_hour() -> None:
    settings = Settings(job_retention=86400, files_sweep_min_age=60, _env_file=None)  # type: ignore[call-arg]

    rules = rules_for(settings)

    assert rules.min_age == 60
    assert rules.upload_age >= 86400 + settings.task_max_attempts * settings.job_time_limit
    assert rules.partial_age >= max(HOUR, settings.job_time_limit)
