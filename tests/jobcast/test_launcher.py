"""`jobcast up` brings the whole stack up and takes all of it down again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from jobcast.embedded_redis import free_port
from tests.support.processes import REPO_ROOT, wait_for

pytestmark = pytest.mark.slow


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_up_serves_ready_api_and_authenticated_flower_then_stops_every_child(
    tmp_path: Path,
) -> None:
    api_port, flower_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
    env |= {"JOBCAST_DATA_DIR": str(tmp_path / "var"), "PYTHONPATH": str(REPO_ROOT)}
    argv = [sys.executable, "-m", "jobcast", "up", "--api-port", str(api_port),
            "--flower-port", str(flower_port)]  # fmt: skip
    out = tmp_path / "launcher.out"
    with out.open("wb") as sink:
        launcher = subprocess.Popen(
            argv, env=env, cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: "Jobcast is up" in out.read_text(), 90, "the launcher's announcement")
        assert _ready(f"http://127.0.0.1:{api_port}/readyz")
        children = psutil.Process(launcher.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "redis-server" in names
        assert "celery" in names
        assert "uvicorn" in names

        password = json.loads((tmp_path / "var" / "dev-secrets.json").read_text())[
            "flower_password"
        ]
        flower = f"http://127.0.0.1:{flower_port}/"
        assert httpx.get(flower, timeout=5).status_code == 401
        assert httpx.get(flower, auth=("admin", password), timeout=5).status_code == 200

        started = time.monotonic()
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=15)
        assert time.monotonic() - started < 10.5
        _, alive = psutil.wait_procs(children, timeout=1)
        assert alive == [], f"left behind: {[p.pid for p in alive]}"
    finally:
        if launcher.poll() is None:
            launcher.kill()
        print(out.read_text())


def test_a_dying_child_is_named_with_its_last_log_lines_and_the_rest_are_stopped(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
    env |= {"JOBCAST_DATA_DIR": str(tmp_path / "var"), "PYTHONPATH": str(REPO_ROOT)}
    argv = [sys.executable, "-m", "jobcast", "up", "--api-port", str(free_port()),
            "--flower-port", str(free_port())]  # fmt: skip
    out = tmp_path / "launcher.out"
    with out.open("wb") as sink:
        launcher = subprocess.Popen(
            argv, env=env, cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: "Jobcast is up" in out.read_text(), 90, "the launcher's announcement")
        children = psutil.Process(launcher.pid).children(recursive=True)
        flower = next(c for c in children if "flower" in c.cmdline())

        flower.kill()

        assert launcher.wait(timeout=15) == 1
        _, alive = psutil.wait_procs(children, timeout=1)
        assert alive == []
        report = out.read_text()
        assert "flower exited with code" in report
        assert "Last lines of" in report
    finally:
        if launcher.poll() is None:
            launcher.kill()
