"""The prefork pool, noticing at once a pool process killed from outside.

Celery's pool watches each process's sentinel pipe and, on its end-of-file, reaps the process,
starts a new one and hands the process's task back (redelivered, or judged by
`workers.attempts`). The pipe closes while the kernel is still tearing the process down: after
a SIGKILL (the OOM killer, an operator) the process mostly cannot be reaped yet, the pool stops
watching the pipe, and only its 5-second maintenance timer found the process dead. The job
waited that long to run again, and the worker had no process for another. This pool looks
again, a few milliseconds apart, until the process is reaped.
A pool process that killed itself over a file job's memory left a note of the failure to commit:
this pool commits it where the process is found lost, before Celery turns the loss into a
`WorkerLostError` and hands the task back (`workers.files.breaches`).

`celeryconfig` names it as `worker_pool`; everything else is Celery's own.
"""

from __future__ import annotations

from typing import Any

from celery.concurrency import asynpool, prefork

from workers import stop_logs

#: Seconds between two looks at a process whose sentinel closed but that is not reaped yet.
REAP_RETRY_SECONDS = 0.01
#: Looks before leaving such a process to the pool's own timer: one that closed its sentinel
#: and lives on is not polled for ever.
REAP_RETRY_LIMIT = 100


class AsynPool(asynpool.AsynPool):  # type: ignore[misc]
    """Celery's pool, looking again at an exited process it could not reap yet, and committing
    a memory breach's failure before the loss of its process hands its task back."""

    def _event_process_exit(self, hub: Any, proc: Any, looks: int = 0) -> None:
        super()._event_process_exit(hub, proc)
        if proc in self._pool and looks < REAP_RETRY_LIMIT:
            hub.call_later(REAP_RETRY_SECONDS, self._event_process_exit, hub, proc, looks + 1)

    def on_job_process_lost(self, job: Any, pid: int, exitcode: int) -> None:
        if stop_logs.read_breach_note(pid) is not None:
            # Imported here: the files stack (pyarrow, numpy) is not every worker's to load.
            from workers.files.breaches import commit_breach

            commit_breach(pid)  # before the loss hands the task back: its redelivery finds it ended
        super().on_job_process_lost(job, pid, exitcode)


class TaskPool(prefork.TaskPool):  # type: ignore[misc]
    """Celery's prefork pool (`--pool prefork`), with the pool above."""

    Pool = AsynPool
