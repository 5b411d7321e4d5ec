"""Which server a command asks, with which key, and what its errors say about both: run as a
user runs them, in their own process, from a directory of their own (HOME too, so their saved
login is a file of the test's), against the real api of the client stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from jobcast.embedded_redis import free_port
from tests.client.conftest import ClientStack

WRONG_KEY = "jc_0_wrong"


@dataclass
class User:
    """A user's HOME (where `jobcast login` saves) and the directory they run commands from."""

    home: Path
    here: Path

    @property
    def saved_login(self) -> Path:
        return self.home / ".config" / "jobcast" / "config.json"

    def save_login(self, url: str, key: str) -> None:
        self.saved_login.parent.mkdir(parents=True, exist_ok=True)
        self.saved_login.write_text(json.dumps({"url": url, "api_key": key}))

    def stack_running_here(self, url: str) -> None:
        """What `jobcast up` run from here leaves while it runs."""
        (self.here / "var").mkdir(exist_ok=True)
        (self.here / "var" / "api.url").write_text(url)

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """The command run once: with nothing answering, what it says after its retries is the
        same, only ~4-8 s later (`JOBCAST_MAX_RETRIES` unset)."""
        mine = {k: v for k, v in os.environ.items() if not k.startswith(("JOBCAST_", "XDG_"))}
        once = {"JOBCAST_MAX_RETRIES": "0"}
        return subprocess.run(
            [sys.executable, "-m", "jobcast", *args],
            env={**mine, "HOME": str(self.home), "COLUMNS": "300", **once, **env},
            cwd=self.here,
            capture_output=True,
            text=True,
            timeout=60,
        )


def a_user(tmp_path: Path) -> User:
    user = User(tmp_path / "home", tmp_path / "checkout")
    user.home.mkdir()
    user.here.mkdir()
    return user


def nowhere() -> str:
    return f"http://127.0.0.1:{free_port()}"


def said(done: subprocess.CompletedProcess[str]) -> str:
    return " ".join(done.stderr.split())


def test_a_key_from_the_environment_goes_to_the_stack_running_here_not_an_old_login(
    stack: ClientStack, tmp_path: Path
) -> None:
    # It went to the address of a login saved with another key, elsewhere: "invalid_key" there
    # (here: nothing answering), though the key was this stack's.
    user = a_user(tmp_path)
    user.save_login(nowhere(), "jc_saved_elsewhere")
    user.stack_running_here(stack.url)
    done = user.run("whoami", "--json", JOBCAST_API_KEY=stack.key)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == stack.principal_id


