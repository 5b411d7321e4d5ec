"""Flower, as `jobcast up` runs it, shows how many messages wait in each queue (its Broker page
and `/api/queues/length`), from the broker's own lists, without its password on the command
line."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
from celery import Celery

import celeryconfig
from celeryconfig import FILES_QUEUE, ORDERS_QUEUE
from jobcast.embedded_redis import free_port
from jobcast.launcher import Stack, UpOptions
from jobcast.settings import Settings
from tests.support.processes import Proc, process_env, spawn, wait_for
from tests.support.sentinel import sentinel_group


def start_stack_flower(settings: Settings, tmp_path: Path) -> tuple[Proc, str, list[str]]:
    """Flower with the launcher's command line and environment; its URL and argv."""
    stack = Stack(settings.replace(flower_port=free_port()), UpOptions())
    argv = stack._flower_argv()
    proc = spawn("flower", argv, process_env(settings, stack._flower_env()), tmp_path)

    def answers() -> bool:
        try:
            return httpx.get(stack.flower_url, timeout=1).status_code == 401
        except httpx.HTTPError:
            return False

    wait_for(answers, 60, "flower", proc)
    return proc, stack.flower_url, argv


def send(settings: Settings, queue: str, priorities: list[int]) -> None:
    client = Celery("test-client")
    client.config_from_object(celeryconfig.config_for(settings))
    for priority in priorities:
        client.send_task("tests.waits", queue=queue, priority=priority)
    client.close()


def assert_flower_shows_the_waiting_messages(settings: Settings, tmp_path: Path) -> None:
    # Given messages waiting, no worker taking them: two file jobs (one sunk to priority 3 by
    # its owner's backlog, `jobcast.files_priority`) and one matching step.
    send(settings, FILES_QUEUE, [0, 3])
    send(settings, ORDERS_QUEUE, [0])
    flower, url, argv = start_stack_flower(settings, tmp_path)
    auth = ("admin", settings.secret("flower_password"))
    redis_password = urlsplit(settings.broker_url.split(";")[0]).password
    assert redis_password
    try:
        # Flower read our transport's URL as no broker it knew: "'redis' broker is not supported".
        lengths = httpx.get(f"{url}/api/queues/length", auth=auth, timeout=5)
        assert lengths.status_code == 200, lengths.text
        assert lengths.json() == {
            "active_queues": [
                {"name": FILES_QUEUE, "messages": 2},
                {"name": ORDERS_QUEUE, "messages": 1},
            ]
        }
        broker = httpx.get(f"{url}/broker", auth=auth, timeout=5)
        assert broker.status_code == 200, broker.text
        assert redis_password not in broker.text
    finally:
        flower.stop()
    # Its secrets come in its environment, not on a command line `ps` shows.
    assert redis_password not in " ".join(argv)
    assert auth[1] not in " ".join(argv)


def test_flower_shows_each_queues_waiting_messages_over_every_priority(
    settings: Settings, tmp_path: Path
) -> None:
    assert_flower_shows_the_waiting_messages(settings, tmp_path)


def test_flower_shows_the_waiting_messages_behind_sentinel(tmp_path: Path) -> None:
    with sentinel_group(tmp_path) as group:
        assert_flower_shows_the_waiting_messages(group.settings(tmp_path / "data"), tmp_path)
