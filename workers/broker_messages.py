"""The Celery messages in the broker as the reconciler reads them: what each works on, and for
one a worker took and has not acked (kombu's `unacked` hash), when it took it and when it is due.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from celeryconfig import QUEUES
from jobcast.rediskeys import UNACKED_INDEX_KEY, UNACKED_KEY, queue_lists


@dataclass(frozen=True)
class Held:
    """A message taken by a worker and not acked. `work`: what it works on (`message_work`);
    `taken_at`: epoch seconds, 0 when kombu's index lost it; `due_at`: 0 for a message due at
    once."""

    work: str | None
    task_id: str
    taken_at: float
    due_at: float


def message_work(payload: dict[str, Any]) -> str | None:
    """What a message works on: its task id, or `symbol:<symbol>` for matching."""
    headers = payload.get("headers") or {}
    if str(headers.get("task", "")).endswith(".match"):
        body = json.loads(base64.b64decode(payload["body"]))
        return f"symbol:{body[0][0]}" if body and body[0] else None
    task_id = headers.get("id")
    return str(task_id) if task_id else None


def due_at(payload: dict[str, Any]) -> float:
    """When a countdown retry (or a quarantined task) is due: its holder runs it then, however
    long ago it took it; 0 for a message due at once."""
    eta = (payload.get("headers") or {}).get("eta")
    return datetime.fromisoformat(eta).timestamp() if eta else 0.0


def held_messages(unacked: dict[str, str], taken: dict[str, float]) -> list[Held]:
    """The held messages from kombu's `unacked` hash (tag -> [payload, exchange, routing key])
    and its index (tag -> when taken)."""
    found = []
    for tag, raw in unacked.items():
        payload = json.loads(raw)[0]
        task_id = str((payload.get("headers") or {}).get("id") or "")
        found.append(Held(message_work(payload), task_id, taken.get(tag, 0.0), due_at(payload)))
    return found


def read_messages(client: redis.Redis) -> tuple[set[str], list[Held]]:
    """What the messages waiting in the queues work on, and every held message."""
    pipe = client.pipeline(transaction=False)
    for queue in QUEUES:
        for name in queue_lists(queue):
            pipe.lrange(name, 0, -1)
    pipe.hgetall(UNACKED_KEY)
    pipe.zrange(UNACKED_INDEX_KEY, 0, -1, withscores=True)
    *queued, unacked, index = pipe.execute()
    waiting = {work for raws in queued for raw in raws if (work := message_work(json.loads(raw)))}
    return waiting, held_messages(unacked, dict(index))
