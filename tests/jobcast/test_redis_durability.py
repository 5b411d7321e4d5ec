"""A Redis that evicts keys is refused at every start, saying what to set; one that keeps nothing
across a restart, or will not say, is a warning. Unit tests of the verdict, then real processes
(an api, a worker, `jobcast up`) on a real Redis of the test's own."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from redis.exceptions import NoPermissionError

from jobcast.embedded_redis import free_port
from jobcast.launcher import _require_keeping_redis
from jobcast.redis_durability import RedisDurability, from_answers, judge
from jobcast.settings import Settings
from tests.conftest import launch_api
from tests.jobcast.test_launcher import jobcast, user_env
from tests.support.processes import api_argv, process_env, spawn, wait_for, worker_argv
from tests.support.stack import start_private_redis

KEPT = RedisDurability(policy="noeviction", aof=True, save="")
SAY_HOW = "CONFIG SET maxmemory-policy noeviction"


def test_noeviction_with_aof_is_neither_refused_nor_warned_of() -> None:
    assert judge(KEPT, eviction_accepted=False).refusal is None
    assert judge(KEPT, eviction_accepted=False).warnings == ()


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lru", "allkeys-random"])
def test_every_evicting_policy_is_refused_naming_it_and_what_to_set(policy: str) -> None:
    verdict = judge(RedisDurability(policy=policy, aof=True, save=""), eviction_accepted=False)
    assert verdict.refusal is not None
    assert f"maxmemory-policy {policy}" in verdict.refusal
    assert SAY_HOW in verdict.refusal
    assert "redis.conf line `maxmemory-policy noeviction`" in verdict.refusal


def test_an_accepted_evicting_policy_is_a_warning() -> None:
    verdict = judge(RedisDurability("allkeys-lru", True, ""), eviction_accepted=True)
    assert verdict.refusal is None
    assert len(verdict.warnings) == 1
    assert "allkeys-lru" in verdict.warnings[0]


@pytest.mark.parametrize(
    ("aof", "save", "warned"),
    [(True, "", False), (False, "3600 1", False), (False, "", True), (False, None, True)],
)
def test_persistence_off_or_unknown_is_a_warning_never_a_refusal(
    aof: bool, save: str | None, warned: bool
) -> None:
    verdict = judge(RedisDurability("noeviction", aof, save), eviction_accepted=False)
    assert verdict.refusal is None
    assert len(verdict.warnings) == (1 if warned else 0)
    if save is None:
        assert verdict.warnings[0].startswith("could not check whether Redis persists its data")


def test_a_redis_that_will_not_say_its_policy_is_one_warning_naming_the_refusal() -> None:
    refused = NoPermissionError("NOPERM this user has no permissions to run the 'info' command")
    found = from_answers(refused, refused, refused)
    verdict = judge(found, eviction_accepted=False)
    assert verdict.refusal is None
    assert len(verdict.warnings) == 1
    assert (
        "could not check Redis's maxmemory-policy nor whether Redis persists" in verdict.warnings[0]
    )
    assert "NOPERM" in verdict.warnings[0]


def test_answers_are_read_as_redis_gives_them() -> None:
    found = from_answers(
        {"maxmemory_policy": "allkeys-lru"}, {"aof_enabled": 0}, {"save": "3600 1"}
    )
    assert found == RedisDurability("allkeys-lru", False, "3600 1")


# Real processes on a Redis of the test's own (never the session's, which others share).


@pytest.fixture
def private(tmp_path: Path) -> Iterator[tuple[redis.Redis, Settings]]:
    _, proc, settings = start_private_redis(tmp_path)
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    try:
        yield client, settings
    finally:
        client.close()
        proc.kill()
        proc.wait()


def test_an_api_and_a_worker_refuse_an_evicting_redis_and_start_on_noeviction(
    private: tuple[redis.Redis, Settings], tmp_path: Path
) -> None:
    client, settings = private
    client.config_set("maxmemory-policy", "allkeys-lru")
    env = process_env(settings)
    api = spawn("evicting-api", api_argv(free_port()), env, tmp_path)
    worker = spawn("evicting-worker", worker_argv("orders", 1, [], "evicting"), env, tmp_path)
    try:
        assert api.popen.wait(timeout=60) != 0
        assert worker.popen.wait(timeout=60) == 1
    finally:
        api.kill()
        worker.kill()
    for proc in (api, worker):
        assert "maxmemory-policy allkeys-lru" in proc.output(), proc.output()
        assert SAY_HOW in proc.output()
        assert "Traceback" not in proc.output()

    client.config_set("maxmemory-policy", "noeviction")
    started, _ = launch_api(settings, tmp_path)
    try:
        # The test's Redis keeps nothing (no AOF, no save points): said, not refused.
        wait_for(lambda: "Redis persists nothing" in started.output(), 10, "warning", started)
        assert "maxmemory-policy" not in started.output()
    finally:
        started.kill()


def test_readyz_reports_a_policy_set_after_the_start_unless_accepted(
    private: tuple[redis.Redis, Settings], tmp_path: Path
) -> None:
    client, settings = private
    api, url = launch_api(settings, tmp_path)
    try:
        client.config_set("maxmemory-policy", "allkeys-lru")
        answer = httpx.get(f"{url}/readyz")
        assert answer.status_code == 503
        assert "maxmemory-policy allkeys-lru" in answer.json()["error"]["message"]
    finally:
        api.kill()
    accepting, url = launch_api(settings, tmp_path, {"JOBCAST_REDIS_EVICTION_ACCEPTED": "true"})
    try:
        assert "maxmemory-policy" not in httpx.get(f"{url}/readyz").text
        assert "Accepted: JOBCAST_REDIS_EVICTION_ACCEPTED is set" in accepting.output()
    finally:
        accepting.kill()


def test_an_api_on_a_redis_that_will_not_say_warns_once_and_starts(
    private: tuple[redis.Redis, Settings], tmp_path: Path
) -> None:
    client, settings = private
    password = secrets.token_hex(8)
    # A managed Redis's user: CONFIG and INFO refused.
    client.acl_setuser(
        "limited",
        enabled=True,
        passwords=[f"+{password}"],
        keys=["*"],
        channels=["*"],
        commands=["+@all", "-config", "-info"],
    )
    port = int(settings.broker_url.rsplit(":", 1)[1].split("/")[0])
    limited = settings.replace(redis_url=f"redis://limited:{password}@127.0.0.1:{port}/0")
    api, _ = launch_api(limited, tmp_path)
    try:
        said = "could not check Redis's maxmemory-policy nor whether Redis persists its data"
        wait_for(lambda: said in api.output(), 10, "warning", api)
        assert api.output().count(said) == 1
        assert "no permissions to run the 'info' command" in api.output()
    finally:
        api.kill()


def test_up_refuses_an_evicting_redis_before_it_writes_anything(
    private: tuple[redis.Redis, Settings], tmp_path: Path
) -> None:
    client, settings = private
    client.config_set("maxmemory-policy", "volatile-lru")
    ports = ("--api-port", str(free_port()), "--flower-port", str(free_port()))
    project = tmp_path / "project"
    project.mkdir()
    env = {**user_env(), "JOBCAST_REDIS_URL": settings.broker_url}
    refused = jobcast("up", *ports, cwd=project, env=env)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    said = " ".join(refused.stderr.split())
    assert "jobcast error: Redis evicts keys when full (maxmemory-policy volatile-lru)" in said
    assert SAY_HOW in said
    assert not (project / "var").exists()


def test_up_lets_a_noeviction_redis_pass_saying_it_persists_nothing(
    private: tuple[redis.Redis, Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    _, settings = private
    _require_keeping_redis(settings)  # the check `jobcast up` makes before it starts anything
    assert "jobcast warning: Redis persists nothing" in capsys.readouterr().err
