"""Celery's task events as Flower reads them, from the broker's pub/sub (`*celeryev*`)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import redis


def task_sent_events(listener: redis.client.PubSub, within: float) -> list[dict[str, Any]]:
    """The `task-sent` events (what Flower reads) published to `listener` within `within` s."""
    return task_events(listener, within, "task-sent")


def task_events(
    listener: redis.client.PubSub, within: float, kind: str, task_id: str | None = None
) -> list[dict[str, Any]]:
    """The task events of type `kind` (any, if empty; of task `task_id`, if given) published to
    `listener` within `within` s; returns as soon as one of `task_id`'s is read."""
    found, deadline = [], time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        message = listener.get_message(timeout=left)
        if message is None or message["type"] != "pmessage":
            continue
        body = json.loads(base64.b64decode(json.loads(message["data"])["body"]))
        batch = body if isinstance(body, list) else [body]  # a worker's `task.multi` is a list
        found += [e for e in batch if kind in ("", e["type"]) and task_id in (None, e.get("uuid"))]
        if task_id is not None and found:
            break
    return found
