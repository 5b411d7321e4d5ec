"""File jobs over HTTP: upload a table, follow its job, read its result or download its artifact.

`POST /tasks/process-file/` and `GET /tasks/{task_id}` are the seed's routes, kept as aliases.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import PydanticCustomError
from redis.exceptions import RedisError

from api import job_store
from api.auth import CurrentPrincipal, CurrentReader, CurrentSubmitter, Submitter
from api.deps import RedisDep, ReplicasDep, SettingsDep, StateDep, cursor_query
from api.disk_floor import DiskFloor
from api.errors import ApiError, spent_headers
from api.job_json import RenderedJSON, render_job
from api.openapi_errors import AUTHENTICATED, OWNED, errors
from api.openapi_headers import LOCATED
from api.state import AppState
from api.task_sender import TaskSender
from api.upload_quota import UploadQuota
from api.uploads import (
    FILE_PATH_REFUSED,
    MAX_FIELD_BYTES,
    SEED_SUBMIT_PATH,
    SUBMIT_PATH,
    Upload,
    receive_upload,
    remove_file,
)
from jobcast import files_waiting, kept_uploads
from jobcast.jobs.ids import JOB_ID
from jobcast.jobs.params import SUBMITTED, JobParams
from jobcast.jobs.records import CANCELLED, FAILED, SUCCEEDED, decode_record
from jobcast.jobs.views import public_view
from jobcast.keys import Principal
from jobcast.owned_index import MAX_PAGE
from jobcast.rediskeys import job_idempotency_key
from jobcast.replication import ReplicaCheck
from jobcast.schemas.errors import field_errors, summary
from jobcast.schemas.jobs import Job, JobPage, JobResult, JobStatus, JobWithResult
from jobcast.settings import Settings
from jobcast.storage_paths import artifact_path, upload_path, uploads_dir

log = logging.getLogger("jobcast.api.jobs")

router = APIRouter(tags=["jobs"])


def parse_params(upload: Upload) -> JobParams:
    if "file_path" in upload.fields:
        raise FILE_PATH_REFUSED
    try:
        raw = json.loads(upload.fields.get("params") or "{}")
        return JobParams.model_validate(raw, context=SUBMITTED)
    except (ValueError, RecursionError) as exc:  # pydantic's ValidationError is a ValueError
        fields = _params_errors(exc)
        raise ApiError(422, "invalid_params", summary(fields), fields) from exc


def _params_errors(exc: ValueError | RecursionError) -> list[dict[str, Any]]:
    if isinstance(exc, ValidationError):
        return field_errors(exc.errors(), "params")
    if isinstance(exc, RecursionError):
        problem = "nested too deeply"
    elif isinstance(exc, json.JSONDecodeError):
        problem = f"not valid JSON ({exc})"
    else:  # Python's cap on an integer's digits; its text names a call the client cannot make
        problem = "holds a number of more than 4,300 digits; send at most 4,300"
    return [{"field": "params", "problem": problem, "type": "json_invalid"}]


def _refuse_seed_style(request: Request) -> None:
    if "file_path" in request.query_params:
        raise FILE_PATH_REFUSED
    if not request.headers.get("content-type", "").startswith("application/json"):
        return
    if request.url.path.startswith("/tasks/"):  # the seed's route: its JSON named a server path
        raise FILE_PATH_REFUSED
    # Any JSON sent to /jobs was told "server paths are not accepted", a path it never named.
    raise ApiError(
        415,
        "unsupported_media_type",
        "Send the table as multipart/form-data with a part named `file` (and the job as a "
        "`params` part holding JSON), not a JSON body: `curl -F file=@table.csv`.",
    )


#: A page cursor: the last job of the page with its score (`<score>:<id>`,
#: `jobcast.owned_index`), or its id alone (cursors before they carried the score). Any
#: cursor of that shape only places a walk in the caller's own index.
CURSOR_PATTERN = rf"^([0-9]{{1,17}}(\.[0-9]{{1,17}})?:)?{JOB_ID.pattern}$"
#: The multipart body, described by hand: it is parsed as a stream, not by FastAPI.
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    # A part of another name is refused (422), not ignored (`api.uploads`).
                    "additionalProperties": False,
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "minLength": 1,
                            # What `workers.files.formats` detects and the readers read.
                            "description": "The table: CSV or TSV (or `;`/`|`-delimited), "
                            "JSON Lines, Parquet, an Excel workbook (.xlsx, .xlsm, .xls) or an "
                            "OpenDocument spreadsheet (.ods); text may be gzip-compressed. The "
                            "format is read from the bytes, not the file name.",
                        },
                        # An example, so that /docs' "Try it out" starts from a job that runs:
                        # without it Swagger UI fills in every field from its schema (a random
                        # `encoding`, `"sheet": "string"`) and the job fails.
                        "params": {
                            "$ref": "#/components/schemas/JobParams",
                            "description": "The job as JSON, at most "
                            f"{MAX_FIELD_BYTES // 1024} KiB (a larger part is 413 "
                            "`payload_too_large`); leave it out for a profile.",
                            "example": {"operation": "profile"},
                        },
                    },
                },
                "encoding": {"params": {"contentType": "application/json"}},
            }
        },
    }
}
#: What `POST /jobs` can refuse, besides the key and the rate limit.
UPLOAD_ERRORS = (
    "bad_request",
    "payload_too_large",
    "unsupported_media_type",
    "validation_error",
    "file_required",
    "empty_file",
    "invalid_params",
    "upload_required",
    "idempotency_key_reused",
    "storage_quota_exceeded",
    "too_many_uploads",
    "too_many_active_jobs",
    "upload_stalled",
    "unavailable",
    "storage_full",
)


def _key_length_said(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "string_length", "must be 1-200 characters (or leave the header out)"
        ) from None


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retrying with the same key and the same upload returns the first job instead "
        "of a new one; the key with a different file or params answers 422.",
    ),
    WrapValidator(_key_length_said),
]


@router.post(
    SUBMIT_PATH,
    status_code=202,
    summary="Submit a file job",
    openapi_extra=UPLOAD_BODY,
    responses={202: LOCATED, **errors(*AUTHENTICATED, *UPLOAD_ERRORS)},
)
@router.post(
    SEED_SUBMIT_PATH,
    status_code=202,
    summary="Submit a file job (the seed's path)",
    description="The seed's path for `POST /jobs`, kept as an alias: the same upload, the same "
    "answer. Its `file_path` (a server path, as a query parameter or in a JSON body) is refused "
    "with 422 `upload_required`.",
    deprecated=True,
    openapi_extra=UPLOAD_BODY,
    responses={202: LOCATED, **errors(*AUTHENTICATED, *UPLOAD_ERRORS)},
)
async def submit_job(
    request: Request,
    response: Response,
    submitter: CurrentSubmitter,
    state: StateDep,
    idempotency_key: IdempotencyKey = None,
) -> Job:
    """Upload a table as the multipart part `file`, with an optional part `params` holding
    JSON: `{"operation": "profile"}` (the default),
    `{"operation": "aggregate", "group_by": ["city"], "metrics": {"amount": ["sum", "mean"]}}`
    or `{"operation": "convert", "to": "parquet"}`. Answers 202 with the queued job and
    `Location: /jobs/{id}`; follow it on the WebSocket channel `job.{id}` or by polling."""
    # The app's state as one dependency, not its redis, settings and sender as three: FastAPI
    # solves each for every request, and this is the busiest route it still serves.
    settings = state.settings
    try:
        _refuse_seed_style(request)
        upload, record, new = await _store(request, state, submitter, idempotency_key)
    except ApiError:
        await submitter.spend()  # refused before its upload's reservation spent it: 429 first
        raise
    if not new:  # a replay: the earlier upload is the job's; this copy is not needed
        await _discard_upload(settings, upload.stored)
    return _accepted(response, record)


async def _store(
    request: Request, state: AppState, submitter: Submitter, idempotency_key: str | None
) -> tuple[Upload, dict[str, Any], bool]:
    """Receive the upload within the principal's quota and register its job: (upload, job,
    whether it is new). A failure before the job exists leaves nothing stored or reserved; once
    it may exist the upload is the job's, whatever fails next (a retry with the same
    Idempotency-Key returns the job, which was queued with its task). The request is spent with
    the upload's first reservation."""
    redis, settings, tasks, principal = (
        state.redis,
        state.settings,
        state.tasks,
        submitter.principal,
    )
    stored_in = uploads_dir(settings)
    # A retry whose job exists (its first answer lost) must get that job, not be refused for the
    # jobs it counts itself among.
    replay = False
    if idempotency_key:
        replay = bool(await redis.exists(job_idempotency_key(principal.id, idempotency_key)))
    quota = UploadQuota(redis, settings, principal.id, replay, submitter.spend_and_reserve)
    try:
        # The file's digest is only needed for an Idempotency-Key's fingerprint.
        upload = await receive_upload(
            request,
            stored_in,
            settings.upload_max_bytes,
            quota,
            DiskFloor(stored_in, settings.job_min_free_disk_bytes),
            settings.upload_idle_timeout,
            digest=bool(idempotency_key),
        )
        registered = False
        try:
            record, new = await _register(
                redis, settings, tasks, principal, upload, idempotency_key, quota
            )
            registered = new
            if new:  # the job's until its worker ends it; settled with the job's creation
                quota.settled()
        except (RedisError, OSError, asyncio.CancelledError):
            # Redis may have applied the registration and lost only its answer (or the request
            # was cancelled while it ran): the upload stays, a job may read it (the files sweep
            # removes it later if no job names it).
            raise
        except BaseException:
            if not registered:
                await remove_file(stored_in / upload.stored)
            raise
    finally:
        await quota.release()  # the upload in progress: refused, settled or not needed
    return upload, record, new


