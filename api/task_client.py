"""Send tasks to the workers by name, without importing worker code (or pandas) in the api."""

from __future__ import annotations

import anyio
from celery import Celery

import celeryconfig
from jobcast.settings import Settings

#: One Celery client per api process and broker; building one costs a few milliseconds.
_clients: dict[str, Celery] = {}


def celery_client(settings: Settings) -> Celery:
    client = _clients.get(settings.broker_url)
    if client is None:
        client = Celery("jobcast-api")
        client.config_from_object(celeryconfig.config_for(settings))
        _clients[settings.broker_url] = client
    return client


async def send_file_job(settings: Settings, job_id: str) -> None:
    """Queue `jobcast.files.run` for `job_id` (the job id doubles as the task id)."""
    client = celery_client(settings)

    def send() -> None:
        client.send_task("jobcast.files.run", args=[job_id], task_id=job_id)

    # kombu's send is blocking I/O: keep it off the event loop.
    await anyio.to_thread.run_sync(send)
