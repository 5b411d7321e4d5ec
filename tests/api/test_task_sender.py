"""The api sends tasks by name and never listens for their results."""

from __future__ import annotations

import asyncio
import base64
import json

import redis

from api.task_sender import TaskSender
from jobcast.settings import Settings

JOB_ID = "j_" + "7" * 24


def test_a_matching_request_is_queued_and_its_result_is_not_listened_for(
    settings: Settings, redis_client: redis.Redis
) -> None:
    async def send() -> list[str]:
        sender = TaskSender(settings)
        try:
            await sender.request_matching(["BTC-USD"])
            # A subscription, if any, would be made by the send itself, before it returns.
            return list(redis_client.pubsub_channels("celery-task-meta-*"))
        finally:
            await sender.aclose()

    assert asyncio.run(send()) == []
    message = json.loads(str(redis_client.lindex("orders", 0)))
    assert message["headers"]["task"] == "jobcast.orders.match"
    assert json.loads(base64.b64decode(message["body"]))[0] == ["BTC-USD"]
    assert not message["headers"].get("ignore_result")  # workers still store the result


def test_a_file_jobs_task_names_the_job_and_says_what_it_is(settings: Settings) -> None:
    sender = TaskSender(settings)
    try:
        task = sender.file_job(JOB_ID, "profile", "t.csv", 3, "alice")
    finally:
        asyncio.run(sender.aclose())
    message = json.loads(task.message)
    assert task.queue == "files"
    assert message["headers"]["id"] == JOB_ID
    assert message["headers"]["task"] == "jobcast.files.run"
    assert json.loads(base64.b64decode(message["body"]))[0] == [JOB_ID]
    assert "owner='alice'" in message["headers"]["argsrepr"]  # what Flower shows
    assert not message["headers"].get("ignore_result")
