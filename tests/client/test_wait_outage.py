"""A wait across an api outage (the api process stopped, then started again on its port): it
keeps trying until the job ends or its own timeout passes, and says when the api went and
came back."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from jobcast.client import Client
from jobcast.client.retry import RetryPolicy
from tests.client.conftest import ClientStack
from tests.client.support import write_table
from tests.support.processes import wait_for

JOBCAST = [sys.executable, "-m", "jobcast"]
#: The request retries of the waits that ride out an OUTAGE (the client's, and a `jobcast submit`
#: process's through JOBCAST_MAX_RETRIES): one, 0.25 to 0.5 s after the first try. With the
#: default 4 (3.75 to 7.5 s) an outage longer than them cost 9 s a test.
RETRIES = RetryPolicy(max_retries=1)
RETRIES_ENV = {"JOBCAST_MAX_RETRIES": str(RETRIES.max_retries)}
#: Longer than a wait survived before: its polls gave up once one request's retries ran out
#: (RETRIES: 0.5 s at most, so twice that). The api's own start comes on top.
OUTAGE = 1.0
ROWS = 150_000
#: A job long enough to be running still once a `jobcast submit` process is seen to have made
#: it and the api is stopped.
LONG_ROWS = 1_500_000
#: Seconds from the api's stop to the wait saying so: its WebSocket's few quick reconnects,
#: then one poll that finds nothing. Each poll retrying on its own first (3.75 to 7.5 s) was
#: later than this.
NOTICED_WITHIN = 3.0  # under the old 3.75 s, with room for a loaded CI box
#: `--timeout` of a wait that ends in an outage (the api stays stopped until the wait ended):
#: long enough for the wait to find the api gone (NOTICED_WITHIN) after the job is seen and
#: the api stopped (a poll of the job list and a SIGTERM: 2 s left for them).
TIMEOUT_IN_OUTAGE = 5


def test_wait_rides_out_an_api_outage_and_says_when_it_went_and_came_back(
    stack: ClientStack, tmp_path: Path
) -> None:
    data = write_table(tmp_path / "data.csv", ROWS)
    restarts: list[threading.Thread] = []
    reachable: list[bool] = []

    def on_progress(_: object) -> None:
        if not restarts:  # the job is running: stop the api under the wait
            restarts.append(stack.stop_api_for(OUTAGE))

    with Client(stack.url, stack.key, retry=RETRIES) as client:
        job = client.submit_file(data)
        result = client.wait(
            job.id, timeout=120, on_progress=on_progress, on_reachable=reachable.append
        )
    restarts[0].join()
    assert result.rows == ROWS
    assert reachable == [False, True]


def test_wait_says_the_api_stopped_answering_at_its_first_failed_poll(
    stack: ClientStack, tmp_path: Path
) -> None:
    data = write_table(tmp_path / "data.csv", ROWS)
    restarts: list[threading.Thread] = []
    stopped_at: list[float] = []
    lost_after: list[float] = []
    # The api comes back once the wait said it was gone, or NOTICED_WITHIN after its stop: a
    # wait that notices only after a request's default retries (3.75 to 7.5 s) does so too
    # late or, the api back by then, not at all.
    noticed = threading.Event()

    def on_progress(_: object) -> None:
        if not restarts:  # runs on the wait's own thread: it resumes once the api is gone
            restarts.append(stack.stop_api_until(noticed, NOTICED_WITHIN))
            stopped_at.append(time.monotonic())

    def on_reachable(reachable: bool) -> None:
        if not reachable:
            lost_after.append(time.monotonic() - stopped_at[0])
            noticed.set()

    with Client(stack.url, stack.key) as client:  # the default retries, not RETRIES
        job = client.submit_file(data)
        result = client.wait(
            job.id, timeout=120, on_progress=on_progress, on_reachable=on_reachable
        )
    restarts[0].join()
    assert result.rows == ROWS
    assert len(lost_after) == 1, lost_after
    assert lost_after[0] < NOTICED_WITHIN


def _submit_waiting(
    stack: ClientStack, key: str, data: Path, *options: str
) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
    return subprocess.Popen(
        [*JOBCAST, "submit", str(data), "--wait", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, **stack.env(), "JOBCAST_API_KEY": key, **RETRIES_ENV},
    )


class _Lines:
    """A process's stderr read as it comes, on a thread: `seen` is set once a line holds `mark`."""

    def __init__(self, process: subprocess.Popen[str], mark: str) -> None:
        self.lines: list[str] = []
        self.seen = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(process, mark), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str], mark: str) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self.lines.append(line)
            if mark in line:
                self.seen.set()

    def text(self) -> str:
        """All of it, once the process has ended."""
        self._thread.join(30)
        return "".join(self.lines)


def _stop_api_once_a_job_is_there(
    stack: ClientStack, key: str, back: threading.Event, at_most: float
) -> tuple[str, threading.Thread]:
    """The job's id, and the thread that starts the api again once `back` is set (or `at_most`
    seconds passed)."""
    with Client(stack.url, key) as client:
        wait_for(lambda: any(True for _ in client.jobs()), 60, "the submitted job")
        job_id = next(iter(client.jobs())).id
    return job_id, stack.stop_api_until(back, at_most)


def test_submit_wait_goes_on_through_an_api_outage_saying_so_on_stderr(
    stack: ClientStack, tmp_path: Path
) -> None:
    key, _ = stack.new_key("outage")
    submit = _submit_waiting(stack, key, write_table(tmp_path / "data.csv", LONG_ROWS))
    # The api comes back once the wait said it was gone: a fixed 1 s outage passed unseen by a
    # `jobcast submit` starved of CPU at load 27 (no line said the api went, none came back).
    stderr = _Lines(submit, "api unreachable")
    try:
        job_id, restart = _stop_api_once_a_job_is_there(stack, key, stderr.seen, 60)
        restart.join()
        assert submit.stdout is not None
        out = submit.stdout.read()  # not communicate(): `stderr` reads the other pipe
        submit.wait(timeout=120)
    finally:
        submit.kill()
    err = stderr.text()
    assert submit.returncode == 0, err
    assert "succeeded" in out
    assert f"{LONG_ROWS:,} rows" in err
    assert err.count("api unreachable") == 1, err
    assert err.count("api answers again") == 1, err
    # One line each, as a log file keeps them: stderr not a terminal was cut at 80 columns.
    said = (
        f"api unreachable; still waiting for job {job_id}, trying again (Ctrl-C stops waiting, "
        "not the job)…"
    )
    assert said in err.splitlines(), err


def test_submit_wait_timing_out_in_an_outage_says_the_job_keeps_running(
    stack: ClientStack, tmp_path: Path
) -> None:
    key, _ = stack.new_key("outage-timeout")
    submit = _submit_waiting(
        stack,
        key,
        write_table(tmp_path / "data.csv", LONG_ROWS),
        "--timeout",
        str(TIMEOUT_IN_OUTAGE),
    )
    waited = threading.Event()
    try:
        job_id, restart = _stop_api_once_a_job_is_there(stack, key, waited, 60)
        _, err = submit.communicate(timeout=60)
        waited.set()  # the wait timed out in the outage: nothing needs the api away longer
        restart.join()
    finally:
        waited.set()
        submit.kill()
    assert submit.returncode == 6, err
    assert f"job {job_id} keeps running: follow it with `jobcast jobs show {job_id}`" in err
    assert "wait_timeout" in err
    assert "could not be reached" in err
