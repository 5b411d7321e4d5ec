"""The supervisor starts again a child marked `restart` that dies, up to its budget, and tells of
one the stack outlives; real processes (short Python children), no stack."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest

from jobcast.embedded_redis import EmbeddedRedis
from jobcast.supervisor import MAX_RESTARTS, Child, ChildDiedError, Supervisor, how_it_ended
from tests.support.ports import port_held
from tests.support.processes import still_running

SLEEPER = "import time; time.sleep(60)"


def child(
    tmp_path: Path, name: str, code: str, restart: bool = True, essential: bool = True
) -> Child:
    argv = [sys.executable, "-c", code]
    log = tmp_path / f"{name}.log"
    return Child(name, argv, log, lambda: True, essential=essential, restart=restart)


def test_a_child_that_dies_is_started_again_and_its_group_cleared_first(tmp_path: Path) -> None:
    told: list[tuple[str, int | None]] = []
    supervisor = Supervisor(on_restart=lambda c, code: told.append((c.name, code)))
    # A leader with a child of its own, as a worker with its pool: the leftover is killed.
    spawner = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
    spawner += f"{SLEEPER!r}]); print('up', flush=True); time.sleep(60)"
    worker = child(tmp_path, "worker", spawner)
    try:
        supervisor.start([worker], timeout=10)
        first = worker.proc
        assert first is not None
        time.sleep(0.5)
        (pool,) = psutil.Process(first.pid).children()
        first.kill()
        first.wait()

        supervisor.check_alive(restart=True)

        assert worker.running
        assert worker.proc is not first
        assert told == [("worker", -9)]
        left = still_running([pool], 5)  # orphaned, it would have slept on
        assert left == []
    finally:
        supervisor.stop_all()


def test_a_child_that_keeps_dying_ends_the_stack_saying_how_often_it_was_started(
    tmp_path: Path,
) -> None:
    supervisor = Supervisor()
    crasher = child(tmp_path, "crasher", "print('bad config', flush=True); raise SystemExit(3)")
    try:
        supervisor.children.append(crasher)
        crasher.start()
        for _ in range(MAX_RESTARTS):
            assert crasher.proc is not None
            crasher.proc.wait()
            supervisor.check_alive(restart=True)  # started again
        assert crasher.proc is not None
        crasher.proc.wait()
        with pytest.raises(ChildDiedError) as died:
            supervisor.check_alive(restart=True)
        report = str(died.value)
        assert report.startswith(f"crasher exited with code 3 (started again {MAX_RESTARTS} times)")
        assert "bad config" in report
    finally:
        supervisor.stop_all()


def test_no_restart_for_a_child_not_marked_nor_while_the_stack_starts(tmp_path: Path) -> None:
    supervisor = Supervisor()
    redis = child(tmp_path, "redis", "raise SystemExit(1)", restart=False)
    worker = child(tmp_path, "worker", "raise SystemExit(2)")
    try:
        supervisor.children.extend([redis, worker])
        for c in (redis, worker):
            c.start()
            assert c.proc is not None
            c.proc.wait()
        with pytest.raises(ChildDiedError, match="redis exited with code 1"):
            supervisor.check_alive(restart=True)
        supervisor.children.remove(redis)
        with pytest.raises(ChildDiedError, match="worker exited with code 2"):
            supervisor.check_alive()  # as while starting: a death is a failure to start
    finally:
        supervisor.stop_all()


def test_a_child_killed_by_a_signal_is_said_so_by_the_signals_name(tmp_path: Path) -> None:
    # "redis exited with code -9" left the reader to know what a negative code means.
    supervisor = Supervisor()
    redis = child(tmp_path, "redis", SLEEPER, restart=False)
    try:
        supervisor.start([redis], timeout=10)
        assert redis.proc is not None
        redis.proc.kill()
        redis.proc.wait()
        with pytest.raises(ChildDiedError) as died:
            supervisor.check_alive(restart=True)
        assert str(died.value).startswith("redis was killed by SIGKILL (signal 9). Last lines")
    finally:
        supervisor.stop_all()


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (0, "exited with code 0"),
        (3, "exited with code 3"),
        (-15, "was killed by SIGTERM (signal 15)"),
        (-9, "was killed by SIGKILL (signal 9)"),
        (-200, "was killed by signal 200"),
        (None, "exited"),
    ],
)
def test_how_a_child_ended_is_told_in_words(code: int | None, said: str) -> None:
    assert how_it_ended(code) == said


def test_a_dead_part_the_stack_outlives_is_reaped_and_told_once_not_started_again(
    tmp_path: Path,
) -> None:
    told: list[tuple[str, int | None]] = []
    supervisor = Supervisor(on_lost=lambda c, code: told.append((c.name, code)))
    node = child(tmp_path, "redis-replica", SLEEPER, restart=False, essential=False)
    try:
        supervisor.start([node], timeout=10)
        first = node.proc
        assert first is not None
        os.kill(first.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while psutil.Process(first.pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the killed child never became a zombie"
            time.sleep(0.05)

        supervisor.check_alive(restart=True)
        supervisor.check_alive(restart=True)

        assert told == [("redis-replica", -9)]  # once, however often the supervisor looks
        assert not psutil.pid_exists(first.pid)  # reaped: no zombie left until the stack stops
        assert node.proc is first  # not started again
    finally:
        supervisor.stop_all()


#: A Python server, as Flower and uvicorn are: it binds the port given and serves.
SERVER = "import socket, sys, time; socket.create_server(('127.0.0.1', int(sys.argv[1]))); "
SERVER += "time.sleep(60)"


def died_starting(server: Child) -> str:
    """What the supervisor says of `server`, which dies while the stack starts."""
    supervisor = Supervisor()
    try:
        with pytest.raises(ChildDiedError) as died:
            supervisor.start([server], timeout=30)
    finally:
        supervisor.stop_all()
    return str(died.value)


def test_a_server_whose_port_was_taken_as_it_started_is_reported_as_the_launcher_would(
    tmp_path: Path,
) -> None:
    # Free when `jobcast up` looked, taken before Flower bound it: it said "flower exited with
    # code 1" and the traceback of an OSError.
    with port_held() as port:
        argv = [sys.executable, "-c", SERVER, str(port)]
        log = tmp_path / "flower.log"
        flower = Child("flower", argv, log, lambda: False, listens_on=("127.0.0.1", port))
        said = died_starting(flower)
    assert said == (
        f"cannot listen on 127.0.0.1:{port} (flower): another program took it as flower "
        "started; stop what holds it, or choose another with JOBCAST_FLOWER_PORT or "
        f"`jobcast up --flower-port` (its log: {log})"
    )


def test_redis_whose_port_was_taken_as_it_started_names_its_port_setting(tmp_path: Path) -> None:
    with port_held() as port:
        server = EmbeddedRedis(port=port, password="p", data_dir=tmp_path / "redis")
        server.data_dir.mkdir()
        log = tmp_path / "redis.log"
        redis = Child("redis", server.command(), log, lambda: False, listens_on=("127.0.0.1", port))
        said = died_starting(redis)
    assert said.startswith(f"cannot listen on 127.0.0.1:{port} (redis): another program took")
    assert "JOBCAST_REDIS_PORT or `jobcast up --redis-port`" in said


def test_a_taken_port_in_an_earlier_runs_log_is_not_this_deaths_cause(tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    log.write_text("OSError: [Errno 98] Address already in use\n")  # the last run's end
    argv = [sys.executable, "-c", "raise SystemExit(4)"]
    api = Child("api", argv, log, lambda: False, listens_on=("127.0.0.1", 1))
    assert died_starting(api).startswith("api exited with code 4. Last lines of")


def test_a_part_the_stack_outlives_that_dies_as_it_starts_fails_the_start_at_once(
    tmp_path: Path,
) -> None:
    # An --ha Redis server that could not start was only "lost": `jobcast up` waited 60 s for
    # the group to be ready, then said "not ready after 60s" of all five.
    told: list[tuple[str, int | None]] = []
    supervisor = Supervisor(on_lost=lambda c, code: told.append((c.name, code)))
    dying = Child(
        "redis-primary",
        [sys.executable, "-c", "import sys; print('cannot start'); sys.exit(1)"],
        tmp_path / "redis-primary.log",
        lambda: False,
        essential=False,
    )
    started = time.monotonic()
    try:
        with pytest.raises(ChildDiedError) as died:
            supervisor.start([dying], timeout=30)
    finally:
        supervisor.stop_all()
    assert time.monotonic() - started < 10
    assert str(died.value).startswith("redis-primary exited with code 1. Last lines of")
    assert "cannot start" in str(died.value)
    assert told == []  # not the running stack's "if it was the primary, ..." line
