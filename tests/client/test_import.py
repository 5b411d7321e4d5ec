"""The client stays light: importing it pulls in no server-side code."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

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


def test_ctrl_c_while_the_command_loads_exits_130_without_a_traceback() -> None:
    # Half a second of every run is importing; Ctrl-C then printed a KeyboardInterrupt traceback.
    # The child says when it has the entry point, as the console script imports it (a signal
    # before that, while Python itself starts, ends any program the same way; at load 27 a
    # signal 50 ms after the interpreter was up landed in the entry module's own imports),
    # then runs the command as its script does.
    run = "import sys; sys.argv = ['jobcast', '--help']; from jobcast.entry import main; "
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
    time.sleep(0.05)  # into the imports, which take about 0.5 s
    started.send_signal(signal.SIGINT)
    _, err = started.communicate(timeout=30)
    assert started.returncode == 130, err
    assert b"Traceback" not in err
