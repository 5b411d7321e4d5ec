"""File jobs through the client against a real stack: submit, wait, typed results, errors."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import threading
from pathlib import Path

import httpx
import pytest
import redis

from jobcast.client import (
    AsyncClient,
    AuthenticationError,
    Client,
    InvalidRequestError,
    JobCancelledError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
    Reading,
    WaitTimeoutError,
)
from jobcast.jobs.records import FAILED, RETRYING
from jobcast.schemas import AggregateResult, JobProgress, ProfileResult
from tests.client.conftest import WS_PER_PRINCIPAL, ClientStack
from tests.client.support import (
    cancelled_while_running,
    city_totals,
    write_ragged,
    write_table,
)
from tests.conftest import MakePrincipal, StartApi
from tests.realtime.wsclient import authed
from tests.support.processes import wait_for
from workers.files.state import JobState


def test_submit_and_wait_returns_the_typed_result_with_rising_progress(
    stack: ClientStack, tmp_path: Path
) -> None:
    data = write_table(tmp_path / "data.csv", 300_000)
    uploaded: list[tuple[int, int]] = []
    seen: list[JobProgress] = []
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(data, on_upload=lambda sent, total: uploaded.append((sent, total)))
        result = client.wait(job.id, timeout=60, on_progress=seen.append)
        assert client.job(job.id).status == "succeeded"

    assert isinstance(result, ProfileResult)
    assert result.rows == 300_000
    assert [c.name for c in result.profile] == ["id", "name", "amount", "city"]
    assert uploaded[-1] == (data.stat().st_size, data.stat().st_size)
    percents = [p.percent for p in seen]
    assert len(percents) >= 3, percents  # a multi-batch job reports as it goes
    assert percents == sorted(percents)
    assert percents[0] < 100, seen
    # Where the job ended: job.succeeded carries the final progress (it said only the rows).
    assert (seen[-1].percent, seen[-1].rows) == (100, 300_000), seen[-1]


def test_async_client_aggregates_and_lists_every_page(stack: ClientStack, tmp_path: Path) -> None:
    data = write_table(tmp_path / "data.csv", 2_000)

    async def run() -> tuple[AggregateResult, list[str], str]:
        async with AsyncClient(stack.url, stack.key) as client:
            job = await client.submit_file(
                data, "aggregate", group_by=["city"], metrics={"amount": ["sum", "count"]}
            )
            result = await client.wait(job.id, timeout=60)
            assert isinstance(result, AggregateResult)
            # A second job of ours, so the listing has pages to walk even when run alone.
            await client.submit_file(data, "profile")
            ids = [j.id async for j in client.jobs(page_size=1)]
            return result, ids, job.id

    result, ids, job_id = asyncio.run(run())
    assert result.groups == len(result.table) == 13
    got = {row["city"]: (row["amount_sum"], row["amount_count"]) for row in result.table}
    assert got == city_totals(2_000)
    assert job_id in ids
    assert len(ids) == len(set(ids)) >= 2  # one job per page: the iterator walked the pages


def test_a_bad_file_raises_the_typed_error_with_its_code(
    stack: ClientStack, tmp_path: Path
) -> None:
    with Client(stack.url, stack.key) as client:
        empty = tmp_path / "empty.csv"
        empty.write_bytes(b"")
        with pytest.raises(InvalidRequestError) as refused:
            client.submit_file(empty)
        job = client.submit_file(write_ragged(tmp_path / "ragged.csv"))
        with pytest.raises(JobFailedError) as failed:
            client.wait(job.id, timeout=60)
        with pytest.raises(NotFoundError) as missing:
            client.job("j_000000000000000000000000")

    assert (refused.value.code, refused.value.status) == ("empty_file", 422)
    assert refused.value.request_id
    assert failed.value.code == "ragged_rows"
    assert missing.value.code == "not_found"


def test_submit_refuses_bad_params_and_a_missing_key_before_a_byte_is_sent(
    stack: ClientStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_table(tmp_path / "data.csv", 10)
    sent: list[int] = []
    key, _ = stack.new_key("checked")
    with Client(stack.url, key) as client:
        with pytest.raises(InvalidRequestError) as refused:
            client.submit_file(
                data,
                "aggregate",
                metrics={"amount": ["median"]},
                on_upload=lambda n, _: sent.append(n),
            )
        assert list(client.jobs()) == []
    assert refused.value.code == "invalid_params"
    assert refused.value.details[0]["field"] == "params.metrics.amount.0"
    monkeypatch.delenv("JOBCAST_API_KEY", raising=False)
    monkeypatch.setenv("JOBCAST_CONFIG", str(tmp_path / "no-login.json"))
    with Client(stack.url) as keyless, pytest.raises(AuthenticationError) as anonymous:
        keyless.submit_file(data, on_upload=lambda n, _: sent.append(n))
    assert anonymous.value.message == "No API key: set JOBCAST_API_KEY or run `jobcast login`."
    assert sent == []  # on_upload never called: not a byte went out


def test_reading_options_are_sent_as_the_api_takes_them(stack: ClientStack, tmp_path: Path) -> None:
    data = write_table(tmp_path / "data.csv", 10)
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(data, reading=Reading(header=False, sheet=0))
        with pytest.raises(InvalidRequestError) as refused:
            client.submit_file(data, reading=Reading(sheet=-1))
        params = client.job(job.id).params

    assert (params.header, params.sheet) == (False, 0)
    assert refused.value.code == "invalid_params"
    assert refused.value.details[0]["field"] == "params.sheet"


def test_an_empty_idempotency_key_is_sent_for_the_server_to_refuse(
    stack: ClientStack, tmp_path: Path
) -> None:
    # Taken as no key, a retry the caller meant to be safe could make a second job.
    data = write_table(tmp_path / "data.csv", 10)
    key, _ = stack.new_key("empty-key")
    with Client(stack.url, key) as client:
        with pytest.raises(InvalidRequestError) as refused:
            client.submit_file(data, idempotency_key="")
        assert list(client.jobs()) == []

    assert refused.value.code == "validation_error"
    assert "must be 1-200 characters (or leave the header out)" in refused.value.message


def test_convert_result_downloads_streamed(stack: ClientStack, tmp_path: Path) -> None:
    data = write_table(tmp_path / "data.csv", 1_000)
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(data.open("rb"), "convert", to="csv")
        client.wait(job.id, timeout=60)
        saved = client.download(job.id, tmp_path / "out.csv")
    rows = list(csv.reader(saved.open()))
    assert rows[0] == ["id", "name", "amount", "city"]
    assert len(rows) == 1_001


def test_waiting_for_a_job_that_is_not_there_says_so_as_job_does(stack: ClientStack) -> None:
    # It raised the channel's refusal: "No channel 'job.j_…' for you.", with no status.
    with Client(stack.url, stack.key) as client, pytest.raises(NotFoundError) as missing:
        client.wait("j_000000000000000000000000", timeout=30)
    assert (missing.value.status, missing.value.message) == (404, "No job with that id.")
    assert missing.value.request_id


def test_a_refused_download_leaves_no_file(stack: ClientStack, tmp_path: Path) -> None:
    with Client(stack.url, stack.key) as client, pytest.raises(NotFoundError):
        client.download("j_00000000000000000000000000", tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_wait_polls_when_no_websocket_can_be_had(stack: ClientStack, tmp_path: Path) -> None:
    """Every WebSocket the principal may hold is taken: `wait` polls the job instead."""
    key, _ = stack.new_key("poller")
    seen: list[JobProgress] = []
    with contextlib.ExitStack() as held:
        for _ in range(WS_PER_PRINCIPAL):
            held.enter_context(authed(stack.url, key))
        with Client(stack.url, key) as client:
            job = client.submit_file(write_table(tmp_path / "data.csv", 20_000))
            result = client.wait(job.id, timeout=60, on_progress=seen.append)
    assert result.rows == 20_000
    assert seen
    assert seen[-1].percent == 100
    assert stack.api is not None
    assert f"GET /jobs/{job.id} " in stack.api.output()  # polled: waiting on events reads no job


def test_a_pipe_uploads_without_a_known_length(stack: ClientStack, tmp_path: Path) -> None:
    """A file object that cannot seek (a pipe from another program) is sent chunked."""
    data = write_table(tmp_path / "data.csv", 3_000).read_bytes()
    reader, writer = os.pipe()
    feeder = threading.Thread(target=lambda: (os.write(writer, data), os.close(writer)))
    feeder.start()
    with os.fdopen(reader, "rb") as pipe, Client(stack.url, stack.key) as client:
        job = client.submit_file(pipe)
        result = client.wait(job.id, timeout=60)
    feeder.join()
    assert job.size == len(data)
    assert result.rows == 3_000


def test_wait_gives_up_after_its_timeout_and_the_job_goes_on(
    stack: ClientStack, tmp_path: Path
) -> None:
    # A file no worker profiles within the 10 ms wait, however quickly it takes the job up: a
    # 3 MB one once ended before the wait's stream had its snapshot (a fresh-clone make test).
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(write_table(tmp_path / "data.csv", 1_000_000))
        with pytest.raises(WaitTimeoutError) as gave_up:
            client.wait(job.id, timeout=0.01)
        assert gave_up.value.code == "wait_timeout"
        assert client.wait(job.id, timeout=60).rows == 1_000_000


def test_wait_on_a_job_that_already_ended_returns_at_once(
    stack: ClientStack, tmp_path: Path
) -> None:
    # Its channel starts with a snapshot at the seq `subscribed` names; no event follows it.
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(write_table(tmp_path / "data.csv", 100))
        wait_for(lambda: client.job(job.id).status == "succeeded", 60, "the job to end")
        assert client.wait(job.id, timeout=20).rows == 100


def test_a_refusal_the_client_says_itself_carries_the_servers_status_for_it(
    stack: ClientStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # README: each exception carries `status`; these had None where the server says 422 or 401.
    data = write_table(tmp_path / "data.csv", 10)
    with Client(stack.url, stack.key) as client, pytest.raises(InvalidRequestError) as checked:
        client.submit_file(data, "sum")
    params = {"params": json.dumps({"operation": "sum"})}
    with data.open("rb") as file:
        answered = httpx.post(
            f"{stack.url}/jobs", data=params, files={"file": file}, headers=bearer(stack.key)
        )
    error = answered.json()["error"]
    assert (checked.value.status, checked.value.code) == (answered.status_code, error["code"])
    assert checked.value.details == error["details"]
    assert (checked.value.status, checked.value.local) == (422, True)  # said before sending

    monkeypatch.delenv("JOBCAST_API_KEY", raising=False)
    monkeypatch.setenv("JOBCAST_CONFIG", str(tmp_path / "no-login.json"))
    with Client(stack.url) as keyless, pytest.raises(AuthenticationError) as anonymous:
        keyless.me()
    answered = httpx.get(f"{stack.url}/me")
    assert (anonymous.value.status, anonymous.value.code) == (401, "unauthenticated")
    assert anonymous.value.local
    assert answered.status_code == 401


def test_a_job_that_ended_so_raises_its_outcome_with_the_409_that_said_so(
    stack: ClientStack, tmp_path: Path
) -> None:
    key, _ = stack.new_key("outcomes")
    with Client(stack.url, key) as client:
        job = cancelled_while_running(client, write_table(tmp_path / "big.csv", 300_000))
        with pytest.raises(JobCancelledError) as waited:
            client.wait(job.id, timeout=30)
        with pytest.raises(JobCancelledError) as cancelled:
            client.result(job.id)
        with pytest.raises(JobCancelledError) as downloaded:
            client.download(job.id, tmp_path / "out")
        ragged = client.submit_file(write_ragged(tmp_path / "ragged.csv"))
        with pytest.raises(JobFailedError):
            client.wait(ragged.id, timeout=60)
        with pytest.raises(JobFailedError) as failed:
            client.result(ragged.id)
    answered = httpx.get(f"{stack.url}/jobs/{job.id}/result", headers=bearer(key))
    assert (answered.status_code, answered.json()["error"]["code"]) == (409, "job_cancelled")
    for raised in (cancelled.value, downloaded.value, failed.value):
        assert raised.status == 409, raised
        assert raised.request_id
        assert not raised.local
    assert failed.value.code == "ragged_rows"  # the job's own error, as from `wait`
    # `wait` learns the outcome from the job's events, not from an error answer.
    assert waited.value.status is None


def test_a_refused_websocket_handshake_carries_its_status(stack: ClientStack) -> None:
    # An address with a path no api serves WebSockets under: the handshake answers 404, and
    # the error says to check the address (a 403 is a refused Origin).
    client = Client(f"{stack.url}/nothing-here", stack.key)
    with client, pytest.raises(PermissionDeniedError) as refused:
        next(iter(client.events("user.me")))
    assert refused.value.code == "handshake_refused"
    assert refused.value.status == 404
    assert "check the api's address" in refused.value.message


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_wait_hands_on_no_estimate_while_the_job_waits_to_retry(
    start_api: StartApi, make_principal: MakePrincipal, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # `jobcast jobs submit` kept showing the failed attempt's "ETA 42s" while the job waited
    # for its next attempt (the retry's event carries no progress). No worker here: the job's
    # commits are made as its worker makes them.
    _, url = start_api()
    key, _ = make_principal()
    seen: list[JobProgress] = []
    ended: list[BaseException] = []
    with Client(url, key) as client:
        job = client.submit_file(write_table(tmp_path / "t.csv", 10))

    def wait() -> None:
        with Client(url, key) as waiting:
            try:
                waiting.wait(job.id, timeout=30, on_progress=seen.append)
            except JobFailedError as failed:
                ended.append(failed)

    loaded = JobState.load(redis_client, job.id, ttl=600)
    assert loaded is not None
    state = loaded[0]
    waiter = threading.Thread(target=wait)
    waiter.start()
    try:
        assert state.start(1, size=100).committed
        progress = {"phase": "scan", "bytes_done": 40, "bytes_total": 100, "rows": 4}
        assert state.progress({**progress, "percent": 40.0, "eta_seconds": 42.0}).committed
        wait_for(lambda: any(p.eta_seconds == 42.0 for p in seen), 20, "the estimate")
        error = {"code": "transient_error", "message": "The disk did not answer."}
        assert state.retrying(1, error, delay=30.0).committed
        wait_for(lambda: seen[-1].eta_seconds is None, 20, "the estimate dropped")
        assert (seen[-1].percent, seen[-1].rows) == (40.0, 4)  # how far it got stays
        failed = {"code": "internal_error", "message": "It failed for good."}
        assert state.finish(FAILED, error=failed, expect=(RETRYING,)).committed
    finally:
        waiter.join(timeout=30)
    assert len(ended) == 1
