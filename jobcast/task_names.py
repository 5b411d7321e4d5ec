"""Task names, and what Flower shows as each task's arguments.

The api sends tasks by name (it never imports worker code), so the names live here. Celery's
`argsrepr` is what Flower (and `celery events`) display instead of the raw arguments: a bare
job id tells an operator nothing, so each task carries a readable summary of its work. It is
display only; the worker reads the real arguments.
"""

from __future__ import annotations

from typing import Any

FILE_JOB_TASK = "jobcast.files.run"
MATCH_TASK = "jobcast.orders.match"
#: Matching kicked by the demo market maker (`jobcast up --demo`): the same work under its own
#: name, so an operator can filter the demo's steady stream out of Flower.
DEMO_MATCH_TASK = "jobcast.demo.match"
#: Every task a worker runs: what a client or a worker sends by name.
TASK_NAMES = (FILE_JOB_TASK, MATCH_TASK, DEMO_MATCH_TASK)

#: Longest file name shown; the rest is cut (a name is the client's, of any length).
NAME_SHOWN = 80


def file_job_argsrepr(job_id: str, operation: str, filename: str, size: int, owner: str) -> str:
    shown = filename if len(filename) <= NAME_SHOWN else filename[:NAME_SHOWN] + "…"
    return f"({job_id!r}, operation={operation!r}, file={shown!r}, size={size}, owner={owner!r})"


def file_job_argsrepr_of(job_id: str, record: dict[str, str]) -> str:
    """`file_job_argsrepr` from the job's record, for a send after the first one's message is
    gone (the reconciler's). A record made before `owner_name` was kept shows the owner's id."""
    owner = record.get("owner_name") or record.get("owner") or ""
    size = int(record.get("size") or 0)
    return file_job_argsrepr(
        job_id, record.get("operation") or "", record.get("filename") or "", size, owner
    )


def shown_again(request: Any) -> dict[str, Any]:
    """The `argsrepr` and `kwargsrepr` options of a resend of the task `request` (a Celery
    task's `self.request`) runs: what its delivery showed. Celery's own `retry` and a bare
    `apply_async` leave them out, and Flower then shows the raw ids."""
    return {"argsrepr": request.argsrepr, "kwargsrepr": request.kwargsrepr}


def match_argsrepr(symbol: str, match_batch: int, why: str) -> str:
    """`why`: what sent it (`orders accepted`, `requeued`, `lease check`, `demo`)."""
    return f"({symbol!r}, match_batch={match_batch}, sent_for={why!r})"


def work_named(name: str, task_id: str, args: tuple[Any, ...]) -> str:
    """The work a task does, as a worker's log names it: a file job by its id, matching by
    its symbol."""
    if name == FILE_JOB_TASK and args:
        return f"file job {args[0]}"
    if name in (MATCH_TASK, DEMO_MATCH_TASK) and args:
        return f"matching {args[0]} ({name}[{task_id}])"
    return f"task {name}[{task_id}]"
