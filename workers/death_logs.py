"""What a worker logs when a pool process dies running a task: one WARNING line naming the work.

Celery's main process logs such a death as two ERROR records: billiard's "Process
'ForkPoolWorker-1' pid:5192 exited with 'signal 9 (SIGKILL)'" and "Task handler raised error:
WorkerLostError('Worker exited prematurely: signal 9 (SIGKILL) Job: 5.')" with a traceback of
billiard's own raise ("Job: 5" is the pool's index, not ours). Neither names the job, nor says
what follows. A death is an expected condition here (the attempt cap's, `workers.attempts`):
those records become one line, `file job j_…: its process died (SIGKILL), death 1 of 3; it runs
again`, with the originals at DEBUG (`jobcast.tasks`).

A stop's or a planned end's loss is told by `workers.stop_logs` first (its filter is added
before these, and turns the records into warnings, which these leave alone).
"""

from __future__ import annotations

import logging
import re
from collections import deque
from typing import Any

import redis
from billiard.exceptions import WorkerLostError
from celery.worker import state

from jobcast.redis_clients import redis_problem, sync_client
from jobcast.rediskeys import task_deaths_key, task_running_key
from jobcast.settings import Settings, get_settings
from jobcast.task_names import work_named
from workers.attempts import judge

log = logging.getLogger("jobcast.tasks")

#: Longest the main process waits on Redis for a death's count: it reads it in Celery's event
#: loop, which consumes nothing meanwhile (past it the line says the count is unread).
READ_SECONDS = 1.0
_EXITED = "Process %r pid:%r exited with %r"
_SIGNAL = re.compile(r"\((SIG\w+)\)")


def what_follows(deaths: int, settings: Settings) -> str:
    """What the attempt cap does after the task's `deaths`-th death (this one included)."""
    verdict = judge(deaths, True, settings)
    if verdict.action == "exhaust":
        return f"death {deaths}, the last allowed; it fails as attempts_exhausted"
    cap = settings.task_max_attempts
    count = f"death {deaths} of {cap}" if deaths <= cap else f"death {deaths}, in quarantine"
    if verdict.action == "quarantine":
        quarantined = "quarantined, " if deaths <= cap else ""
        return f"{count}; {quarantined}it runs again in {verdict.delay:g} s"
    return f"{count}; it runs again"


def death_line(
    subject: str, task_id: str, status: str, client: redis.Redis, settings: Settings
) -> str:
    """The one line telling that `subject`'s process ended with `status` (billiard's
    `signal 9 (SIGKILL)`, `exitcode 1`) and what follows."""
    found = _SIGNAL.search(status)
    how = f"its process died ({found.group(1) if found else status})"
    try:
        pipe = client.pipeline(transaction=False)
        pipe.get(task_deaths_key(task_id))
        pipe.exists(task_running_key(task_id))
        counted, running = pipe.execute()
    except redis.RedisError as exc:
        return f"{subject}: {how}; it runs again (its deaths unread: {redis_problem(exc)})"
    if not running:  # its run had ended: the next delivery finds its outcome, counts no death
        return f"{subject}: {how} after its run ended; its message is delivered again"
    return f"{subject}: {how}, {what_follows(int(counted or 0) + 1, settings)}"


class TaskDeathTold(logging.Filter):
    """Tells a task's death in one line instead of Celery's two error records.

    billiard logs the process's exit first, while the task's request is still active on that
    pid: the line is said then, before the message is requeued (so no later delivery has
    counted this death yet). The task's loss follows, once Celery has set the request ready:
    that record is kept at DEBUG only.
    """

    def __init__(self) -> None:
        super().__init__()
        self.told: deque[str] = deque(maxlen=64)  # ids of tasks whose death was told
        self._client: redis.Redis | None = None
        self._settings: Settings | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True  # told already (a stop, a planned end), or not about a loss
        args = record.args if isinstance(record.args, tuple) else ()
        if record.msg == _EXITED and len(args) == 3:
            request = _running_on(args[1])
            if request is None:
                return True  # an idle process: its exit is all there is to tell
            self.told.append(request.id)
            log.debug("%s", record.getMessage())
            log.warning("%s", self._told_death(request, str(args[2])))
            return False
        if args and isinstance(args[0], WorkerLostError):
            return not self._loss_told(record)
        return True

    def _told_death(self, request: Any, status: str) -> str:
        if self._client is None or self._settings is None:
            self._settings = get_settings()
            self._client = sync_client(
                self._settings, timeout=READ_SECONDS, connect_timeout=READ_SECONDS
            )
        subject = work_named(request.task_name, request.id, tuple(request.args or ()))
        return death_line(subject, request.id, status, self._client, self._settings)

    def _loss_told(self, record: logging.LogRecord) -> bool:
        active = {request.id for request in list(state.active_requests)}
        for task_id in self.told:
            if task_id not in active:  # the request Celery has just set ready
                self.told.remove(task_id)
                log.debug("%s", record.getMessage(), exc_info=record.exc_info)
                return True
        return False


def _running_on(pid: Any) -> Any:
    """The request running on pool process `pid`, if any (a `celery.worker.request.Request`)."""
    return next((r for r in list(state.active_requests) if r.worker_pid == pid), None)


def connect_signals() -> None:
    """After `workers.stop_logs.connect_signals`: its filter must see the records first."""
    quiet = TaskDeathTold()
    for name in ("multiprocessing", "celery.worker.request"):
        logging.getLogger(name).addFilter(quiet)