def test_a_saved_login_is_used_whole_even_with_a_stack_running_here(
    stack: ClientStack, tmp_path: Path
) -> None:
    user = a_user(tmp_path)
    user.save_login(stack.url, stack.key)
    user.stack_running_here(nowhere())
    done = user.run("whoami", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == stack.principal_id
    # The key saved given in the environment too is still the login's.
    assert user.run("whoami", JOBCAST_API_KEY=stack.key).returncode == 0


def test_a_refused_key_names_the_address_asked_where_it_came_from_and_the_mix(
    stack: ClientStack, tmp_path: Path
) -> None:
    # It said only "error invalid_key: The API key is unknown or revoked.": not which server
    # was asked, nor that the key and the address came from two places.
    user = a_user(tmp_path)
    other_key, _ = stack.new_key("saved-elsewhere")
    user.save_login(stack.url, other_key)
    done = user.run("whoami", JOBCAST_API_KEY=WRONG_KEY)
    assert done.returncode == 4, done.stderr
    assert said(done).startswith("error invalid_key: The API key is unknown or revoked.")
    assert said(done).endswith(
        f"asked {stack.url} (the login `jobcast login` saved in {user.saved_login}); the key "
        "came from JOBCAST_API_KEY, the address from a login saved with another key: set "
        "JOBCAST_URL to the key's server, or unset JOBCAST_API_KEY to use the saved login."
    )
    as_json = user.run("whoami", "--json", JOBCAST_API_KEY=WRONG_KEY)
    assert as_json.returncode == 4
    assert json.loads(as_json.stdout)["error"]["asked"] == {
        "url": stack.url,
        "url_from": f"the login `jobcast login` saved in {user.saved_login}",
        "key_from": "JOBCAST_API_KEY",
        "hint": "the key came from JOBCAST_API_KEY, the address from a login saved with another "
        "key: set JOBCAST_URL to the key's server, or unset JOBCAST_API_KEY to use the saved "
        "login.",
    }


def test_a_saved_key_is_never_sent_to_another_address(tmp_path: Path) -> None:
    # It was: whatever answered at JOBCAST_URL got the key saved for another server.
    user = a_user(tmp_path)
    saved_for, other = nowhere(), nowhere()
    user.save_login(saved_for, WRONG_KEY)

    done = user.run("jobs", "ls", JOBCAST_URL=other)

    # Refused before any request: nothing answers at `other`, which would be exit 5.
    assert done.returncode == 4, done.stderr
    assert said(done) == (
        f"error unauthenticated: No API key: the key `jobcast login` saved is sent only to "
        f"{saved_for}, where it was saved: set JOBCAST_API_KEY to {other}'s key, or run "
        f"`jobcast login --url {other}`."
    )


def test_a_refused_key_names_the_stack_running_here_and_where_the_key_came_from(
    stack: ClientStack, tmp_path: Path
) -> None:
    # With a good login saved, a stale key exported in the shell (the commonest 401) read only
    # "asked URL (the stack running from …)": the key's source was in --json alone.
    user = a_user(tmp_path)
    user.save_login(nowhere(), stack.key)
    user.stack_running_here(stack.url)
    done = user.run("orders", "ls", JOBCAST_API_KEY=WRONG_KEY)
    assert done.returncode == 4, done.stderr
    running = f"{user.here}: {Path('var') / 'api.url'}"
    assert said(done).endswith(
        f"asked {stack.url} (the stack running from {running}); key from JOBCAST_API_KEY"
    )


def test_a_refused_saved_key_says_it_came_from_the_saved_login(
    stack: ClientStack, tmp_path: Path
) -> None:
    user = a_user(tmp_path)
    user.save_login(stack.url, WRONG_KEY)
    done = user.run("whoami")
    assert done.returncode == 4, done.stderr
    login = f"the login `jobcast login` saved in {user.saved_login}"
    assert said(done).endswith(f"asked {stack.url} ({login}); key from {login}")


def test_nothing_answering_names_the_address_and_where_it_came_from(tmp_path: Path) -> None:
    user = a_user(tmp_path)
    elsewhere = nowhere()
    user.save_login(elsewhere, "jc_saved")
    done = user.run("market", "ls")
    assert done.returncode == 5, done.stderr
    assert said(done).endswith(
        f"asked {elsewhere} (the login `jobcast login` saved in {user.saved_login})"
    )
    assert said(done).startswith(f"error unreachable: Nothing answers at {elsewhere}")


def test_nothing_answering_says_what_to_change_by_where_the_address_came_from(
    tmp_path: Path,
) -> None:
    # Whatever its source, the hint named JOBCAST_URL as a way to give the address (already
    # set, it was the one to fix) and `jobcast up` (not the fix for a saved login's server).
    user = a_user(tmp_path)
    set_here, saved, left, local_port = nowhere(), nowhere(), nowhere(), str(free_port())

    from_env = said(user.run("jobs", "ls", JOBCAST_URL=set_here, JOBCAST_API_KEY="jc_x"))
    assert from_env.endswith(
        "JOBCAST_URL names it: start the API there, or set JOBCAST_URL to where it runs (or "
        f"unset it, for a saved login or a local `jobcast up`). asked {set_here} (JOBCAST_URL)"
    )
    local = said(user.run("jobs", "ls", JOBCAST_API_PORT=local_port, JOBCAST_API_KEY="jc_x"))
    assert local.endswith(
        "Start it with `jobcast up` (or `make run`), or give its address: `jobcast login --url "
        f"URL`, or JOBCAST_URL. asked http://127.0.0.1:{local_port} (the local api's address "
        "by JOBCAST_API_PORT; no stack running here)"
    )
    user.stack_running_here(left)
    running = said(user.run("jobs", "ls", JOBCAST_API_KEY="jc_x"))
    assert "A `jobcast up` run from here left it" in running, running
    assert "is that stack still up? Start it again with `jobcast up`" in running
    user.save_login(saved, "jc_saved")
    from_login = said(user.run("jobs", "ls"))
    assert from_login.endswith(
        "It is the address `jobcast login` saved: start the API there, or save where it runs "
        "with `jobcast login --url URL` (JOBCAST_URL overrides it). asked "
        f"{saved} (the login `jobcast login` saved in {user.saved_login})"
    )
    flag = said(user.run("login", "--url", set_here, "--key", "jc_x"))
    assert flag.endswith(
        f"Start the API there, or give where it runs with --url. asked {set_here} (--url)"
    )


def test_an_error_found_before_asking_names_no_address(tmp_path: Path) -> None:
    user = a_user(tmp_path)
    done = user.run("jobs", "ls", JOBCAST_URL=nowhere())
    assert done.returncode == 4, done.stderr
    assert "asked" not in done.stderr
    assert "No API key" in done.stderr


def test_login_refused_names_the_address_it_tried_and_how_it_was_given(
    stack: ClientStack, tmp_path: Path
) -> None:
    user = a_user(tmp_path)
    done = user.run("login", "--url", stack.url, "--key", WRONG_KEY)
    assert done.returncode == 4, done.stderr
    assert said(done).endswith(f"asked {stack.url} (--url); key from --key")
    assert not user.saved_login.exists()