async def _register(
    redis: aioredis.Redis,
    settings: Settings,
    tasks: TaskSender,
    principal: Principal,
    upload: Upload,
    idempotency_key: str | None,
    quota: UploadQuota,
) -> tuple[dict[str, Any], bool]:
    """(the job, whether it is new): an Idempotency-Key seen before returns its job. A new job
    comes with its upload's bytes settled in the quota, marked waiting for a worker (the worker
    that starts it must find it waiting) and its task queued, in one MULTI: no job is left
    without its task, nor a task without its job."""
    params = parse_params(upload)
    if upload.size == 0:
        raise ApiError(422, "empty_file", "The uploaded file is empty.")
    claim = None
    if idempotency_key:
        claim = job_store.Claim(idempotency_key, job_store.fingerprint(upload, params))
    job_id, retention = job_store.new_job_id(), settings.job_retention
    task = tasks.file_job(
        job_id,
        params.operation,
        upload.filename,
        upload.size,
        principal.name,
        quota.active_jobs,
    )

    async def with_creation(pipe: aioredis.client.Pipeline) -> None:
        await quota.queue_settle(pipe, upload.stored, upload.size)
        await files_waiting.queue_mark_waiting(pipe, principal.id, job_id, retention)
        pipe.lpush(task.queue, task.message)
        pipe.publish(task.topic, task.event)  # Flower's task-sent

    return await job_store.create_job(
        redis,
        principal,
        job_id,
        upload,
        params,
        claim,
        retention,
        with_creation,
        record_cap=settings.quota_job_records,
    )


