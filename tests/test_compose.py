"""Docker cannot run here, so the compose file's promises are checked by reading it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobcast.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PYTHON_SERVICES = ("api", "worker-files", "worker-orders", "flower")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return dict(compose["services"])


def test_redis_publishes_no_port_and_requires_a_password(services: dict[str, Any]) -> None:
    redis = services["redis"]
    assert "ports" not in redis
    assert "--requirepass" in redis["command"]


def test_flower_is_published_on_loopback_only_with_auth(services: dict[str, Any]) -> None:
    ports = services["flower"]["ports"]
    assert ports
    assert all(str(p).startswith("127.0.0.1:") for p in ports)
    assert "FLOWER_BASIC_AUTH" in services["flower"]["environment"]


def test_every_python_service_runs_the_same_image(services: dict[str, Any]) -> None:
    images = {services[name]["image"] for name in PYTHON_SERVICES}
    assert images == {"jobcast:latest"}
    assert all("healthcheck" in services[name] for name in (*PYTHON_SERVICES, "redis"))


def test_every_jobcast_variable_it_sets_is_a_setting(services: dict[str, Any]) -> None:
    known = {f"JOBCAST_{name.upper()}" for name in Settings.model_fields}
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\bJOBCAST_[A-Z_]+\b", text))
    assert used
    assert used <= known, used - known


def test_workers_take_their_celery_settings_from_celeryconfig(services: dict[str, Any]) -> None:
    # Prefetch and events live in celeryconfig.py; a flag here would make compose differ from
    # a worker started by hand.
    for name in ("worker-files", "worker-orders"):
        command = services[name]["command"]
        assert command[:4] == ["celery", "-A", "workers.app", "worker"]
        assert not {"--prefetch-multiplier", "-E", "--task-events"} & set(command)


def test_healthchecks_that_name_a_variable_run_in_a_shell(services: dict[str, Any]) -> None:
    # Docker runs a ["CMD", ...] test as argv with no shell, so `$HOSTNAME` reached celery as
    # those very characters: `inspect ping -d celery@$HOSTNAME` found no such worker and every
    # worker container was `unhealthy` while it served. Only CMD-SHELL expands a variable.
    for name, service in services.items():
        kind, *argv = service["healthcheck"]["test"]
        if any("$" in word for word in argv):
            assert kind == "CMD-SHELL", f"{name}: {argv} needs a shell to expand its variable"
