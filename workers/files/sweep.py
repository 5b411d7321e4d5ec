"""Which stored files no job needs any more, and deleting them (the disk would fill otherwise).

Only regular files directly in the uploads and artifacts directories, named the way Jobcast
names them (`jobcast.storage_paths`), are considered; symlinks, subdirectories and unknown
names are left alone. Every decision is made before anything is deleted, so a failed record
lookup deletes nothing.
Several sweepers (workers on several hosts sharing the directory) may run at once: they reach
the same decisions, and a file another one deleted first is simply skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from jobcast.settings import Settings
from jobcast.storage_paths import (
    ARTIFACT_NAME,
    ARTIFACT_PARTIAL_NAME,
    UPLOAD_NAME,
    UPLOAD_PARTIAL_NAME,
)

#: Least age of a `.part`/`.partial` file before it is taken for a dead writer's leftover.
#: Writers touch theirs at every chunk or batch; an hour of silence means the writer is gone.
PARTIAL_MIN_AGE = 3600

#: Given job ids, the ones whose record still exists. May raise: then nothing is deleted.
LiveJobs = Callable[[Collection[str]], set[str]]


@dataclass(frozen=True)
class SweepRules:
    """Ages in seconds (by mtime) past which each kind of file may go."""

    min_age: float
    upload_age: float
    partial_age: float


@dataclass(frozen=True)
class StoredFile:
    path: Path
    size: int
    age: float


@dataclass(frozen=True)
class SweepResult:
    files: int = 0
    bytes: int = 0
    failed: int = 0


def rules_for(settings: Settings) -> SweepRules:
    """The ages that follow from the settings.

    An upload's name is random and only its job's record knows it (`stored`), so the file cannot
    name its job, and reading every record each sweep would cost as much as there are jobs.
    Its age is enough: the upload is read only when an attempt of its job starts. A queued
    record expires `job_retention` after it was created (just after the upload was written), so
    the first attempt starts within that or never, and each later one within a redelivery delay
    of the previous (bar a queue backlog; then that job fails `upload_missing`, cleanly). Past
    both, whatever is left belongs to a job that will never run: a process died before the
    worker could remove it.
    """
    attempts = settings.task_max_attempts * settings.visibility_timeout
    partial_age = max(PARTIAL_MIN_AGE, settings.job_time_limit, settings.files_sweep_min_age)
    return SweepRules(
        min_age=settings.files_sweep_min_age,
        upload_age=settings.job_retention + max(settings.files_sweep_min_age, attempts),
        partial_age=partial_age,
    )


def stored_files(directory: Path, now: float) -> list[StoredFile]:
    """Regular files directly in `directory`, never through a symlink; none if it is missing."""
    try:
        with os.scandir(directory) as entries:
            return [f for entry in entries if (f := _regular_file(entry, now)) is not None]
    except FileNotFoundError:
        return []


def _regular_file(entry: os.DirEntry[str], now: float) -> StoredFile | None:
    try:
        if not entry.is_file(follow_symlinks=False):
            return None
        stat = entry.stat(follow_symlinks=False)
    except FileNotFoundError:  # deleted since the listing
        return None
    return StoredFile(Path(entry.path), stat.st_size, now - stat.st_mtime)


def _named(files: list[StoredFile], pattern: re.Pattern[str]) -> list[StoredFile]:
    return [f for f in files if pattern.fullmatch(f.path.name)]


def _older(files: list[StoredFile], age: float) -> list[StoredFile]:
    return [f for f in files if f.age >= age]


def orphan_artifacts(
    files: list[StoredFile], rules: SweepRules, live_jobs: LiveJobs
) -> list[StoredFile]:
    """Aged artifacts whose job record is gone: the api answers 410 for them, never the file."""
    job_of: dict[StoredFile, str] = {}
    for f in _older(files, rules.min_age):
        if match := ARTIFACT_NAME.fullmatch(f.path.name):
            job_of[f] = match["job"]
    if not job_of:
        return []
    live = live_jobs(set(job_of.values()))
    return [f for f, job_id in job_of.items() if job_id not in live]


def plan_sweep(
    uploads_dir: Path, artifacts_dir: Path, now: float, rules: SweepRules, live_jobs: LiveJobs
) -> list[StoredFile]:
    """The files to delete; raises whatever `live_jobs` raises."""
    uploads, artifacts = stored_files(uploads_dir, now), stored_files(artifacts_dir, now)
    return [
        *_older(_named(uploads, UPLOAD_NAME), rules.upload_age),
        *_older(_named(uploads, UPLOAD_PARTIAL_NAME), rules.partial_age),
        *_older(_named(artifacts, ARTIFACT_PARTIAL_NAME), rules.partial_age),
        *orphan_artifacts(artifacts, rules, live_jobs),
    ]


def delete_files(files: list[StoredFile]) -> SweepResult:
    deleted = size = failed = 0
    for f in files:
        try:
            f.path.unlink()
        except FileNotFoundError:  # another sweeper got there first
            continue
        except OSError:  # e.g. permissions: the others still go, the caller logs the count
            failed += 1
            continue
        deleted, size = deleted + 1, size + f.size
    return SweepResult(deleted, size, failed)


def sweep(
    uploads_dir: Path, artifacts_dir: Path, now: float, rules: SweepRules, live_jobs: LiveJobs
) -> SweepResult:
    """Delete what no job needs any more; if `live_jobs` raises, nothing is deleted."""
    return delete_files(plan_sweep(uploads_dir, artifacts_dir, now, rules, live_jobs))
