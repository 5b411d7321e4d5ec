"""The api's one way to send Celery tasks: by name, so it never imports worker code (or pandas).

One `TaskSender` per api process, built in the app's lifespan and handed to routes through
`api.deps.TaskSenderDep`. A file job's task is not sent: `file_job` writes its message for the
MULTI that creates the job (`jobcast.celery_messages`). Matching requests are sent with
`send_task`, which blocks on the broker, so those sends run on one thread of the sender's own:
measured with 200 concurrent sends, one dedicated thread was as fast as eight and about twice
as fast as anyio's shared thread pool, whose 40 slots other blocking calls also take (then a
matching send waited for them). A broker error reaches the caller unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from celery import Celery

import celeryconfig
from celeryconfig import FILES_QUEUE
from jobcast import files_priority
from jobcast.celery_messages import QueuedTask, TaskWriter
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
        self._writer = TaskWriter(self._client, settings.broker_url)

    def file_job(
        self,
        job_id: str,
        operation: str,
        filename: str,
        size: int,
        owner_name: str,
        owner_active: int = 0,
    ) -> QueuedTask:
        """`jobcast.files.run` for the job `job_id` (which doubles as the task id), to be
        written with the job; its priority from the owner's other file jobs queued or running
        (`jobcast.files_priority`)."""
        shown = file_job_argsrepr(job_id, operation, filename, size, owner_name)
        cap = self._settings.files_max_running_per_principal
        level = files_priority.priority(owner_active, cap)
        return self._writer.task(FILE_JOB_TASK, job_id, [job_id], shown, FILES_QUEUE, level)

    async def request_matching(self, symbols: Iterable[str]) -> None:
        """Send one matching task per symbol (the caller sends only for symbols it kicked)."""
        batch = self._settings.order_match_batch
        for symbol in symbols:
            await self._send(MATCH_TASK, symbol, match_argsrepr(symbol, batch, "orders accepted"))

    async def _send(self, name: str, arg: str, shown: str) -> None:
        send = partial(self._client.send_task, name, args=[arg], argsrepr=shown, kwargsrepr="{}")
        await asyncio.get_running_loop().run_in_executor(self._thread, send)

    async def aclose(self) -> None:
        """Let sends in flight finish, then release the broker connections."""
        await asyncio.to_thread(self._thread.shutdown, wait=True)
        self._client.close()
