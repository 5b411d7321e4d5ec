"""`jobcast keys create` and `revoke` leave an audit line (stderr, the servers' log format; in a
terminal, a plain sentence) naming the key, its principal and who ran the command, never the
key."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import redis

from jobcast.settings import Settings
from tests.client.terminal import ANSI, run_in_terminal
from tests.support.processes import process_env


def keys(settings: Settings, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "jobcast", "keys", *args]
    env = process_env(settings)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_creating_and_revoking_a_key_from_the_shell_are_logged_without_the_key(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    created = keys(settings, tmp_path, "create", "--name", "auditor")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    key_id = key.split("_")[1]
    principal = re.findall(r"principal (p_\w+)", created.stdout)[0]
    (line,) = [x for x in created.stderr.splitlines() if "jobcast.audit" in x]
    assert re.search(
        rf" INFO jobcast\.audit: API key {key_id} created for principal {principal} "
        r"\(name 'auditor', admin False\) by \S+@\S+$",
        line,
    ), line
    assert key.split("_", 2)[2] not in created.stderr

    revoked = keys(settings, tmp_path, "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    (line,) = [x for x in revoked.stderr.splitlines() if "jobcast.audit" in x]
    assert f"API key {key_id} revoked (principal {principal}, name 'auditor') by " in line
    again = keys(settings, tmp_path, "revoke", key_id)
    assert "jobcast.audit" not in again.stderr  # nothing was revoked this time


def test_in_a_terminal_the_audit_record_is_a_plain_sentence_not_a_log_line(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # `2026-12-06 03:35:58,450 INFO jobcast.audit: API key …` read as a server's log leaking.
    argv = [sys.executable, "-m", "jobcast", "keys", "create", "--name", "onlooker"]
    code, screen = run_in_terminal(argv, process_env(settings), cwd=tmp_path)
    text = ANSI.sub("", screen)
    assert code == 0, text
    key_id, principal = re.findall(r"key id (\w+), principal (p_\w+)", text)[0]
    assert re.search(
        rf"^Audit: API key {key_id} created for principal {principal} \(name 'onlooker', "
        r"admin False\) by \S+@\S+\.\r?$",
        text,
        re.M,
    ), text
    assert "jobcast.audit" not in text
