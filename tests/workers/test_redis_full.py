"""A worker outlives a Redis that refuses writes (maxmemory reached), and works once it has room."""

from __future__ import annotations

import signal
from pathlib import Path

import redis
from celery import Celery

import celeryconfig
from tests.conftest import launch_worker
from tests.support.processes import wait_for
from tests.support.stack import start_private_redis


def test_a_worker_waits_out_a_full_redis_instead_of_exiting(tmp_path: Path) -> None:
    server, redis_proc, settings = start_private_redis(tmp_path)
    client = redis.Redis.from_url(server.url, decode_responses=True)
    sender = Celery("test-client")
    sender.config_from_object(celeryconfig.config_for(settings))
    worker = launch_worker(settings, tmp_path, client, "files")
    try:
        # Given a message the worker takes only once Redis is full (taking it writes the
        # unacked index, which a full Redis refuses)
        worker.kill_group(signal.SIGSTOP)
        sender.send_task("jobcast.files.run", args=["j_none"])
        client.config_set("maxmemory", 1)
        worker.kill_group(signal.SIGCONT)

        # Then the worker does not exit (it did, at its first refusal: "Unrecoverable error:
        # OutOfMemoryError", and `jobcast up` stopped the whole stack with it): it meets the
        # full Redis again and again, past Celery's pause after 5 restarts in a second (the
        # test slept 5 s here)
        refused = "used memory > 'maxmemory'"
        wait_for(lambda: worker.output().count(refused) >= 12, 60, "12 refusals", worker)
        assert worker.popen.poll() is None, worker.output()[-3000:]
        # Each retry is one line (Celery's rate limit on them came with a traceback).
        assert "Traceback" not in worker.output()

        # And once Redis has room, it runs tasks again
        client.config_set("maxmemory", 0)
        result = sender.send_task("jobcast.files.run", args=["j_gone"])
        assert result.get(timeout=60) == "expired"
    finally:
        worker.kill()
        client.close()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
