"""Send tasks to the workers by name, without importing worker code (or pandas) in the api."""

from __future__ import annotations

from typing import Any

import anyio
from celery import Celery

import celeryconfig
from jobcast.settings import Settings
from jobcast.task_names import FILE_JOB_TASK, file_job_argsrepr

#: One Celery client per api process and broker; building one costs a few milliseconds.
_clients: dict[str, Celery] = {}


def celery_client(settings: Settings) -> Celery:
    client = _clients.get(settings.broker_url)
    if client is None:
        client = Celery("jobcast-api")
        client.config_from_object(celeryconfig.config_for(settings))
        _clients[settings.broker_url] = client
    return client


async def send_file_job(settings: Settings, record: dict[str, Any], owner_name: str) -> None:
    """Queue `jobcast.files.run` for the job `record` (the job id doubles as the task id)."""
    client = celery_client(settings)
    job_id = str(record["id"])
    shown = file_job_argsrepr(
        job_id,
        str(record["operation"]),
        str(record.get("filename") or ""),
        int(record.get("size") or 0),
        owner_name,
    )

    def send() -> None:
        client.send_task(
            FILE_JOB_TASK, args=[job_id], task_id=job_id, argsrepr=shown, kwargsrepr="{}"
        )

    # kombu's send is blocking I/O: keep it off the event loop.
    await anyio.to_thread.run_sync(send)
