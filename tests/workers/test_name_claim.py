"""A worker's `-n` name is one live worker's at a time: a second worker started under a name a
live worker holds refuses to start; a worker killed and started again under its name starts."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import redis

from jobcast.process_marks import process_mark
from jobcast.settings import Settings
from tests.conftest import StartWorker
from tests.support.processes import Proc, process_env, spawn, wait_for, worker_argv
from workers.name_claim import claim, own_mark, refusal

HOST = socket.gethostname()

#: Long enough that a killed worker's claim on its name is still fresh when it starts again:
#: the restart must not wait for the claim to age out.
SLOW_BEATS = {"JOBCAST_WORKER_HEARTBEAT_INTERVAL": "10"}


def spawn_named(settings: Settings, workdir: Path, name: str, label: str) -> Proc:
    argv = worker_argv("orders", 1, [], name)
    return spawn(label, argv, process_env(settings, SLOW_BEATS), workdir)


def exit_code(proc: Proc, timeout: float = 60) -> int:
    wait_for(lambda: proc.popen.poll() is not None, timeout, f"{proc.name} to exit", None)
    return proc.popen.returncode


def refusal_line(proc: Proc) -> str:
    lines = [line for line in proc.output().splitlines() if "is taken" in line]
    assert len(lines) == 1, proc.output()[-4000:]
    return lines[0]


def test_second_worker_under_a_live_workers_name_refuses_to_start(
    settings: Settings, tmp_path: Path, start_worker: StartWorker
) -> None:
    first = start_worker(queues="orders", name="twin", env=SLOW_BEATS)
    second = spawn_named(settings, tmp_path, "twin", "twin-second")
    try:
        assert exit_code(second) != 0
    finally:
        second.kill()
    line = refusal_line(second)
    assert f"twin@{socket.gethostname()}" in line
    assert f"pid {first.popen.pid} on {socket.gethostname()}" in line
    assert "-n" in line
    assert first.popen.poll() is None  # the worker that holds the name runs on


def test_worker_killed_and_started_again_under_its_name_starts(
    start_worker: StartWorker,
) -> None:
    first = start_worker(queues="orders", name="phoenix", env=SLOW_BEATS)
    first.kill()  # kill -9: its claim on the name stays in Redis, fresh
    again = start_worker(queues="orders", name="phoenix", env=SLOW_BEATS)
    assert again.popen.poll() is None


def test_two_workers_started_at_once_under_one_name_leave_one_running(
    settings: Settings, tmp_path: Path
) -> None:
    procs = [spawn_named(settings, tmp_path, "race", f"race-{n}") for n in (1, 2)]
    try:
        wait_for(lambda: any(p.popen.poll() is not None for p in procs), 60, "one to exit")
        refused = [p for p in procs if p.popen.poll() is not None]
        assert len(refused) == 1
        assert refused[0].popen.returncode != 0
        survivor = next(p for p in procs if p is not refused[0])
        assert f"pid {survivor.popen.pid} " in refusal_line(refused[0])
    finally:
        for proc in procs:
            proc.kill()


def test_claim_of_a_dead_process_on_this_host_is_taken_over(redis_client: redis.Redis) -> None:
    dead = process_mark(HOST, os.getpid(), 1.0, "name")  # this pid, another start: not running
    assert claim(redis_client, "w@h", dead, 60_000) is None
    assert claim(redis_client, "w@h", own_mark(), 60_000) is None


def test_claim_of_a_live_process_or_another_host_is_refused(redis_client: redis.Redis) -> None:
    elsewhere = process_mark("another-host", 7, 1.0, "name")  # cannot be judged: live
    assert claim(redis_client, "w@a", elsewhere, 60_000) is None
    assert claim(redis_client, "w@a", own_mark(), 60_000) == elsewhere
    assert claim(redis_client, "w@b", own_mark(), 60_000) is None
    assert claim(redis_client, "w@b", process_mark(HOST, 1, 1.0, "name"), 60_000) == own_mark()


def test_refusal_names_the_name_its_holder_and_another_name() -> None:
    line = refusal("files2@box", process_mark("box", 42, 1.0, "name"), 6.0)
    assert line == (
        "worker name files2@box is taken: a live worker holds it (pid 42 on box); start this one "
        "under another name with -n (e.g. -n files22@%h), or stop that one first (a worker "
        "silent for 6 s counts as gone)"
    )
