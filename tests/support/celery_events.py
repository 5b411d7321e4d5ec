"""Celery's task events as Flower reads them, from the broker's pub/sub (`*celeryev*`)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import redis


def task_sent_events(listener: redis.client.PubSub, within: float) -> list[dict[str, Any]]:
    """The `task-sent` events (what Flower reads) published to `listener` within `within` s."""
    found, deadline = [], time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        message = listener.get_message(timeout=left)
        if message is None or message["type"] != "pmessage":
            continue
        body = json.loads(base64.b64decode(json.loads(message["data"])["body"]))
        batch = body if isinstance(body, list) else [body]  # a worker's `task.multi` is a list
        found += [event for event in batch if event["type"] == "task-sent"]
    return found
