"""The api and worker commands the README and docker-compose.yml give to copy carry every flag
the launcher gives its own: a hand-added one without one behaved differently (an api sent
`server: uvicorn` when README's recipes lacked `--no-server-header`)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from jobcast.launcher import Stack, UpOptions
from jobcast.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
#: Where each copy runs: its own address, port and process count, or pool size.
PLACED = {"--host", "--port", "--workers", "--concurrency"}


def stack(api_processes: int = 1, log_json: bool = False) -> Stack:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        dev=True,
        redis_url="redis://127.0.0.1:1/0",
        log_json=log_json,
    )
    return Stack(settings, UpOptions(api_processes=api_processes))


def flags(argv: list[str]) -> set[str]:
    return {arg for arg in argv if arg.startswith("--")} - PLACED


def launcher_flags() -> set[str]:
    return flags(stack()._api_argv())


def readme_api_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash)\n(.*?)```", text, re.S)
    commands = [b.replace("\\\n", " ") for b in blocks if "api.app:create_app" in b]
    assert len(commands) >= 2, "README's scale-out api commands were not found"
    return commands


def readme_worker_commands() -> list[str]:
    text = (ROOT / "README.md").read_text().replace("\\\n", " ")
    # In code blocks and inline code alike, up to the end of the command.
    commands = re.findall(r"celery -A workers\.app worker[^`\n]*", text)
    assert len(commands) >= 3, "README's worker commands were not found"
    return commands


def test_readmes_api_commands_leave_out_no_flag_the_launcher_gives() -> None:
    wanted = launcher_flags()
    for command in readme_api_commands():
        assert wanted <= set(command.split()), (wanted - set(command.split()), command)


def test_readme_names_each_flag_the_launcher_adds_for_several_api_processes() -> None:
    # The commands start one process; `--workers N` brings `--log-level` (and `--log-config`)
    # with it, which README's commands left out without a word.
    text = (ROOT / "README.md").read_text().replace("\n  ", " ")
    start = text.index("(the flags `jobcast up` gives, `jobcast/launcher.py`'s `_api_argv`")
    note = text[start : text.index("\n", start)]
    several = stack(api_processes=2, log_json=True)._api_argv()
    added = {arg for arg in several if arg.startswith("--")} - set(readme_api_commands()[0].split())
    assert {"--workers", "--log-level", "--log-config"} <= added
    for flag in added:
        assert f"`{flag}" in note, (flag, note)


def test_the_compose_api_leaves_out_no_flag_the_launcher_gives() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = set(compose["services"]["api"]["command"])
    assert launcher_flags() <= command, launcher_flags() - command


def test_the_images_api_leaves_out_no_flag_the_launcher_gives() -> None:
    # The image's command is a shell line (its frame size follows the environment).
    command = re.search(r'^CMD \[.*"exec (uvicorn .*)"\]$', (ROOT / "Dockerfile").read_text(), re.M)
    assert command is not None, "the Dockerfile's api command was not found"
    given = set(command.group(1).split())
    assert launcher_flags() <= given, launcher_flags() - given


def test_readmes_and_composes_workers_leave_out_no_flag_the_launcher_gives() -> None:
    wanted = flags(stack()._worker_argv("files"))
    assert {"--without-gossip", "--without-mingle"} <= wanted
    for command in readme_worker_commands():
        assert wanted <= set(command.split()), (wanted - set(command.split()), command)
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in ("worker-files", "worker-orders"):
        command = set(compose["services"][name]["command"])
        assert wanted <= command, (name, wanted - command)
