"""The api commands the README and docker-compose.yml give to copy carry every flag the launcher
gives its own api: a hand-added api without one behaved differently (it sent `server: uvicorn`
when README's recipes lacked `--no-server-header`)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from jobcast.launcher import Stack, UpOptions
from jobcast.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
#: Where each copy runs: its own address, port and process count.
PLACED = {"--host", "--port", "--workers"}


def launcher_flags() -> set[str]:
    settings = Settings(_env_file=None, dev=True, redis_url="redis://127.0.0.1:1/0")  # type: ignore[call-arg]
    argv = Stack(settings, UpOptions())._api_argv()
    return {arg for arg in argv if arg.startswith("--")} - PLACED


def readme_api_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash)\n(.*?)```", text, re.S)
    commands = [b.replace("\\\n", " ") for b in blocks if "api.app:create_app" in b]
    assert len(commands) >= 2, "README's scale-out api commands were not found"
    return commands


def test_readmes_api_commands_leave_out_no_flag_the_launcher_gives() -> None:
    wanted = launcher_flags()
    for command in readme_api_commands():
        assert wanted <= set(command.split()), (wanted - set(command.split()), command)


def test_the_compose_api_leaves_out_no_flag_the_launcher_gives() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = set(compose["services"]["api"]["command"])
    assert launcher_flags() <= command, launcher_flags() - command
