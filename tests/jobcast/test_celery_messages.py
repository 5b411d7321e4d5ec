"""A task message written by `jobcast.celery_messages` is the one Celery's own `send_task`
writes, byte for byte but for what differs per send; a worker runs it (every file job test)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import redis
from celery import Celery

import celeryconfig
from jobcast.celery_messages import TaskWriter, broker_db
from jobcast.settings import Settings

#: What differs between two sends of one task: ids, times, the sender, the delivery tag.
PER_SEND = {"id", "root_id", "correlation_id", "delivery_tag", "reply_to", "origin", "uuid",
            "timestamp", "clock", "pid", "hostname", "argsrepr", "args"}  # fmt: skip


def comparable(envelope: dict[str, Any]) -> dict[str, Any]:
    """The envelope with its body decoded and what differs per send left out."""
    body = json.loads(base64.b64decode(envelope["body"]))
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in PER_SEND}
    else:
        body = body[1:]  # (args, kwargs, embed): the args are the task id
    properties = {k: v for k, v in envelope["properties"].items() if k not in PER_SEND}
    # send_task also copies its argsrepr options into the properties; nothing reads them there
    properties.pop("kwargsrepr", None)
    headers = {k: v for k, v in envelope["headers"].items() if k not in PER_SEND}
    return {**envelope, "body": body, "properties": properties, "headers": headers}


def sent(client: redis.Redis, send: Any) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    """(queue, message, event channel, event) that `send()` left in Redis."""
    listener = client.pubsub()
    listener.psubscribe("*celeryev*")
    listener.get_message(timeout=5)  # the subscription's confirmation
    send()
    (queue,) = [k for k in client.keys("*") if client.type(k) == "list"]
    message = json.loads(client.rpop(queue))
    event = listener.get_message(timeout=5)
    listener.close()
    assert event is not None
    return queue, message, event["channel"], json.loads(event["data"])


@pytest.mark.parametrize(("priority", "queue"), [(0, "files"), (6, "files\x06\x166")])
def test_a_written_task_is_what_celerys_send_task_writes(
    settings: Settings, redis_client: redis.Redis, priority: int, queue: str
) -> None:
    app = Celery("celery-messages-test")
    app.config_from_object({**celeryconfig.config_for(settings), "result_backend": None})
    shown = "('j_1', operation='profile')"
    # Celery's default (no priority) is what the api writes at 0.
    asked = {"priority": priority} if priority else {}

    def by_celery() -> None:
        app.send_task("jobcast.files.run", args=["j_1"], task_id="j_1", argsrepr=shown,
                      kwargsrepr="{}", **asked)  # fmt: skip

    task = TaskWriter(app, settings.broker_url).task("jobcast.files.run", "j_2", ["j_2"], shown,
                                                      "files", priority)  # fmt: skip

    def by_us() -> None:
        redis_client.lpush(task.queue, task.message)
        redis_client.publish(task.topic, task.event)

    theirs, ours = sent(redis_client, by_celery), sent(redis_client, by_us)
    app.close()
    assert ours[0] == theirs[0] == queue
    assert ours[2] == theirs[2]  # the event's channel, with the test's database number in it
    assert comparable(ours[1]) == comparable(theirs[1])
    assert comparable(ours[3]) == comparable(theirs[3])
    # and what differs per send is this send's
    headers = ours[1]["headers"]
    assert (headers["id"], headers["root_id"], headers["argsrepr"]) == ("j_2", "j_2", shown)
    assert json.loads(base64.b64decode(ours[3]["body"]))["uuid"] == "j_2"


@pytest.mark.parametrize(
    ("url", "db"),
    [
        ("redis://127.0.0.1:6379/3", 3),
        ("redis://:secret@127.0.0.1:6379", 0),
        ("redis://127.0.0.1:6379/", 0),
        ("sentinel://:pw@10.0.0.1:26379/0;sentinel://:pw@10.0.0.2:26379/0", 0),
    ],
)
def test_the_broker_database_is_read_as_kombu_reads_it(url: str, db: int) -> None:
    assert broker_db(url) == db
