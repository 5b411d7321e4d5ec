"""`python -m workers` starts the worker `celery -A workers.app worker` starts, for the flags
`jobcast up`, the tests and the README give, and a worker it starts serves as one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from celery import Celery

import celeryconfig
from jobcast.settings import Settings
from tests.conftest import await_consuming
from tests.support.processes import REPO_ROOT, process_env, running, spawn, worker_argv

FLAGS = [
    [],
    ["-Q", "orders", "-n", "orders.abc123@%h", "--concurrency", "3", "--loglevel", "INFO",
     "--without-gossip", "--without-mingle"],
    ["-Q", "files,orders", "-n", "w@example", "-c", "auto", "-l", "debug", "-P", "solo",
     "-f", "/tmp/%n.log", "--without-heartbeat", "-I", "tests.workers.sample_tasks"],
    ["--queues", "files", "--hostname", "plain", "--pool", "threads", "--logfile", "w.log"],
]  # fmt: skip


def handed(settings: Settings, which: str, flags: list[str]) -> dict[str, object]:
    argv = [sys.executable, "-m", "tests.workers.worker_options_probe", which, *flags]
    env = process_env(settings, {"NO_COLOR": "1"} if "plain" in flags else None)
    ended = subprocess.run(
        argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert ended.returncode == 0, ended.stderr
    return dict(json.loads(ended.stdout.splitlines()[-1]))


@pytest.mark.parametrize("flags", FLAGS, ids=lambda flags: " ".join(flags) or "none")
def test_the_worker_is_handed_what_celerys_worker_command_hands_it(
    settings: Settings, flags: list[str]
) -> None:
    assert handed(settings, "ours", flags) == handed(settings, "celery", flags)


def test_a_bad_flag_ends_the_start_at_once_with_exit_2(settings: Settings) -> None:
    argv = [sys.executable, "-m", "workers", "--concurrency", "many"]
    ended = subprocess.run(
        argv, cwd=REPO_ROOT, env=process_env(settings), capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert ended.returncode == 2
    assert "many" in ended.stderr.splitlines()[-1]


def test_a_started_worker_answers_remote_control_and_stops_on_sigterm(
    settings: Settings, tmp_path: Path, redis_client: redis.Redis
) -> None:
    proc = spawn("ours", worker_argv("orders", 1, [], "ours"), process_env(settings), tmp_path)
    with running([proc]):
        await_consuming(proc, redis_client, "orders")
        app = Celery("probe", config_source=celeryconfig.config_for(settings))
        replies = app.control.inspect(timeout=5.0, limit=1).active_queues() or {}
        ((node, queues),) = replies.items()
        assert node.startswith("ours@")
        assert [queue["name"] for queue in queues] == ["orders"]
        proc.stop(grace=20)
        assert proc.popen.returncode == 0
    log = proc.output()
    assert "Warm shutdown" in log or "warm shutdown" in log.lower(), log[-2000:]
