"""The P1 reference: a stock Celery app with one no-op task and a Redis result backend.

No Jobcast code: only the broker URL (from JOBCAST_REDIS_URL, set by the bench) is shared, so
both sides of the ratio use the same Redis on the same machine.
"""

from __future__ import annotations

import os

from celery import Celery


def make_app() -> Celery:
    """One app per client thread: the Redis result backend's consumer is not thread-safe."""
    url = os.environ["JOBCAST_REDIS_URL"]  # the bench's private Redis, never a default one
    app = Celery("noop", broker=url, backend=url)
    app.conf.task_default_queue = "noop"
    app.conf.broker_connection_retry_on_startup = True
    return app


app = make_app()


@app.task(name="bench.noop")  # type: ignore[untyped-decorator]
def noop() -> None:
    """Does nothing: what is left is the cost of a task with a result, end to end."""
