"""Celery task messages as kombu's Redis transport stores them, for a Redis MULTI to carry.

The api writes a file job's task message and its `task-sent` event in the MULTI that creates the
job: the job exists with its message queued or not at all, and the send costs no round trip of
its own. Through Celery's `send_task` it was two more round trips (the push, the event) on a
thread of their own, and kombu's publish path was about 40 % of the api's time per small job.

Celery itself makes the message (`app.amqp.as_task_v2`, task protocol 2) and the event's fields
(`celery.events.Event`); what is written here is only the envelope kombu's virtual transport
puts around them (`Channel.basic_publish`: the body serialized and base64-encoded, a delivery
tag, where it was routed) and where its Redis transport puts it (`LPUSH` on the queue's list,
`PUBLISH` on the event exchange's topic). `tests/jobcast/test_celery_messages.py` compares both
with what Celery's own `send_task` writes, so an upgrade that changes either fails there.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any

from celery import Celery
from celery.events import Event
from celery.utils.time import utcoffset
from kombu.utils.url import parse_url

from jobcast.rediskeys import celery_event_topic, priority_queue


@dataclass(frozen=True)
class QueuedTask:
    """What one task's send writes: `message` pushed on the list `queue` (the queue's list for
    the task's priority), `event` published on the channel `topic`."""

    queue: str
    message: str
    topic: str
    event: str


class TaskWriter:
    """Writes task messages as `app` would send them, to the broker at `broker_url`."""

    def __init__(self, app: Celery, broker_url: str) -> None:
        self._app = app
        self._topic = celery_event_topic(broker_db(broker_url), "task-sent")
        # What Celery names an anonymous sender (`gen<pid>@<host>`): Flower shows it as the
        # task's client.
        self._origin = f"gen{os.getpid()}@{socket.gethostname()}"

    def task(
        self,
        name: str,
        task_id: str,
        args: list[Any],
        argsrepr: str,
        queue: str,
        priority: int = 0,
    ) -> QueuedTask:
        """The task `name` with positional `args`, for the queue `queue` (default exchange), at
        `priority` (0, or one of kombu's steps `rediskeys.PRIORITIES`: taken after 0)."""
        made = self._app.amqp.as_task_v2(
            task_id,
            name,
            args,
            argsrepr=argsrepr,
            kwargsrepr="{}",
            origin=self._origin,
            create_sent_event=True,
            # as `send_task` has them: no result option (the worker's setting decides), and
            # the sending thread's reply queue (read only by an rpc result backend)
            ignore_result=None,
            reply_to=self._app.thread_oid,
        )
        message = _envelope(
            made.body, made.headers, made.properties, "", queue, delivery_mode=2, priority=priority
        )
        event = Event(
            "task-sent",
            hostname=self._origin,
            utcoffset=utcoffset(),
            pid=os.getpid(),
            clock=self._app.clock.forward(),
            **made.sent_event,
            queue=queue,
            exchange="",
            routing_key=queue,
        )
        sent = _envelope(
            event, {"hostname": self._origin}, {}, "celeryev", "task.sent", delivery_mode=1
        )
        listed = priority_queue(queue, priority)
        return QueuedTask(listed, json.dumps(message), self._topic, json.dumps(sent))


def _envelope(
    body: Any,
    headers: dict[str, Any],
    properties: dict[str, Any],
    exchange: str,
    routing_key: str,
    delivery_mode: int,
    priority: int = 0,
) -> dict[str, Any]:
    encoded = base64.b64encode(json.dumps(body).encode()).decode()
    return {
        "body": encoded,
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": {
            **properties,
            "delivery_mode": delivery_mode,
            "delivery_info": {"exchange": exchange, "routing_key": routing_key},
            "priority": priority,  # where kombu puts it back should a worker not ack it
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }


def broker_db(url: str) -> int:
    """The database number in a Redis or Sentinel URL (the first of several), as kombu reads
    it: none or `/` is 0."""
    vhost = parse_url(url.split(";")[0])["virtual_host"]
    return int(str(vhost).strip("/") or 0) if vhost else 0
