"""The api sends tasks by name and never listens for their results."""

from __future__ import annotations

import asyncio
import json

import redis

from api.task_sender import TaskSender
from jobcast.settings import Settings

JOB_ID = "j_" + "7" * 24


def test_a_sent_file_job_is_queued_and_its_result_is_not_listened_for(
    settings: Settings, redis_client: redis.Redis
) -> None:
    async def send() -> list[str]:
        sender = TaskSender(settings)
        try:
            record = {"id": JOB_ID, "operation": "profile", "filename": "t.csv", "size": 3}
            await sender.send_file_job(record, "alice")
            # A subscription, if any, would be made by the send itself, before it returns.
            return list(redis_client.pubsub_channels(f"celery-task-meta-{JOB_ID}"))
        finally:
            await sender.aclose()

    assert asyncio.run(send()) == []
    message = json.loads(str(redis_client.lindex("files", 0)))
    assert message["headers"]["id"] == JOB_ID
    assert message["headers"]["task"] == "jobcast.files.run"
    assert not message["headers"].get("ignore_result")  # workers still store the result
