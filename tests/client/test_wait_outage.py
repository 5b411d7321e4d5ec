"""A wait across an api outage (the api process stopped, then started again on its port): it
keeps trying until the job ends or its own timeout passes, and says when the api went and
came back."""

from __future__ import annotations

import threading
from pathlib import Path

from jobcast.client import Client
from tests.client.conftest import ClientStack
from tests.client.support import write_table

#: Longer than a wait survived before: its polls gave up once one request's retries ran out
#: (4 retries, 3.75 to 7.5 s with their jitter).
OUTAGE = 12.0
ROWS = 150_000


def test_wait_rides_out_an_api_outage_and_says_when_it_went_and_came_back(
    stack: ClientStack, tmp_path: Path
) -> None:
    data = write_table(tmp_path / "data.csv", ROWS)
    restarts: list[threading.Thread] = []
    reachable: list[bool] = []

    def on_progress(_: object) -> None:
        if not restarts:  # the job is running: stop the api under the wait
            restarts.append(stack.stop_api_for(OUTAGE))

    with Client(stack.url, stack.key) as client:
        job = client.submit_file(data)
        result = client.wait(
            job.id, timeout=120, on_progress=on_progress, on_reachable=reachable.append
        )
    restarts[0].join()
    assert result.rows == ROWS
    assert reachable == [False, True]
