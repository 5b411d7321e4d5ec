"""A pool process's death, told in one line: what follows each death, and what it names."""

from __future__ import annotations

import pytest

from jobcast.settings import Settings
from jobcast.task_names import DEMO_MATCH_TASK, FILE_JOB_TASK, MATCH_TASK, work_named
from workers.death_logs import what_follows


@pytest.mark.parametrize(
    ("deaths", "said"),
    [
        (1, "death 1 of 3; it runs again"),
        (3, "death 3 of 3; quarantined, it runs again in 30 s"),
        (4, "death 4, in quarantine; it runs again in 60 s"),
        (6, "death 6, the last allowed; it fails as attempts_exhausted"),
    ],
)
def test_each_death_says_what_the_attempt_cap_does_next(deaths: int, said: str) -> None:
    settings = Settings(  # type: ignore[call-arg]
        task_max_attempts=3, task_quarantine_max=3, task_quarantine_delay=30, _env_file=None
    )

    assert what_follows(deaths, settings) == said


@pytest.mark.parametrize(
    ("name", "named"),
    [
        (FILE_JOB_TASK, "file job j_1"),
        (MATCH_TASK, "matching BTC-USD (jobcast.orders.match[t1])"),
        (DEMO_MATCH_TASK, "matching BTC-USD (jobcast.demo.match[t1])"),
        ("jobcast.test.touch", "task jobcast.test.touch[t1]"),
    ],
)
def test_the_log_names_a_file_job_by_its_id_and_matching_by_its_symbol(
    name: str, named: str
) -> None:
    args = ("j_1",) if name == FILE_JOB_TASK else ("BTC-USD",)

    assert work_named(name, "t1", args) == named
