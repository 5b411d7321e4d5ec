"""The attempt cap: counts the deaths of a task's process, and tells a poison task from bad luck.

With `task_acks_late` and `task_reject_on_worker_lost`, a task whose process dies is requeued;
one that kills its process every time would be requeued forever. A SIGKILL looks the same
whoever sent it (the task's own crash or memory, the OOM killer, an operator, a lost node), so
the cap judges by what it can see, with this rule:

1. Only a *death* counts: each delivery marks itself running in Redis and clears the mark when
   it ends, by any path. A delivery that finds the mark of an earlier one knows that one's
   process died running the task. A redelivery with no death behind it (a lost broker
   connection, a Redis restart, a Celery retry, the reconciler's resend) counts nothing. A mark
   left by a delivery that ended while Redis was unreachable names a process that still runs
   (on this host: on another, it cannot be told from a death, and counts one too many).
2. Until it has died `task_max_attempts` times, the task is redelivered at once, as before.
3. From then on it is *quarantined*, not failed: it runs again after `task_quarantine_delay`
   seconds, doubled after each further death, with the reason shown on its job (`retrying`,
   `error.code` `quarantined`), logged, and counted. An outside killer strikes in bursts and
   at random; a poison task dies every time it runs, whenever that is.
4. Only when its `task_quarantine_max` runs in quarantine died too (`task_max_attempts` +
   `task_quarantine_max` deaths in all) is the task failed as `attempts_exhausted`, saying how
   often its process died running it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from typing import Any

import redis
from celery import Task, current_task
from celery.app.task import get_actual_ignore_result
from celery.exceptions import Retry

from jobcast import scripts
from jobcast.celery_result_store import STORED_ALONG
from jobcast.process_marks import (
    left_by_a_live_process,
    mark_pid,
    own_start,
    process_mark,
    process_started_at,
)
from jobcast.rediskeys import (
    TASKS_FINISHED_KEY,
    TASKS_STARTED_KEY,
    task_deaths_key,
    task_running_key,
)
from jobcast.settings import Settings
from jobcast.tallies import TASKS_KEY, label
from jobcast.task_failure import TaskFailedError, TaskQuarantinedError
from jobcast.task_names import shown_again
from workers import stop_logs
from workers.context import worker_context

log = logging.getLogger("jobcast.tasks")

#: How long a death count and a running mark are kept; longer than any task keeps being retried.
ATTEMPTS_TTL_SECONDS = 7 * 24 * 3600


class AttemptsExhaustedError(TaskFailedError):
    """The task's process died running it more often than the cap allows."""


@dataclass(frozen=True)
class Verdict:
    """What to do with one delivery: `run`, `quarantine` (after `delay` s) or `exhaust`."""

    action: str
    deaths: int
    delay: float = 0.0


def judge(deaths: int, died: bool, settings: Settings) -> Verdict:
    """The rule above, for a delivery that found `deaths` so far (`died`: one just now)."""
    past_cap = deaths - settings.task_max_attempts
    if not died or past_cap < 0:
        return Verdict("run", deaths)
    if past_cap >= settings.task_quarantine_max:
        return Verdict("exhaust", deaths)
    return Verdict("quarantine", deaths, settings.task_quarantine_delay * 2**past_cap)


def times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def note_deaths(
    client: redis.Redis, task_name: str, task_id: str, mark: str, read_along: str | None = None
) -> tuple[int, bool, dict[str, str] | None]:
    """Mark this delivery running as `mark` (and count a task started, for the monitor); (deaths
    of `task_id` so far, whether this delivery found a new one, the hash at `read_along` read
    right after in the same round trip, or None when none is asked for)."""
    keys = [task_running_key(task_id), task_deaths_key(task_id), TASKS_STARTED_KEY]
    argv = [str(ATTEMPTS_TTL_SECONDS), mark]
    record = None
    if read_along is None:
        deaths, left = scripts.run(client, "task_note_death", keys, argv)
    else:
        pipe = client.pipeline(transaction=False)
        scripts.run(pipe, "task_note_death", keys, argv)
        pipe.hgetall(read_along)
        (deaths, left), record = pipe.execute()
    if left is None:
        return int(deaths), False, record
    if isinstance(left, bytes):
        left = left.decode(errors="replace")
    if left_by_a_live_process(left, socket.gethostname(), process_started_at):
        log.info("task %s[%s]: its earlier delivery's process lives: no death", task_name, task_id)
        return int(deaths), False, record
    pid = mark_pid(left)
    if pid is not None and left_by_a_live_process(
        left, socket.gethostname(), stop_logs.breach_started_at
    ):
        # Killed by its own watchdog, its failure not committed (Redis away): no death either.
        stop_logs.drop_breach_note(pid)
        log.info("task %s[%s]: its earlier delivery ended itself: no death", task_name, task_id)
        return int(deaths), False, record
    counted = [task_deaths_key(task_id), TASKS_KEY]
    deaths = scripts.run(client, "task_count_death", counted, [argv[0], label("deaths", task_name)])
    return int(deaths), True, record


