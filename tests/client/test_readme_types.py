"""README's Python examples and `examples/*.py` type-check as a reader's code would: `mypy
--strict` with the project's settings, so an example never teaches code a typed project rejects."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.processes import REPO_ROOT

#: mypy as `make lint` runs it (the project's settings, the pydantic plugin), strict.
MYPY = (sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "--strict")


def python_blocks() -> list[str]:
    """Every ```python block of README.md, in order."""
    readme = (REPO_ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", readme, re.S)


def warm_cache(folder: Path) -> Path:
    """A copy of `make lint`'s mypy cache (`make test` lints first), or an empty folder. Cold,
    mypy checks the client's whole import graph again: ~7 CPU-s against ~0.7. mypy checks each
    entry against its source and options, so a stale one is checked again, never trusted; a
    copy, so this test never writes to the one `make lint` keeps."""
    lint_cache = REPO_ROOT / ".mypy_cache"
    if lint_cache.is_dir():
        shutil.copytree(lint_cache, folder)
    return folder


def test_readmes_python_examples_pass_mypy_strict(tmp_path: Path) -> None:
    blocks = python_blocks()
    assert blocks, "README.md has no ```python block"
    files = []
    for number, block in enumerate(blocks):
        example = tmp_path / f"readme_example_{number}.py"
        example.write_text(block)
        files.append(str(example))
    # The examples README points to are read as a reader's code too.
    files += sorted(str(path) for path in (REPO_ROOT / "examples").glob("*.py"))
    checked = subprocess.run(
        [*MYPY, "--cache-dir", str(warm_cache(tmp_path / "mypy-cache")), *files],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
