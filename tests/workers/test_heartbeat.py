"""A worker's heartbeat keeps its registry entry, its node name and its figures fresh, in one
round trip a beat (`workers.heartbeat`)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import psutil
import pytest
import redis
from celery import Celery

import celeryconfig
from jobcast.figures import HostSampler, process_field
from jobcast.rediskeys import PROCESSES_KEY, WORKERS_KEY
from jobcast.settings import Settings
from jobcast.worker_registry import hold_name, name_holder
from tests.conftest import StartWorker
from tests.support.processes import wait_for
from workers.heartbeat import Heartbeat
from workers.name_claim import own_mark


class CountedConnection(redis.Connection):
    """A connection that counts its writes to Redis: one a command, one a whole pipeline."""

    sends = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountedConnection.sends += 1
        super().send_packed_command(command, check_health)


@pytest.fixture
def counted_client(settings: Settings) -> Any:
    client = redis.Redis.from_url(
        settings.broker_url, decode_responses=True, connection_class=CountedConnection
    )
    client.ping()  # the connection's own setup is no part of a beat
    CountedConnection.sends = 0
    yield client
    client.close()


def test_a_beat_reports_holds_the_name_and_the_figures_in_one_round_trip(
    counted_client: redis.Redis, redis_client: redis.Redis
) -> None:
    beat, sampler = Heartbeat(counted_client, "files@box", ["files"], 2.0), HostSampler()

    beat.beat(sampler)

    assert CountedConnection.sends == 1
    assert len(redis_client.hgetall(WORKERS_KEY)) == 1
    assert name_holder(redis_client, "files@box") == own_mark()
    assert redis_client.hexists(PROCESSES_KEY, process_field("worker", sampler.hostname))


def test_a_beat_that_finds_its_name_taken_says_so_once(
    counted_client: redis.Redis, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    # Silent past its claim (Redis away, a frozen host), the worker's name went to another.
    assert hold_name(redis_client, "files@box", "other-host:7:1.00:name", 60_000)
    beat, sampler = Heartbeat(counted_client, "files@box", ["files"], 2.0), HostSampler()

    with caplog.at_level(logging.WARNING, logger="jobcast.worker"):
        beat.beat(sampler)
        beat.beat(sampler)

    taken = [r.getMessage() for r in caplog.records if "held by another" in r.getMessage()]
    assert taken == ["worker name files@box is held by another worker now"]


HELD_MB = 200


def test_a_workers_memory_figure_includes_the_pool_processes_running_its_jobs(
    start_worker: StartWorker, settings: Settings, redis_client: redis.Redis
) -> None:
    worker = start_worker(queues="orders", include=["tests.workers.sample_tasks"])
    sender = Celery("memory-test")
    sender.config_from_object(celeryconfig.config_for(settings))
    sender.send_task("jobcast.test.hold_memory", args=["held", HELD_MB, 30], queue="orders")
    wait_for(lambda: redis_client.get("held") == "holding", 30, "the job to hold its memory")
    since = time.time()
    main = psutil.Process(worker.popen.pid)
    field = process_field("worker", HostSampler().hostname, worker.popen.pid)

    def reported_after_the_job_grew() -> bool:
        return float(read_report().get("ts", 0)) > since

    def read_report() -> dict[str, Any]:
        return dict(json.loads(redis_client.hget(PROCESSES_KEY, field) or "{}"))

    wait_for(reported_after_the_job_grew, 10, "a report after the job grew")
    report = read_report()
    # The main process alone is far below what the job holds; the figure counts the pool too.
    assert main.memory_info().rss < HELD_MB * 1024 * 1024
    assert report["rss_bytes"] > main.memory_info().rss + HELD_MB * 1024 * 1024