def ending_writes(client: redis.Redis) -> redis.Redis:
    """Where a task queues writes that may wait for its end (releases of what it held): they go
    with the clearing of its running mark, in one round trip, whichever way it ends. `client`
    itself when no delivery runs (a task run eagerly): they go at once."""
    ending: redis.Redis | None = getattr(getattr(current_task, "request", None), "ending", None)
    return client if ending is None else ending


def _end_delivery(
    client: redis.Redis, ending: redis.client.Pipeline, task_id: str, mark: str
) -> None:
    """Clear the delivery's running mark, with the writes queued on `ending` if any (a script
    alone goes as `EVALSHA`, on a pipeline as `EVAL` with its text: see `jobcast.scripts`)."""
    keys = [task_running_key(task_id), TASKS_FINISHED_KEY]
    if not len(ending):
        scripts.run(client, "task_done", keys, [mark])
        return
    scripts.run(ending, "task_done", keys, [mark])
    ending.execute()


class CappedTask(Task):  # type: ignore[misc]
    """Base class of every Jobcast task: applies the attempt cap's rule to each delivery."""

    #: Expected failures: Celery records FAILURE but logs no traceback (we log the error).
    throws = (TaskFailedError,)
    #: Flower shows an expected failure's error and runtime, not a traceback of our raise.
    Request = "workers.expected_failures:ExpectedFailureRequest"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = self.request.id
        if not task_id or self.request.is_eager:
            return super().__call__(*args, **kwargs)
        ctx = worker_context()
        pid = os.getpid()
        started = own_start(pid)
        mark = process_mark(socket.gethostname(), pid, started, secrets.token_hex(4))
        deaths, died, record = note_deaths(
            ctx.redis, self.name, task_id, mark, self.read_along(args)
        )
        self.request.read_along = record
        self.request.ending = ending = ctx.redis.pipeline(transaction=False)
        verdict = judge(deaths, died, ctx.settings)
        stored = False
        try:
            if verdict.action == "exhaust":
                self._exhaust(ctx.redis, task_id, verdict.deaths, args, kwargs)
            if verdict.action == "quarantine":
                self._quarantine(ctx.redis, task_id, verdict, args, kwargs)
            returned = super().__call__(*args, **kwargs)
            stored = self._store_along(ending, returned)
            return returned
        finally:
            # Not reached when the process dies: the mark it leaves is the next delivery's
            # proof. Left behind by a Redis outage, the next delivery finds its process alive
            # (on this host; on another it cannot tell, and counts one death too many).
            with contextlib.suppress(redis.RedisError):
                _end_delivery(ctx.redis, ending, task_id, mark)
                setattr(self.request, STORED_ALONG, stored)

    def _store_along(self, ending: redis.client.Pipeline, returned: Any) -> bool:
        """Queue the task's success on `ending`, saving the result store its own round trip,
        when Celery would store it plainly (no callbacks, chain, chord or group, whose order
        Celery's own store keeps) on a backend that can; whether it was queued. Anything
        it cannot encode is left to Celery's store, which reports it its own way."""
        request, backend = self.request, self.backend
        if not hasattr(backend, "store_along") or get_actual_ignore_result(self, request):
            return False
        if request.callbacks or request.chain or request.chord or request.group:
            return False
        try:
            backend.store_along(ending, request.id, returned, request)
        except Exception:
            return False
        return True

    def _exhaust(
        self,
        client: redis.Redis,
        task_id: str,
        deaths: int,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        client.hincrby(TASKS_KEY, label("exhausted", self.name), 1)
        message = f"its process died {times(deaths)} while running it"
        log.warning("task %s[%s] failed: attempts_exhausted: %s", self.name, task_id, message)
        self.on_attempts_exhausted(task_id, deaths, args, kwargs)
        raise AttemptsExhaustedError.from_error(
            "attempts_exhausted", f"task {self.name}[{task_id}]: {message} (a poison task)"
        )

    def _quarantine(
        self,
        client: redis.Redis,
        task_id: str,
        verdict: Verdict,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        client.hincrby(TASKS_KEY, label("quarantined", self.name), 1)
        reason = (
            f"its process died {times(verdict.deaths)} while running it; "
            f"quarantined, next run in {verdict.delay:g} s"
        )
        log.warning("task %s[%s] quarantined: %s", self.name, task_id, reason)
        self.on_quarantined(task_id, reason, verdict.delay, args, kwargs)
        self.apply_async(
            args=args,
            kwargs=kwargs,
            task_id=task_id,
            countdown=verdict.delay,
            retries=self.request.retries + 1,  # as Celery's own retry counts, for Flower
            **shown_again(self.request),
        )
        # Celery records RETRY with the reason and acks this delivery; the resend runs later.
        raise Retry(reason, exc=TaskQuarantinedError(reason), when=verdict.delay)

    def read_along(self, args: tuple[Any, ...]) -> str | None:
        """Hook for tasks that read a record first thing: its key (a hash), read in the same
        round trip as the delivery's running mark and left in `self.request.read_along` (None
        when the task runs outside a worker). The default reads nothing."""
        return None

    def on_quarantined(
        self, task_id: str, reason: str, delay: float, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """Hook for tasks that own a record: show the reason there. The default does nothing."""

    def on_attempts_exhausted(
        self, task_id: str, deaths: int, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """Hook for tasks that own a record: mark it failed. The default does nothing more."""
