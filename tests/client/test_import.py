"""The client stays light: importing it pulls in no server-side code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.processes import REPO_ROOT

SERVER_MODULES = ("pandas", "fastapi", "celery", "pyarrow", "starlette", "redis", "api", "workers")


def loaded_after(imports: str, modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` a fresh interpreter has loaded once it ran `import <imports>`."""
    probe = (
        f"import json, sys, {imports}; "
        f"print(json.dumps([m for m in {modules!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def test_importing_the_client_loads_no_server_code() -> None:
    assert loaded_after("jobcast.client, jobcast.client_cli", SERVER_MODULES) == []


def test_the_jobcast_command_loads_celery_only_for_the_commands_that_use_it() -> None:
    # `jobcast jobs ls` imported the launcher (Celery's config, kombu): ~0.2 s of every command.
    assert loaded_after("jobcast.cli", ("celery", "kombu", "jobcast.launcher")) == []


def test_the_jobcast_command_loads_redis_and_the_settings_only_for_keys() -> None:
    # The `keys` commands' redis-py and pydantic-settings cost every other command ~90 ms.
    modules = ("redis", "pydantic_settings", "jobcast.settings", "jobcast.keys_admin")
    assert loaded_after("jobcast.cli", modules) == []


#: What a command must not pay for unless it needs it: the server's libraries and layers, and the
#: modules of the other commands (the client's libraries, the launcher, `keys`, `settings-table`).
COMMAND_MODULES = (
    *SERVER_MODULES,
    "uvicorn",
    "kombu",
    "jobcast.launcher",
    "jobcast.settings",
    "jobcast.up_cli",
    "jobcast.keys_cli",
    "jobcast.settings_table",
    "jobcast.client",
    "jobcast.client_cli.common",
    "jobcast.schemas",
    "httpx",
    "websockets",
    "httpx._main",
    "click",
)  # not pydantic: typer itself checks option values with it, once a command is past `--help`


def loaded_running(args: list[str], modules: tuple[str, ...], **env: str) -> list[str]:
    """Which of `modules` a fresh interpreter has loaded once it ran `jobcast <args>` as the
    command's script does (its last line of output says so)."""
    probe = (
        "import json, sys\n"
        "from jobcast.entry import main\n"
        f"sys.argv = ['jobcast', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        # Loaded, not marked as one that cannot be (None: jobcast.entry marks httpx's command so)
        f"print(json.dumps([m for m in {modules!r} if sys.modules.get(m) is not None]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        timeout=60,
    )
    loaded: list[str] = json.loads(out.stdout.splitlines()[-1])
    return loaded


@pytest.mark.parametrize("args", [["--version"], ["--help"]], ids=" ".join)
def test_the_commands_overview_loads_no_command(args: list[str]) -> None:
    # `jobcast --version` imported every command's modules, the client's httpx, websockets and
    # the API's models among them: ~0.8 s of CPU before it printed a line.
    assert loaded_running(args, COMMAND_MODULES) == []


def test_a_group_help_loads_that_group_only() -> None:
    assert loaded_running(["keys", "--help"], COMMAND_MODULES) == ["jobcast.keys_cli"]


def test_a_user_command_loads_the_client_and_no_server_code(tmp_path: Path) -> None:
    # Against nothing: the command fails fast, having loaded what it runs on.
    env = {"JOBCAST_URL": "http://127.0.0.1:1", "JOBCAST_API_KEY": "jc_unused"}
    env |= {"JOBCAST_MAX_RETRIES": "0", "JOBCAST_CONFIG": str(tmp_path / "none.json")}
    loaded = loaded_running(["whoami"], COMMAND_MODULES, **env)
    client = ["jobcast.client", "jobcast.client_cli.common", "jobcast.schemas"]
    assert loaded == [*client, "httpx", "websockets"]


def test_ctrl_c_while_the_command_loads_exits_130_without_a_traceback() -> None:
    # Half a second of every run is importing; Ctrl-C then printed a KeyboardInterrupt traceback.
    # The child says when it has the entry point, as the console script imports it (a signal
    # before that, while Python itself starts, ends any program the same way; at load 27 a
    # signal 50 ms after the interpreter was up landed in the entry module's own imports),
    # then runs the command as its script does.
    run = "import sys; sys.argv = ['jobcast', 'whoami', '--help']; from jobcast.entry import main; "
    run += "print('up', flush=True); main()"
    started = subprocess.Popen(
        [sys.executable, "-c", run],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert started.stdout is not None
    assert started.stdout.readline() == b"up\n"
    # Into the imports (the command's, the client's among them, are about 0.5 s): `jobcast --help`
    # alone now loads too little to be sure of being caught loading.
    time.sleep(0.05)
    started.send_signal(signal.SIGINT)
    _, err = started.communicate(timeout=30)
    assert started.returncode == 130, err
    assert b"Traceback" not in err
