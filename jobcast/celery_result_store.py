"""Celery's Redis result backend, storing a task's result in one round trip instead of two.

Celery's own store reads the stored result first (a success is never overwritten), then writes
and publishes the new one in a MULTI: two round trips per task, in the pool process, for a result
no Jobcast process waits on (a job's record is what clients read). `celery_result_store.lua`
does the same check, write and publish in one step. `celeryconfig` names these classes in
`result_backend`; reading results, expiry and everything else is Celery's own.

A task may also queue its success on a pipeline of its own (`store_along`), to go with the
writes of its end in one round trip (`workers.attempts`); once that pipeline has run, Celery's
own store of the same result is skipped (`STORED_ALONG` on the request). Should it fail, the
mark is not set and Celery stores the result as usual, with its retries.
"""

from __future__ import annotations

from typing import Any

from celery import states
from celery.backends.redis import RedisBackend as CeleryRedisBackend
from celery.backends.redis import SentinelBackend as CelerySentinelBackend
from celery.exceptions import BackendStoreError

from jobcast import scripts

#: The request attribute saying its success was stored along with the task's ending writes.
STORED_ALONG = "result_stored_along"


class _OneStepStore:
    """Mixed into a Celery Redis backend: `_store_result` as one script."""

    def store_along(self, pipe: Any, task_id: str, result: Any, request: Any) -> None:
        """Queue the success `result` of `task_id` on `pipe`, as `store_result` would store it;
        the caller sets `STORED_ALONG` on `request` once `pipe` has run."""
        backend: Any = self
        encoded = backend.encode_result(result, states.SUCCESS)
        key, value, expires = self._stored(task_id, encoded, states.SUCCESS, None, request)
        scripts.run(pipe, "celery_result_store", [key], [value, int(expires)])

    def _store_result(
        self,
        task_id: str,
        result: Any,
        state: str,
        traceback: str | None = None,
        request: Any = None,
        **kwargs: Any,
    ) -> Any:
        if state == states.SUCCESS and getattr(request, STORED_ALONG, False):
            return result
        backend: Any = self
        stored = self._stored(task_id, result, state, traceback, request)
        backend.ensure(self._store_once, stored)
        return result

    def _stored(
        self, task_id: str, result: Any, state: str, traceback: str | None, request: Any
    ) -> tuple[str, str, int]:
        """(key, value, seconds to keep it) of the result `result` (already encoded)."""
        backend: Any = self
        meta = backend._get_result_meta(
            result=result, state=state, traceback=traceback, request=request
        )
        meta["task_id"] = _text(task_id)
        value = backend.encode(meta)
        if len(value) > backend._MAX_STR_VALUE_SIZE:
            raise BackendStoreError(
                "value too large for Redis backend", state=state, task_id=task_id
            )
        expires = backend.failure_expires if state == states.FAILURE else backend.expires
        return _text(backend.get_key_for_task(task_id)), value, expires or 0

    def _store_once(self, key: str, value: str, expires: int) -> None:
        client: Any = self.client  # type: ignore[attr-defined]
        scripts.run(client, "celery_result_store", [key], [value, int(expires)])


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisBackend(_OneStepStore, CeleryRedisBackend):  # type: ignore[misc]
    pass


class SentinelBackend(_OneStepStore, CelerySentinelBackend):  # type: ignore[misc]
    pass


def backend_for(broker_url: str, sentinels: bool) -> str:
    """The `result_backend` setting: one of these classes (Celery's `module:Class+url` form) on
    the broker's Redis."""
    name = "SentinelBackend" if sentinels else "RedisBackend"
    return f"{__name__}:{name}+{broker_url}"
