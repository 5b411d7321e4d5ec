"""Flower, as `jobcast up` runs it, shows how many messages wait in each queue (its Broker page
and `/api/queues/length`), from the broker's own lists, without its password on the command
line; a worker behind Sentinel answers every question Flower's worker page asks it; and an
operator sets a task's limits on a worker from that page."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
from celery import Celery

import celeryconfig
from celeryconfig import FILES_QUEUE, ORDERS_QUEUE
from jobcast.embedded_redis import free_port
from jobcast.launcher import Stack, UpOptions
from jobcast.orphan_watch import LAUNCHER_PID_VARIABLE, STOP_GRACE_SECONDS
from jobcast.redis_clients import sync_client
from jobcast.settings import Settings
from jobcast.task_names import MATCH_TASK
from tests.conftest import launch_worker
from tests.support.processes import Proc, http_status, process_env, spawn, wait_for
from tests.support.sentinel import sentinel_group


def start_stack_flower(
    settings: Settings, tmp_path: Path, extra_env: dict[str, str] | None = None
) -> tuple[Proc, str, list[str]]:
    """Flower with the launcher's command line and environment; its URL and argv."""
    stack = Stack(settings.replace(flower_port=free_port()), UpOptions())
    argv = stack._flower_argv()
    env = process_env(settings, {**stack._flower_env(), **(extra_env or {})})
    proc = spawn("flower", argv, env, tmp_path)

    wait_for(lambda: http_status(stack.flower_url) == 401, 60, "flower", proc)
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


def test_a_flower_whose_launcher_is_killed_ends_after_the_stops_grace(
    settings: Settings, tmp_path: Path
) -> None:
    # With its Redis gone Flower ignored SIGTERM for minutes (its exit waits on its event
    # thread). The launcher's own stop SIGKILLs it after the grace; a launcher killed with -9
    # cannot, so Flower watches it as the api and the workers do (`jobcast.orphan_watch`). Here
    # it gets no SIGTERM at all: only the watch can end it.
    launcher = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        flower, _, _ = start_stack_flower(
            settings, tmp_path, {LAUNCHER_PID_VARIABLE: str(launcher.pid)}
        )
    finally:
        launcher.kill()
        launcher.wait()
    killed = time.monotonic()
    try:
        flower.popen.wait(timeout=STOP_GRACE_SECONDS + 10)
    finally:
        flower.stop()
    assert time.monotonic() - killed >= STOP_GRACE_SECONDS - 0.5  # its own stop had the grace


def test_flower_shows_each_queues_waiting_messages_over_every_priority(
    settings: Settings, tmp_path: Path
) -> None:
    assert_flower_shows_the_waiting_messages(settings, tmp_path)


def test_flower_shows_the_waiting_messages_behind_sentinel(tmp_path: Path) -> None:
    with sentinel_group(tmp_path) as group:
        assert_flower_shows_the_waiting_messages(group.settings(tmp_path / "data"), tmp_path)


#: What Flower's worker page asks each worker (flower/inspector.py's methods).
FLOWER_INSPECTS = (
    "stats",
    "active_queues",
    "registered",
    "scheduled",
    "active",
    "reserved",
    "revoked",
    "conf",
)


def test_a_worker_behind_sentinel_answers_everything_flower_asks(tmp_path: Path) -> None:
    # Its stats and conf carry the broker's transport options, whose sentinel retry policy was a
    # redis-py object JSON cannot write: the reply failed ("Object of type Retry is not JSON
    # serializable" in the worker's log) and Flower's worker page showed nothing of it.
    with sentinel_group(tmp_path) as group:
        settings = group.settings(tmp_path / "data")
        client = sync_client(settings, timeout=5, connect_timeout=1)
        worker = launch_worker(settings, tmp_path, client, queues=ORDERS_QUEUE)
        client.close()
        try:
            app = Celery("probe", config_source=celeryconfig.config_for(settings))
            inspect = app.control.inspect(timeout=5.0, limit=1)
            answered = {name: getattr(inspect, name)() for name in FLOWER_INSPECTS}
            app.close()
        finally:
            worker.kill()
    assert all(answered.values()), [name for name, reply in answered.items() if not reply]
    (stats,) = answered["stats"].values()
    assert stats["broker"]["transport"] == "jobcast.celery_transport:SentinelTransport"
    assert "Retry is not JSON serializable" not in worker.output()
    # Its Config tab (`conf`) shows each option Celery cannot write as JSON by its repr.
    assert " object at 0x" not in str(answered["conf"]), answered["conf"]
    # Celery leaves the primary's password out of `stats`; the sentinels' is masked as well.
    assert settings.redis_sentinel_password
    assert settings.secret("redis_sentinel_password") not in str(answered)


