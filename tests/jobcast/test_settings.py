"""One Settings object: secrets refused outside dev mode, README table in sync."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from jobcast import settings_table
from jobcast.embedded_redis import free_port
from jobcast.settings import InsecureSettingsError, Settings
from tests.support.processes import REPO_ROOT, api_argv, worker_argv

README = Path(__file__).resolve().parents[2] / "README.md"


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_production_start_refuses_missing_secret_and_names_the_variable() -> None:
    settings = make(dev=False, key_secret="k" * 20)
    with pytest.raises(InsecureSettingsError, match="JOBCAST_FLOWER_PASSWORD"):
        settings.require_secrets()


def test_every_missing_secret_is_named_at_once() -> None:
    # `jobcast up --no-dev` named one per try: the Flower password, then the next.
    with pytest.raises(InsecureSettingsError) as refused:
        make(dev=False).require_secrets(("redis_password",))
    assert str(refused.value).startswith(
        "JOBCAST_FLOWER_PASSWORD, JOBCAST_KEY_SECRET, JOBCAST_REDIS_PASSWORD are not set."
    )


def test_dev_mode_accepts_missing_secrets() -> None:
    make(dev=True).require_secrets()


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBCAST_API_PORT", "9123")
    monkeypatch.setenv("JOBCAST_CORS_ORIGINS", '["https://app.example"]')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.api_port == 9123
    assert settings.cors_origins == ["https://app.example"]


def test_soft_time_limit_must_be_below_hard_limit() -> None:
    with pytest.raises(ValidationError, match="JOBCAST_JOB_SOFT_TIME_LIMIT"):
        make(job_soft_time_limit=100, job_time_limit=100)


def test_a_send_queue_must_hold_the_largest_job_snapshot() -> None:
    mib = 1024**2
    with pytest.raises(ValidationError, match="JOBCAST_WS_SEND_QUEUE_BYTES"):
        make(job_max_result_bytes=64 * mib, ws_send_queue_bytes=32 * mib)
    fits = make(job_max_result_bytes=16 * mib, max_json_body_bytes=mib)
    assert fits.ws_send_queue_bytes >= fits.largest_snapshot_bytes == 19 * mib


def test_a_principal_budget_must_hold_one_full_send_queue() -> None:
    mib = 1024**2
    with pytest.raises(ValidationError, match="JOBCAST_WS_SEND_QUEUE_BYTES_PER_PRINCIPAL"):
        make(ws_send_queue_bytes=32 * mib, ws_send_queue_bytes_per_principal=31 * mib)
    fits = make(ws_send_queue_bytes=32 * mib, ws_send_queue_bytes_per_principal=32 * mib)
    assert fits.ws_send_queue_bytes_per_principal == 32 * mib
    # By default a tenant that stops reading on all its sockets holds a few full queues, not
    # one per socket (100 x 32 MiB).
    defaults = make()
    assert defaults.ws_send_queue_bytes <= defaults.ws_send_queue_bytes_per_principal
    assert defaults.ws_send_queue_bytes_per_principal <= 256 * mib


def test_visibility_timeout_outlasts_the_hard_time_limit() -> None:
    settings = make(job_time_limit=1000, job_soft_time_limit=900)
    assert settings.visibility_timeout > settings.job_time_limit


def test_readme_configuration_table_matches_settings() -> None:
    assert settings_table.markdown() in README.read_text(), (
        "README.md's configuration table is stale: run `jobcast settings-table` and paste it"
    )


def test_the_settings_table_command_prints_the_readmes_table() -> None:
    """As a user runs it (a subprocess): its output is the table README.md carries."""
    printed = subprocess.run(
        [sys.executable, "-m", "jobcast", "settings-table"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert printed.strip() == settings_table.markdown().strip()
    assert printed.strip() in README.read_text()


@pytest.mark.parametrize("part", ["api", "worker", "up"])
def test_a_hand_started_process_refuses_a_bad_setting_in_one_line(
    part: str, tmp_path: Path
) -> None:
    """The README's scale-out commands, run with a setting at fault: the process ends at once
    (exit 2) naming the variable in the very line `jobcast up` prints, not under pydantic's
    traceback (they printed `jobcast:` and `jobcast error:`, and README gave one of them)."""
    argvs = {
        "api": lambda: api_argv(free_port()),
        "worker": lambda: worker_argv("files", 1, [], "bad"),
        "up": lambda: [sys.executable, "-m", "jobcast", "up"],
    }
    argv = argvs[part]()
    env = {
        **os.environ,
        "JOBCAST_RATE_ORDERS_BURST": "abc",
        "JOBCAST_DATA_DIR": str(tmp_path),
    }
    ended = subprocess.run(
        argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert ended.returncode == 2, ended.stderr
    assert "Traceback" not in ended.stderr
    assert ended.stderr.strip().splitlines()[-1] == (
        "jobcast error: JOBCAST_RATE_ORDERS_BURST: Input should be a valid integer, unable to "
        "parse string as an integer (got 'abc')."
    )


@pytest.mark.parametrize("part", ["api", "worker", "up", "keys"])
def test_a_malformed_redis_url_is_refused_in_one_line_without_its_password(
    part: str, tmp_path: Path
) -> None:
    """A JOBCAST_REDIS_URL no Redis client can read: every process ends at once (exit 2) naming
    the variable and what is wrong, the password masked. The api died under a 70-line traceback
    with exit 3 (a foreign key secret's), a worker on Celery's `no attribute
    'RedisBackend+notaurl'`, `jobcast up` and `jobcast keys` on a traceback, exit 1."""
    argvs = {
        "api": lambda: api_argv(free_port()),
        "worker": lambda: worker_argv("orders", 1, [], "badurl"),
        "up": lambda: [sys.executable, "-m", "jobcast", "up", "--no-dev"],
        "keys": lambda: [sys.executable, "-m", "jobcast", "keys", "create", "--name", "q"],
    }
    env = {
        **os.environ,
        "JOBCAST_REDIS_URL": "redis://:s3cret@127.0.0.1:26437/x",
        "JOBCAST_DATA_DIR": str(tmp_path),
        "JOBCAST_KEY_SECRET": "k" * 32,
        "JOBCAST_FLOWER_PASSWORD": "f" * 16,
    }
    ended = subprocess.run(
        argvs[part](), cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert ended.returncode == 2, ended.stderr
    assert "Traceback" not in ended.stderr
    assert "s3cret" not in ended.stderr + ended.stdout
    assert ended.stderr.strip().splitlines()[-1] == (
        "jobcast error: JOBCAST_REDIS_URL: its database ('x', after the host) is not a number "
        "(got 'redis://:***@127.0.0.1:26437/x')."
    )
