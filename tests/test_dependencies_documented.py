"""README's "Why each dependency is there" names every dependency of pyproject.toml, and none
that is gone."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    return {re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0].lower() for spec in specs}


def documented() -> set[str]:
    section = (ROOT / "README.md").read_text().split("## Why each dependency is there", 1)[1]
    rows = re.findall(r"^\| ([^|]+) \|", section, re.MULTILINE)[1:]  # past the header
    names = (name.strip() for row in rows for name in row.removeprefix("dev:").split(","))
    return {re.sub(r"\[.*\]", "", name).lower() for name in names}


def test_the_readme_says_why_each_dependency_is_there() -> None:
    assert sorted(declared() - documented()) == []


def test_the_readme_lists_no_dependency_that_is_gone() -> None:
    assert sorted(documented() - declared()) == []
