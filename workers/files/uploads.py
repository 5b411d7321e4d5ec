"""A file job's stored files: its upload, removed once its outcome is safe, and a converted
file's charge against its owner's quota, kept only by a job that succeeded."""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis

from jobcast import kept_uploads, quotas
from jobcast.jobs.params import JobParams
from jobcast.jobs.records import SUCCEEDED
from jobcast.settings import Settings
from jobcast.storage_paths import (
    ARTIFACT_PARTIAL_SUFFIX,
    artifact_path,
    partial_path,
    upload_path,
)
from workers.context import worker_context
from workers.files.errors import FileJobError
from workers.files.runner import Hooks
from workers.files.state import is_terminal

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


def drop_artifact(
    client: redis.Redis, settings: Settings, record: dict[str, Any], status: str | None
) -> None:
    """Remove the converted file (whole or `.partial`) of a convert job that ended `status`
    otherwise than succeeded, and its charge: nothing will serve it. A job not ended, or ended
    succeeded, keeps both. Every unsucceeded end calls it, also one found by a redelivery (its
    worker died before this) or committed outside the job's run (attempts exhausted, a memory
    breach). The files go first, so a crash in between leaves a charge that expires with the
    job's retention, never a file the quota no longer counts."""
    params = record.get("params") or {}
    if params.get("operation") != "convert" or not is_terminal(status) or status == SUCCEEDED:
        return
    final = artifact_path(settings, record["id"], params.get("to") or "parquet")
    try:
        for path in (final, partial_path(final, ARTIFACT_PARTIAL_SUFFIX)):
            path.unlink(missing_ok=True)
    except OSError as exc:  # still on disk, still charged: the sweep removes it with the record
        log.warning("could not remove the converted file of an unsucceeded job: %s", exc)
        return
    with contextlib.suppress(redis.RedisError):  # else it expires with the job's retention
        quotas.release(client, record["owner"], quotas.artifact_entry(record["id"]))


#: Bytes a converted file reserves ahead of what it has written: a Redis round trip per this
#: much output, not per batch.
ARTIFACT_STEP = 64 << 20


def artifact_quota(
    client: redis.Redis,
    settings: Settings,
    params: JobParams,
    owner: str,
    job_id: str,
    hooks: Hooks,
) -> contextlib.AbstractContextManager[None]:
    """`artifact_reserved` for a convert job; nothing to hold for the others."""
    if params.operation != "convert":
        return contextlib.nullcontext()
    return artifact_reserved(client, settings, owner, job_id, hooks)


@contextlib.contextmanager
def artifact_reserved(
    client: redis.Redis, settings: Settings, owner: str, job_id: str, hooks: Hooks
) -> Iterator[None]:
    """Hold a converted file's bytes in its owner's quota while it is written (`hooks` tell its
    size): past the quota the job fails `storage_quota_exceeded`, the file removed. A job that
    ends otherwise than with its file lets go of what was held; one that succeeds keeps it until
    `charge_artifact` records the file's size."""
    entry, limits = quotas.artifact_entry(job_id), quotas.Limits.of(settings)
    reserved = 0

    def grew(size: int) -> None:
        nonlocal reserved
        keep_disk_free(settings)
        if size <= reserved:
            return
        for want in (size + ARTIFACT_STEP, size):  # the step may be all that does not fit
            held = quotas.reserve(client, owner, entry, want, settings.job_retention, limits)
            if held.verdict == quotas.RESERVED:
                reserved = want
                return
        raise FileJobError(
            "storage_quota_exceeded",
            f"The converted file reached {size / 2**20:,.0f} MiB, past what your storage quota "
            f"has left ({max(0, limits.max_bytes - held.used) / 2**20:,.0f} MiB of "
            f"{limits.max_bytes / 2**20:,.0f} MiB): convert to parquet, or fewer rows, or wait "
            "for your older jobs to expire.",
        )

    keep_disk_free(settings)
    hooks.artifact_grew = grew
    try:
        yield
    except BaseException:
        with contextlib.suppress(redis.RedisError):  # else it expires with the job's retention
            quotas.release(client, owner, entry)
        raise


def keep_disk_free(settings: Settings) -> None:
    """storage_full once the data directory's disk has less than JOBCAST_JOB_MIN_FREE_DISK_BYTES
    free: a converted file (checked before it starts and after each batch written) is stopped
    there and removed, so the quotas of several owners together cannot fill the disk."""
    floor = settings.job_min_free_disk_bytes
    if floor <= 0:
        return
    free = shutil.disk_usage(settings.data_dir).free
    if free < floor:
        raise FileJobError(
            "storage_full",
            f"The server's disk has {free / 2**20:,.0f} MiB free, under the "
            f"{floor / 2**20:,.0f} MiB it keeps free (JOBCAST_JOB_MIN_FREE_DISK_BYTES): the "
            "converted file was removed. Try again later, convert to parquet, or fewer rows.",
        )
