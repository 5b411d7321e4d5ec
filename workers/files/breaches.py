"""A job past its memory budget, ended in two halves: the kill at once, the commit elsewhere.

The job's pool process leaves a note (its job, its error, its resident size) and kills itself:
no Redis on that path, since a slow Redis held the kill back while the job's thread decoded on,
far past the budget. The worker's main process, which sees the process lost on this machine,
commits the job's `memory_limit` failure from the note before Celery hands the task back
(`workers.pool`), so the redelivered task finds the job failed and does nothing more.

When the main process cannot commit (Redis away), it keeps the note and the task is handed back
as it is: its next run, on this host, finds the note behind the running mark and counts no death
(`workers.attempts`); it runs the job again, which goes over again and is ended then.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import redis

from jobcast.jobs.records import FAILED
from jobcast.process_marks import own_start
from jobcast.redis_clients import redis_problem, sync_client
from jobcast.rediskeys import task_running_key
from jobcast.settings import Settings, get_settings
from workers import stop_logs
from workers.files import fairness
from workers.files.endings import fail, log_failed
from workers.files.errors import over_budget
from workers.files.state import JobState
from workers.files.uploads import delete_upload_file, drop_artifact

log = logging.getLogger("jobcast.files")

#: Seconds the main process waits for Redis on each command of a breach's commit: its event loop
#: waits with it. Past that, the task is handed back uncommitted and its next run ends the job.
COMMIT_TIMEOUT = 3.0

_client: redis.Redis | None = None


def on_memory_breach(
    state: JobState, settings: Settings, record: dict[str, Any]
) -> Callable[[int], None]:
    """The watchdog's `on_breach` for this job: writes the note, nothing more (the watchdog then
    kills the process). All but the resident size is worked out now, before any breach."""
    budget = settings.job_memory_budget >> 20
    operation = (record.get("params") or {}).get("operation")
    error = {"code": "memory_limit", "message": over_budget(budget, operation)}
    pid = os.getpid()
    note = {"job_id": state.job_id, "error": error, "budget": budget, "started": own_start(pid)}

    def breach(rss: int) -> None:
        stop_logs.leave_breach_note(pid, {**note, "rss": rss})

    return breach


def commit_breach(pid: int) -> None:
    """In the worker's main process, pool process `pid` lost: commit the failure its breach note
    asks for, if it left one. Never raises (the worker's event loop calls it)."""
    note = stop_logs.read_breach_note(pid)
    if note is None:
        return
    try:
        _commit(note)
    except redis.RedisError as exc:  # the note stays: the job's next run counts no death
        log.warning(
            "file job %s went over its memory budget; its failure could not be committed (%s): "
            "its task runs again",
            note.get("job_id"),
            redis_problem(exc),
        )
        return
    except Exception:
        log.exception("could not commit a file job's memory_limit failure")
        return
    stop_logs.drop_breach_note(pid)


def _commit(note: dict[str, Any]) -> None:
    settings, client = get_settings(), _commit_client()
    loaded = JobState.load(client, str(note["job_id"]), settings.job_retention)
    if loaded is None:
        return
    state, record = loaded
    # Our own kill, not a death the attempt cap should count: the redelivery finds no mark; and
    # the process died before `_run_once` gave back the owner's slot. Before the outcome: a
    # failure here leaves nothing written, and a failed commit after it a job that runs again.
    pipe = client.pipeline(transaction=False)
    pipe.delete(task_running_key(state.job_id))
    fairness.release(pipe, state.owner, state.job_id)
    pipe.execute()
    outcome, status = fail(state, note["error"])
    # The dead process's half-written converted file and its reservation, before the
    # redelivery (which would also find them): nothing will serve them.
    drop_artifact(client, settings, record, status if outcome.committed else outcome.current)
    if outcome.committed:  # its quota went with the outcome
        delete_upload_file(settings, record)
    if outcome.committed and status == FAILED:
        detail = f"resident {int(note['rss']) >> 20} MiB of a {note['budget']} MiB budget"
        log_failed(state.job_id, note["error"], logging.WARNING, detail)


def _commit_client() -> redis.Redis:
    """The main process's own client, made at its first breach, each command bounded."""
    global _client
    if _client is None:
        _client = sync_client(
            get_settings(), timeout=COMMIT_TIMEOUT, connect_timeout=COMMIT_TIMEOUT
        )
    return _client
