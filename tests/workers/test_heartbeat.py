"""A worker's heartbeat keeps its registry entry, its node name and its figures fresh, in one
round trip a beat (`workers.heartbeat`)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import redis

from jobcast.figures import HostSampler, process_field
from jobcast.rediskeys import PROCESSES_KEY, WORKERS_KEY
from jobcast.settings import Settings
from jobcast.worker_registry import hold_name, name_holder
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
