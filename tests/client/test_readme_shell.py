"""README's "Use it from the shell" and "Use it from Python" sections, copied as a reader copies
them: each line a command bash runs, and the files they use made at their top."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jobcast.cli import cli
from tests.client.conftest import ClientStack
from tests.support.processes import REPO_ROOT

#: Stands in for `jobcast`: writes down its arguments (one JSON list a line) and answers as
#: `--json` does, with the id the block's `$(…)` lines read.
STAND_IN = """#!{python}
import json, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
print(json.dumps({{"id": "j_0", "job_id": "j_0"}}))
"""


def section_block(title: str, language: str) -> str:
    """The first ```language block under README's `## title`."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index(f"## {title}\n") :]
    found = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert found, f"no {language} block under {title}"
    return found.group(1)


def shell_block() -> str:
    return section_block("Use it from the shell", "sh")


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def stand_in_path(tmp_path: Path) -> tuple[str, Path]:
    """A PATH whose `jobcast` is the stand-in, and where it writes what it was given."""
    bin_dir, log = tmp_path / "bin", tmp_path / "argv.jsonl"
    bin_dir.mkdir()
    shim = bin_dir / "jobcast"
    shim.write_text(STAND_IN.format(python=sys.executable, log=str(log)))
    shim.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}", log


def run_shell_block(tmp_path: Path) -> tuple[Path, list[list[str]]]:
    """The shell section's block run in bash with the stand-in `jobcast`, in a directory of its
    own: that directory, and each `jobcast` command line it ran."""
    path, log = stand_in_path(tmp_path)
    here = tmp_path / "here"
    here.mkdir()
    done = bash(shell_block(), here, {**os.environ, "PATH": path})
    assert done.returncode == 0, done.stderr
    return here, [json.loads(line) for line in log.read_text().splitlines()]


def test_the_shell_sections_block_runs_in_bash_as_jobcast_commands(tmp_path: Path) -> None:
    # `jobcast jobs ls | show ID | cancel ID …` was grammar: bash ran `show: command not found`.
    here, given = run_shell_block(tmp_path)
    assert len(given) >= 20
    for argv in given:
        assert not any(arg.startswith("[") for arg in argv), argv  # `[--json]`: grammar
        # --help is eager: an unknown command or option is still refused (exit 2).
        known = CliRunner().invoke(cli, [*argv, "--help"], env={"COLUMNS": "200"})
        assert known.exit_code == 0, (argv, known.output)
        if argv[0] == "submit":  # what it sends, the block made first
            assert (here / argv[1]).is_file(), argv


def test_the_files_readmes_commands_write_are_ignored_by_git(tmp_path: Path) -> None:
    # Run from the checkout, the shell section left export.csv and out.parquet untracked
    # (`git status`): only /sales.csv, the quick start's, was ignored.
    here, given = run_shell_block(tmp_path)
    downloads = [argv[3] for argv in given if argv[:2] == ["jobs", "download"]]
    written = sorted({*(p.name for p in here.iterdir()), *downloads, "sales.csv"})  # + Python's
    assert {"export.csv", "out.parquet"} <= set(written), written
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *written],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert sorted(ignored.stdout.split()) == written, ignored


def test_the_files_the_shell_section_makes_read_as_its_commands_say(
    stack: ClientStack, tmp_path: Path
) -> None:
    # export.csv was used and never made; sales.csv only in the quick start.
    lines = shell_block().splitlines()
    makers = [line for line in lines if line.startswith("printf")]
    (export,) = [line for line in lines if line.startswith("jobcast submit export.csv")]
    venv_bin = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
    env = {**env, **stack.env(), "PATH": f"{venv_bin}{os.pathsep}{env['PATH']}"}
    command = shlex.split(export, comments=True)
    done = bash("\n".join([*makers, shlex.join([*command, "--json"])]), tmp_path, env)
    assert done.returncode == 0, done.stderr
    profile = json.loads(done.stdout)
    assert (profile["rows"], profile["columns"]) == (2, 2), profile  # no header row
    city, amount = profile["profile"]
    assert "Zürich" in json.dumps(city["top"], ensure_ascii=False), city  # cp1252
    assert (amount["type"], amount["mean"]) == ("float", 1.875), amount  # decimal commas


def test_the_python_section_makes_the_file_it_sends_as_the_shell_section_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = section_block("Use it from Python", "python")
    setup = code[: code.index("with Client(")]
    (tmp_path / "python").mkdir()
    monkeypatch.chdir(tmp_path / "python")
    exec(setup, {})  # the imports and the file, not the requests
    printf = [line for line in shell_block().splitlines() if "> sales.csv" in line]
    made = bash("\n".join(printf), tmp_path, dict(os.environ))
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "python" / "sales.csv").read_text() == (tmp_path / "sales.csv").read_text()
