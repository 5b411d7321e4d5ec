"""`files` workers sweep the stored files no job needs any more, every `files_sweep_interval`:
files aged past any use, and uploads kept for want of a replica's confirmation once one has it.

A thread in the worker's main process, like the heartbeat: one sweeper per worker, whatever its
concurrency, and none in workers that do not consume `files` (they may not see the storage).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

import redis
from celery import signals

from celeryconfig import FILES_QUEUE
from jobcast.redis_clients import redis_problem, sync_client
from jobcast.rediskeys import job_key
from jobcast.replication import ReplicaCheck
from jobcast.settings import Settings, get_settings
from jobcast.storage_paths import artifacts_dir, upload_path, uploads_dir
from workers.files.kept import release_kept
from workers.files.sweep import LiveJobs, SweepResult, rules_for, sweep

log = logging.getLogger("jobcast.files.sweep")

#: Job ids asked about per Redis round trip.
LOOKUP_BATCH = 500
#: Seconds a Redis call may hang before the sweep is given up (and retried next interval).
REDIS_TIMEOUT = 10.0


def live_jobs_in(client: redis.Redis) -> LiveJobs:
    """A lookup of which job records still exist, in Redis."""

    def live(job_ids: Collection[str]) -> set[str]:
        ids, found = list(job_ids), set[str]()
        for start in range(0, len(ids), LOOKUP_BATCH):
            chunk = ids[start : start + LOOKUP_BATCH]
            pipe = client.pipeline(transaction=False)
            for job_id in chunk:
                pipe.exists(job_key(job_id))
            found.update(j for j, n in zip(chunk, pipe.execute(), strict=True) if n)
        return found

    return live


def sweep_once(settings: Settings, live_jobs: LiveJobs) -> SweepResult | None:
    """One sweep, logged; None if Redis or the storage was unavailable (then nothing is deleted
    that depends on Redis, and the next interval tries again)."""
    uploads, artifacts = uploads_dir(settings), artifacts_dir(settings)
    try:
        result = sweep(uploads, artifacts, time.time(), rules_for(settings), live_jobs)
    except redis.RedisError as exc:
        # Without the records, an artifact's job cannot be told live or gone: delete nothing.
        log.warning("file sweep skipped: Redis unavailable (%s)", redis_problem(exc, where=True))
        return None
    except OSError as exc:
        log.warning("file sweep skipped: storage unavailable (%s)", exc)
        return None
    if result.files or result.failed:
        log.info(
            "file sweep: %d deleted (%d bytes), %d failed",
            result.files,
            result.bytes,
            result.failed,
        )
    return result


#: Deletes the kept uploads a replica now confirms; returns how many.
ReleaseKept = Callable[[], int]


def kept_release_in(client: redis.Redis, settings: Settings) -> ReleaseKept:
    replicas = ReplicaCheck.of(settings)

    def release() -> int:
        return release_kept(
            client,
            lambda: replicas.written_through(client),
            lambda stored: upload_path(settings, stored).unlink(missing_ok=True),
        )

    return release


def release_once(release: ReleaseKept) -> None:
    try:
        removed = release()
    except redis.RedisError as exc:
        log.warning(
            "kept uploads not released: Redis unavailable (%s)", redis_problem(exc, where=True)
        )
        return
    if removed:
        log.info("file sweep: kept uploads deleted: %d (a replica has their jobs' ends)", removed)


class Sweeper:
    def __init__(self, settings: Settings, live_jobs: LiveJobs, release: ReleaseKept) -> None:
        self._settings, self._live_jobs, self._release = settings, live_jobs, release
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jobcast-file-sweep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        # At once first: a worker (re)starting after a crash is when leftovers are likeliest.
        while not self._stop.is_set():
            try:
                sweep_once(self._settings, self._live_jobs)
                release_once(self._release)
            except Exception:  # a bug must not end sweeping for the worker's lifetime
                log.exception("file sweep failed")
            self._stop.wait(self._settings.files_sweep_interval)


_sweeper: Sweeper | None = None


def _on_worker_ready(sender: Any, **_: Any) -> None:
    global _sweeper
    if FILES_QUEUE not in sender.app.amqp.queues.consume_from:
        return
    settings = get_settings()
    client = sync_client(settings, timeout=REDIS_TIMEOUT, connect_timeout=REDIS_TIMEOUT)
    _sweeper = Sweeper(settings, live_jobs_in(client), kept_release_in(client, settings))
    _sweeper.start()


def _on_worker_shutdown(**_: Any) -> None:
    if _sweeper is not None:
        _sweeper.stop()


def connect_signals() -> None:
    signals.worker_ready.connect(_on_worker_ready, weak=False)
    signals.worker_shutdown.connect(_on_worker_shutdown, weak=False)
