"""A file job's stored files: its upload, removed once its outcome is safe, and a converted
file's charge against its owner's quota."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import redis

from jobcast import kept_uploads, quotas
from jobcast.settings import Settings
from jobcast.storage_paths import upload_path
from workers.context import worker_context

log = logging.getLogger("jobcast.files")


def remove_upload(client: redis.Redis, settings: Settings, record: dict[str, Any]) -> None:
    """Remove the upload of a job found ended (by another delivery, or the api's cancel) and
    release its quota; a job this run ends released it with its outcome (`JobState.finish`)."""
    if not record.get("stored"):
        return
    unlink_upload(settings, record)
    # Its bytes leave the owner's quota (left behind by an outage, they expire with the job).
    with contextlib.suppress(redis.RedisError):
        quotas.release(client, record["owner"], quotas.upload_entry(record["stored"]))


def unlink_upload(settings: Settings, record: dict[str, Any]) -> None:
    """Delete the upload of a job whose outcome is committed: a rerun finds the job ended and
    needs no input, unless a failover lost the outcome, so first a replica must have it."""
    if not record.get("stored"):
        return
    ctx = worker_context()
    if not ctx.replicas.written_through(ctx.redis):
        log.warning(
            "kept the upload of file job %s: no replica confirmed its outcome, and a failover "
            "that lost it would run the job again; a files sweep removes it once one does",
            record.get("id"),
            extra={"job_id": record.get("id")},
        )
        with contextlib.suppress(redis.RedisError):  # then the age-based sweep does
            kept_uploads.note(ctx.redis, record["stored"], record.get("id", ""))
        return
    delete_upload_file(settings, record)


def delete_upload_file(settings: Settings, record: dict[str, Any]) -> None:
    if not record.get("stored"):
        return
    try:
        upload_path(settings, record["stored"]).unlink(missing_ok=True)
    except OSError as exc:  # storage away (often why the job ended): the sweep gets it later
        log.warning("could not remove the upload of a finished job: %s", exc)


def charge_artifact(
    client: redis.Redis, settings: Settings, record: dict[str, Any], path: Path
) -> None:
    """A converted file counts against its owner's quota until its job's record expires."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with contextlib.suppress(redis.RedisError):  # lost, it under-counts; the job stands
        entry = quotas.artifact_entry(record["id"])
        quotas.charge(client, record["owner"], entry, size, settings.job_retention)
