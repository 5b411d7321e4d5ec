"""A `JOBCAST_` variable no part of Jobcast reads is named, with the closest one it knows."""

from __future__ import annotations

import re
import subprocess

from jobcast.client.config import CONFIG_ENV, KEY_ENV, URL_ENV
from jobcast.unknown_settings import known_variables, unknown_variable_warnings
from tests.support.processes import REPO_ROOT

#: The unknown names the README and these tests use as examples.
MISSPELT = {"JOBCAST_LOG_LEVL", "JOBCAST_XYZZY"}


def test_a_misspelt_setting_is_named_with_the_one_meant() -> None:
    environ = {"JOBCAST_LOG_LEVL": "DEBUG", "JOBCAST_LOG_LEVEL": "INFO", "HOME": "/root"}
    assert unknown_variable_warnings(environ) == [
        "JOBCAST_LOG_LEVL is not a Jobcast setting and is ignored; did you mean JOBCAST_LOG_LEVEL?"
    ]


def test_a_name_like_none_is_named_alone() -> None:
    assert unknown_variable_warnings({"JOBCAST_XYZZY": "1"}) == [
        "JOBCAST_XYZZY is not a Jobcast setting and is ignored."
    ]


def test_settings_in_any_case_and_the_clients_variables_are_known() -> None:
    environ = {"jobcast_api_port": "8001", URL_ENV: "x", KEY_ENV: "x", CONFIG_ENV: "x"}
    assert unknown_variable_warnings(environ | {"JOBCAST_TEST_REDIS_URL": "x"}) == []


def test_every_variable_the_project_names_is_known() -> None:
    # README, compose, benchmarks and tests set these: none may be reported as unknown.
    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.md", "*.yml", "Dockerfile", "Makefile"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    named = set()
    for path in tracked:
        text = (REPO_ROOT / path).read_text(errors="replace")
        # Whole names only: `JOBCAST_RATE_{name}` and `JOBCAST_REDIS_SENTINEL*` are fragments.
        named |= set(re.findall(r"\bJOBCAST_[A-Z0-9_]*[A-Z0-9]\b(?![{*])", text))
    assert named - set(known_variables()) == MISSPELT