def test_an_operator_sets_a_workers_task_limits_from_flower(
    settings: Settings, tmp_path: Path
) -> None:
    # Flower's worker page (its Limits tab) sets a task's rate and time limits, and Flower
    # refused both for any task its own app had not registered: 404 "Unknown task".
    client = sync_client(settings, timeout=5, connect_timeout=1)
    worker = launch_worker(settings, tmp_path, client, queues=ORDERS_QUEUE)
    client.close()
    workername = f"{worker.name}@{socket.gethostname()}"
    try:
        flower, url, _ = start_stack_flower(settings, tmp_path)
        auth = ("admin", settings.secret("flower_password"))
        try:
            wait_for(lambda: workername in flower_workers(url, auth), 30, "flower", flower)
            rate = set_limit(
                url, auth, "rate-limit", {"workername": workername, "ratelimit": "9/s"}
            )
            times = set_limit(
                url, auth, "timeout", {"workername": workername, "soft": 50, "hard": 60}
            )
        finally:
            flower.stop()
    finally:
        worker.kill()
    assert rate.status_code == 200, rate.text
    assert times.status_code == 200, times.text
    # The worker's own answers, passed on by Flower.
    assert rate.json() == {"message": "new rate limit set successfully"}
    assert times.json() == {"message": "time limits set successfully"}


def flower_workers(url: str, auth: tuple[str, str]) -> list[str]:
    return list(httpx.get(f"{url}/api/workers", auth=auth, timeout=5).json())


def set_limit(url: str, auth: tuple[str, str], kind: str, form: dict[str, Any]) -> httpx.Response:
    """What the Limits tab's Apply button posts, for the matching task."""
    return httpx.post(f"{url}/api/task/{kind}/{MATCH_TASK}", data=form, auth=auth, timeout=10)


def hand_started_flower_argv(port: int) -> list[str]:
    """Flower as docker-compose starts it, and as an operator starts one by hand: no
    FLOWER_BASIC_AUTH, only the JOBCAST_ settings every other process is given."""
    return [
        sys.executable, "-m", "celery", "-A", "workers.flower_app", "flower",
        "--address=127.0.0.1", f"--port={port}",
    ]  # fmt: skip


def test_a_flower_started_by_hand_asks_for_the_flower_password(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    env = process_env(settings)
    env.pop("FLOWER_BASIC_AUTH", None)
    flower = spawn("flower", hand_started_flower_argv(port), env, tmp_path)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: http_status(url) is not None, 60, "flower", flower)
        # It served its pages and controls to anyone, JOBCAST_FLOWER_PASSWORD set or not.
        assert httpx.get(url, timeout=5).status_code == 401
        auth = (settings.flower_user, settings.secret("flower_password"))
        assert httpx.get(url, auth=auth, timeout=5).status_code == 200
    finally:
        flower.stop()


def test_a_flower_started_by_hand_without_address_or_port_listens_where_its_settings_say(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    env = {**process_env(settings), "JOBCAST_FLOWER_PORT": str(port)}
    env.pop("FLOWER_BASIC_AUTH", None)
    argv = [sys.executable, "-m", "celery", "-A", "workers.flower_app", "flower"]
    flower = spawn("flower", argv, env, tmp_path)
    try:
        # It listened on every interface, on Flower's own port, whatever JOBCAST_FLOWER_* said.
        wait_for(lambda: http_status(f"http://127.0.0.1:{port}/") is not None, 60, "flower", flower)
        proc = psutil.Process(flower.popen.pid)
        bound = {c.laddr for c in proc.net_connections() if c.status == psutil.CONN_LISTEN}
    finally:
        flower.stop()
    assert {address.ip for address in bound} == {settings.flower_host}, bound
    assert {address.port for address in bound} == {port}, bound


def test_a_flower_started_by_hand_without_its_password_refuses_to_start(
    settings: Settings, tmp_path: Path
) -> None:
    env = {**process_env(settings), "JOBCAST_DEV": "0"}
    for name in ("FLOWER_BASIC_AUTH", "JOBCAST_FLOWER_PASSWORD"):
        env.pop(name, None)
    flower = spawn("flower", hand_started_flower_argv(free_port()), env, tmp_path)
    try:
        assert flower.popen.wait(timeout=60) == 2
    finally:
        flower.kill()
    assert "JOBCAST_FLOWER_PASSWORD is not set" in flower.output()
