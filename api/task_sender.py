"""The api's one way to send Celery tasks: by name, so it never imports worker code (or pandas).

One `TaskSender` per api process, built in the app's lifespan and handed to routes through
`api.deps.TaskSenderDep`. `send_task` blocks on the broker, so sends run on one thread of the
sender's own: measured with 200 concurrent sends, one dedicated thread was as fast as eight and
about twice as fast as anyio's shared thread pool, whose 40 slots other blocking calls also take
(then a matching send waited for them). A broker error reaches the caller unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from celery import Celery

import celeryconfig
from jobcast.settings import Settings
from jobcast.task_names import FILE_JOB_TASK, MATCH_TASK, file_job_argsrepr, match_argsrepr


class TaskSender:
    """Sends file jobs and matching requests to the workers' queues."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client = Celery("jobcast-api")
        # No result backend: the api never reads a task's result (the job's record is its
        # outcome). With Redis as one, each send also subscribed to the task's result channel:
        # a round trip per send, and a subscription the api never read nor dropped. Workers
        # still store results (the message does not ask them not to).
        self._client.config_from_object(
            {**celeryconfig.config_for(settings), "result_backend": None}
        )
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobcast-send")

    async def send_file_job(self, record: dict[str, Any], owner_name: str) -> None:
        """Queue `jobcast.files.run` for the job `record` (the job id doubles as the task id)."""
        job_id = str(record["id"])
        shown = file_job_argsrepr(
            job_id,
            str(record["operation"]),
            str(record.get("filename") or ""),
            int(record.get("size") or 0),
            owner_name,
        )
        await self._send(FILE_JOB_TASK, job_id, shown, task_id=job_id)

    async def request_matching(self, symbols: Iterable[str]) -> None:
        """Send one matching task per symbol (the caller sends only for symbols it kicked)."""
        batch = self._settings.order_match_batch
        for symbol in symbols:
            await self._send(MATCH_TASK, symbol, match_argsrepr(symbol, batch, "orders accepted"))

    async def _send(self, name: str, arg: str, shown: str, task_id: str | None = None) -> None:
        send = partial(
            self._client.send_task,
            name,
            args=[arg],
            task_id=task_id,
            argsrepr=shown,
            kwargsrepr="{}",
        )
        await asyncio.get_running_loop().run_in_executor(self._thread, send)

    async def aclose(self) -> None:
        """Let sends in flight finish, then release the broker connections."""
        await asyncio.to_thread(self._thread.shutdown, wait=True)
        self._client.close()