async def _discard_upload(settings: Settings, stored: str) -> None:
    """An upload no job will read (a replay's copy, a job that never runs)."""
    await remove_file(upload_path(settings, stored))


def _accepted(response: Response, record: dict[str, Any]) -> Job:
    response.headers["Location"] = f"/jobs/{record['id']}"
    return job_store.job_view(record)


@router.get(
    "/jobs",
    summary="List your jobs",
    responses=errors(*AUTHENTICATED, "not_found", "validation_error"),
)
async def list_jobs(
    principal: CurrentPrincipal,
    redis: RedisDep,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, *cursor_query(CURSOR_PATTERN)] = None,
) -> JobPage:
    """The caller's jobs, newest first; `next_cursor` fetches the next page."""
    records, next_cursor = await job_store.list_jobs(redis, principal, status, limit, cursor)
    return JobPage(items=[job_store.job_view(r) for r in records], next_cursor=next_cursor)


@router.get(
    "/jobs/{job_id}",
    response_model=Job,
    summary="Get a job",
    responses=errors(*AUTHENTICATED, *OWNED),
)
async def get_job(job_id: str, reader: CurrentReader) -> Job | RenderedJSON:
    """The job's status, progress, error and times (its result: `GET /jobs/{id}/result`)."""
    # Not the result: a poll would read, send and parse tens of kilobytes it does not show.
    record = await job_store.read_raw_job(reader, job_id, ("result",))
    body = render_job(record)  # the busiest route: the model's bytes without the model
    if body is None:
        return job_store.job_view(decode_record(record))
    return RenderedJSON(body, reader.response)


