"""The exception a Jobcast task ends with when its work failed, so Celery and Flower say so.

Our records are the truth (a failed job's `error`), but an operator reads Celery's task state in
Flower. A task whose work failed therefore raises this after it committed the outcome: Celery
marks it `FAILURE` with this text, acks the message (no redelivery) and does not retry it, since
no task of ours retries on it. It lives in the shared core so that any process reading results
(the api, Flower, a test) can rebuild it without importing worker code.
"""

from __future__ import annotations

from typing import Self

from celery.exceptions import Ignore


class TaskFailedError(Exception):
    """A task's work failed; the text is `<error code>: <message>`."""

    @classmethod
    def from_error(cls, code: str, message: str) -> Self:
        return cls(f"{code}: {message}")


class TaskQuarantinedError(Exception):
    """Why a task runs again later (the attempt cap's quarantine): the text is the reason, `its
    process died N times while running it; quarantined, next run in S s`. Celery records it with
    the task's RETRY, and Flower shows it as the task's exception while the task waits."""


class TaskCancelledError(Ignore):  # type: ignore[misc]
    """A task's job was cancelled; raised once the cancel is committed. Celery's worker then
    announces the task revoked, as it does one revoked from outside (`task-revoked`, result
    `REVOKED`, message acked: `workers.expected_failures`), so Flower shows `REVOKED`, not a
    `SUCCESS` of "cancelled". An `Ignore`, so the pool process stores no outcome of its own."""
