"""A worker outlives its broker: Redis killed and restarted, the worker consumes again."""

from __future__ import annotations

import secrets
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery

import celeryconfig
from jobcast.embedded_redis import EmbeddedRedis, free_port
from jobcast.rediskeys import UNACKED_KEY
from jobcast.settings import Settings
from tests.conftest import launch_worker
from tests.support.processes import Proc, wait_for

SAMPLE_TASKS = ["tests.workers.sample_tasks"]


class Broker:
    """A Redis of the test's own (AOF, fsync always) that can be SIGKILLed and started again."""

    def __init__(self, workdir: Path) -> None:
        self.server = EmbeddedRedis(
            port=free_port(),
            password=secrets.token_hex(8),
            data_dir=workdir / "redis",
            appendfsync="always",
        )
        self.log = workdir / "redis.log"
        self.proc = self.start()

    def start(self) -> subprocess.Popen[bytes]:
        proc = self.server.start(self.log)
        self.server.wait_ready()
        return proc

    def kill_and_restart(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = self.start()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path)
    yield broker
    broker.stop()


def orders_worker(
    broker: Broker, settings: Settings, workdir: Path
) -> tuple[Settings, redis.Redis, Proc]:
    """A real worker on `broker`'s orders queue, with the test tasks: its settings, a client of
    the broker, and the worker."""
    s = settings.model_copy(update={"redis_url": broker.server.url})
    client = redis.Redis.from_url(broker.server.url, decode_responses=True)
    return s, client, launch_worker(s, workdir, client, "orders", 1, SAMPLE_TASKS)


def test_worker_holding_a_task_survives_a_redis_kill_and_consumes_again(
    broker: Broker, settings: Settings, tmp_path: Path
) -> None:
    s, client, worker = orders_worker(broker, settings, tmp_path)
    try:
        sender = Celery("test-client")
        sender.config_from_object(celeryconfig.config_for(s))
        sender.send_task("jobcast.test.nap", args=["nap", 2.0])
        wait_for(lambda: client.get("nap") == "napping", 10, "the worker to run the task")
        broker.kill_and_restart()
        sender.send_task("jobcast.test.touch", args=["after"])
        wait_for(
            lambda: client.get("after") == "touched", 20, "a task sent after the restart", worker
        )
        # the task held across the restart finishes and is acked on its old channel
        wait_for(lambda: client.get("nap") == "done", 20, "the held task to finish", worker)
        wait_for(lambda: client.hlen(UNACKED_KEY) == 0, 20, "its message to be acked", worker)
        sender.send_task("jobcast.test.touch", args=["later"])
        wait_for(lambda: client.get("later") == "touched", 20, "a task sent after the ack", worker)
        # Celery warns at each lost connection that held tasks "cannot be acknowledged": here
        # they are (above), so the paragraph would only mislead whoever reads the log.
        assert "cannot be acknowledged" not in worker.output()
    finally:
        worker.kill()


def test_a_reconnect_logs_no_prefetch_note_at_info(
    broker: Broker, settings: Settings, tmp_path: Path
) -> None:
    # Celery said at INFO, at every reconnect, why it kept the prefetch count: 16 lines over
    # 3 outages of a note that asks nothing of the operator.
    _, _, worker = orders_worker(broker, settings, tmp_path)
    try:
        broker.kill_and_restart()
        back = "INFO/MainProcess] Connected to"
        wait_for(lambda: worker.output().count(back) >= 2, 30, "the worker back", worker)
    finally:
        worker.kill()
    assert "Skipping prefetch count reduction" not in worker.output()
