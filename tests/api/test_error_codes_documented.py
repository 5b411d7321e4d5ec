"""README.md's error codes and the api's stay in step: every code a route declares is documented,
with the status the route gives it, and every code README's Errors table lists is one the api
can answer with."""

from __future__ import annotations

import re
from pathlib import Path

from api.openapi_errors import CODES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
#: README's wording over one line, as a reader sees it (its sentences wrap anywhere).
README_TEXT = " ".join(README.split())


def errors_table() -> dict[str, int]:
    """The code -> status of each row of README's `### Errors` table."""
    section = README.split("### Errors", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \| (\d{3}) \|", section, re.MULTILINE)
    return {code: int(status) for codes, status in rows for code in re.findall(r"`(\w+)`", codes)}


def statuses_said() -> set[tuple[int, str]]:
    """Every `<status> `code`` README writes, such as "409 `already_finished`"."""
    return {(int(status), code) for status, code in re.findall(r"\b([45]\d\d) `(\w+)`", README)}


def api_source() -> str:
    return "\n".join(path.read_text() for path in sorted((ROOT / "api").rglob("*.py")))


def test_every_code_a_route_declares_is_in_the_readme() -> None:
    undocumented = [code for code in CODES if f"`{code}`" not in README_TEXT]
    assert not undocumented, f"README.md names none of these error codes: {undocumented}"


def test_the_readme_gives_each_code_the_status_the_api_answers_it_with() -> None:
    said = set(errors_table().items()) | {(code, status) for status, code in statuses_said()}
    wrong = sorted(
        (code, status) for code, status in said if code in CODES and CODES[code][0] != status
    )
    assert not wrong, f"README.md gives these codes another status than the api: {wrong}"


def test_every_code_of_the_readme_errors_table_is_one_the_api_answers_with() -> None:
    source = api_source()
    table = errors_table()
    assert len(table) >= 20, "README's Errors table was not found"
    given = [code for code in table if code in CODES or f'"{code}"' in source]
    assert given == list(table), f"no api module answers {sorted(set(table) - set(given))}"
