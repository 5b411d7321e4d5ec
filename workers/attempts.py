"""A cap on how often one task is delivered.

With `task_acks_late` and `task_reject_on_worker_lost`, a task whose process dies is requeued;
one that kills its process every time would be requeued forever. Every delivery of a task id is
counted in Redis, and past `task_max_attempts` the task fails instead of running again.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from celery import Task

from jobcast.task_failure import TaskFailedError
from workers.context import worker_context

log = logging.getLogger("jobcast.tasks")

#: How long a delivery count is kept; longer than any task can keep being redelivered.
ATTEMPTS_TTL_SECONDS = 7 * 24 * 3600


class AttemptsExhaustedError(TaskFailedError):
    """The task was delivered more often than the cap allows."""


def attempts_key(task_id: str) -> str:
    return f"jobcast:task-attempts:{task_id}"


def record_delivery(client: redis.Redis, task_id: str) -> int:
    """Count one more delivery of `task_id` and return the count so far."""
    pipe = client.pipeline()
    pipe.incr(attempts_key(task_id))
    pipe.expire(attempts_key(task_id), ATTEMPTS_TTL_SECONDS)
    count, _ = pipe.execute()
    return int(count)


class CappedTask(Task):  # type: ignore[misc]
    """Base class of every Jobcast task: refuses to run past the delivery cap."""

    #: Expected failures: Celery records FAILURE but logs no traceback (we log the error).
    throws = (TaskFailedError,)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = self.request.id
        if task_id and not self.request.is_eager:
            ctx = worker_context()
            attempt = record_delivery(ctx.redis, task_id)
            cap = ctx.settings.task_max_attempts
            if attempt > cap:
                log.warning(
                    "task %s[%s] failed: attempts_exhausted: delivered %d times (cap %d)",
                    self.name,
                    task_id,
                    attempt,
                    cap,
                )
                self.on_attempts_exhausted(task_id, attempt, args, kwargs)
                raise AttemptsExhaustedError.from_error(
                    "attempts_exhausted",
                    f"task {self.name}[{task_id}] was delivered {attempt} times (cap {cap})",
                )
        return super().__call__(*args, **kwargs)

    def on_attempts_exhausted(
        self, task_id: str, attempt: int, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """Hook for tasks that own a record: mark it failed. The default does nothing more."""