@router.get(
    "/tasks/{task_id}",
    summary="Get a job with its result (the seed's path)",
    deprecated=True,
    response_model_exclude_unset=True,
    responses=errors(*AUTHENTICATED, *OWNED),
)
async def get_task(task_id: str, reader: CurrentReader) -> JobWithResult:
    """The seed's path, kept as an alias: the job as `GET /jobs/{id}` answers it, with its
    result inline (`GET /jobs/{id}/result` is the result alone)."""
    record = await job_store.read_job(reader, task_id)
    view = public_view(record)
    return JobWithResult.model_validate({**view, "result": record.get("result")})


@router.delete(
    "/jobs/{job_id}",
    status_code=202,
    summary="Cancel a job",
    responses=errors(*AUTHENTICATED, *OWNED, "already_finished", "conflict"),
)
async def cancel_job(
    job_id: str,
    principal: CurrentPrincipal,
    redis: RedisDep,
    settings: SettingsDep,
    replicas: ReplicasDep,
) -> Job:
    """Cancel: a queued job never starts; a running one stops at its next batch."""
    record = await job_store.cancel_job(redis, principal, job_id, settings.job_retention)
    if record["status"] == CANCELLED:  # it was queued: it never starts, so it waits no more
        await files_waiting.unmark_waiting_async(redis, principal.id, job_id)
        if record.get("stored"):  # nor reads its upload (its quota went with the cancel)
            await _discard_cancelled_upload(redis, settings, replicas, record)
    return job_store.job_view(record)


async def _discard_cancelled_upload(
    redis: aioredis.Redis, settings: Settings, replicas: ReplicaCheck, record: dict[str, Any]
) -> None:
    """Delete a cancelled job's upload once a replica has the cancel: a failover that lost it
    queues the job again on the promoted replica, and that run must find its upload."""
    if await replicas.written_through_async(redis):
        await _discard_upload(settings, record["stored"])
        return
    log.warning(
        "kept the upload of cancelled file job %s: no replica confirmed the cancel, and a "
        "failover that lost it would run the job; a files sweep removes it once one does",
        record["id"],
        extra={"job_id": record["id"]},
    )
    with contextlib.suppress(RedisError):  # then the age-based sweep does
        await kept_uploads.note_async(redis, record["stored"], record["id"])


def _finished(record: dict[str, Any]) -> dict[str, Any]:
    status = record["status"]
    if status == SUCCEEDED:
        return record
    if status == FAILED:
        error = record.get("error") or {}
        said = f" ({error.get('code')}: {error.get('message')})" if error else ""
        raise ApiError(409, "job_failed", f"The job failed{said}; it has no result.", error)
    if status == CANCELLED:
        raise ApiError(409, "job_cancelled", "The job was cancelled; it has no result.")
    raise ApiError(409, "not_finished", f"The job is {status}; its result is not ready yet.")


@router.get(
    "/jobs/{job_id}/result",
    summary="Get a job's result",
    response_model=JobResult,
    response_model_exclude_unset=True,
    responses=errors(*AUTHENTICATED, *OWNED, "not_finished", "job_failed", "job_cancelled"),
)
async def get_result(job_id: str, reader: CurrentReader) -> Any:
    """A succeeded job's result: a profile, an aggregate table or a conversion's summary,
    told apart by `operation`."""
    record = _finished(await job_store.read_job(reader, job_id))
    return record["result"]


ARTIFACT_BODY = {
    "description": "The converted file.",
    "content": {
        "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
    },
}


@router.get(
    "/jobs/{job_id}/artifact",
    summary="Download a converted file",
    response_class=FileResponse,
    responses={
        200: ARTIFACT_BODY,
        **errors(
            *AUTHENTICATED, *OWNED, "no_artifact", "not_finished", "job_failed", "job_cancelled"
        ),
    },
)
async def get_artifact(
    job_id: str,
    request: Request,
    principal: CurrentPrincipal,
    redis: RedisDep,
    settings: SettingsDep,
) -> FileResponse:
    """The converted file of a `convert` job, streamed."""
    record = _finished(await job_store.load_job(redis, principal, job_id))
    to = (record.get("params") or {}).get("to")
    path = artifact_path(settings, job_id, str(to))
    if record["operation"] != "convert" or not path.exists():
        raise ApiError(404, "no_artifact", "This job produced no file to download.")
    media = "application/vnd.apache.parquet" if to == "parquet" else "text/csv"
    # Its own response, which FastAPI gives none of the budget's headers (`api.auth`).
    headers = spent_headers(request)
    return FileResponse(path, media_type=media, filename=f"{job_id}.{to}", headers=headers)
