"""The upload routes on the hot path answer every request, refusals included, as FastAPI does."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from api.app import HOT_ENDPOINTS, create_app
from api.hot_path import HotPath
from jobcast.settings import Settings
from tests.api.both_ways import Bypass, both_ways, comparable, run_both_ways
from tests.api.conftest import MakeKey

TABLE = {"file": ("t.csv", b"a,b\n1,2\n")}
#: Per request: (path, options of `httpx.AsyncClient.request`, the status both must answer).
Case = tuple[str, dict[str, Any], int]


def test_both_upload_routes_are_hot(settings: Settings) -> None:
    app = create_app(settings)
    routes = HotPath(app.router, app, HOT_ENDPOINTS).routes
    hot = {(getattr(hot.route, "path", None), method) for hot in routes for method in hot.methods}
    assert {("/jobs", "POST"), ("/tasks/process-file/", "POST")} <= hot


def refusals(key: str) -> list[Case]:
    auth = {"Authorization": f"Bearer {key}"}
    return [
        ("/jobs", {"files": TABLE}, 401),
        ("/jobs", {"files": TABLE, "headers": {"Authorization": "Bearer jc_wrong"}}, 401),
        ("/jobs", {"json": {"file_path": "/etc/passwd"}, "headers": auth}, 415),
        ("/tasks/process-file/", {"json": {"file_path": "/x"}, "headers": auth}, 422),
        ("/jobs?file_path=/x", {"files": TABLE, "headers": auth}, 422),
        ("/jobs", {"files": TABLE, "headers": {**auth, "Idempotency-Key": ""}}, 422),
        ("/jobs", {"files": TABLE, "headers": {**auth, "Idempotency-Key": "k" * 201}}, 422),
        ("/jobs", {"files": {"file": ("t.csv", b"")}, "headers": auth}, 422),
        ("/jobs", {"files": {"other": ("t.csv", b"a\n1\n")}, "headers": auth}, 422),
        ("/jobs", {"files": TABLE, "data": {"params": "{"}, "headers": auth}, 422),
        ("/jobs", {"files": TABLE, "data": {"params": '{"operation": 1}'}, "headers": auth}, 422),
        ("/jobs", {"files": {"file": ("t.csv", b"n\n" + b"7\n" * 100)}, "headers": auth}, 413),
        ("/jobs", {"content": b"--x\r\n", "headers": {**auth, "Content-Type": "text/csv"}}, 415),
    ]


def test_refused_uploads_answer_byte_for_byte_as_fastapi(
    settings: Settings, make_key: MakeKey
) -> None:
    key = make_key("me")

    async def scenario(client: httpx.AsyncClient, bypass: Bypass) -> None:
        for path, options, status in refusals(key):
            with _access_lines() as lines:
                hot, fastapi = await both_ways(client, bypass, "POST", path, **options)
            assert hot.status_code == status, (path, options, hot.text)
            assert comparable(hot) == comparable(fastapi), (path, options)
            assert len(lines) == 2, lines
            assert lines[0] == lines[1]

    run_both_ways(settings.replace(upload_max_bytes=128), scenario)


def test_accepted_and_replayed_uploads_answer_as_fastapi(
    settings: Settings, make_key: MakeKey
) -> None:
    auth = {"Authorization": f"Bearer {make_key('me')}"}
    again = {**auth, "Idempotency-Key": "again"}

    async def scenario(client: httpx.AsyncClient, bypass: Bypass) -> None:
        for path in ("/jobs", "/tasks/process-file/"):
            hot, fastapi = await both_ways(client, bypass, "POST", path, files=TABLE, headers=auth)
            assert hot.status_code == 202, hot.text
            assert _without_the_job(hot) == _without_the_job(fastapi)
        first = await client.post("/jobs", files=TABLE, headers=again)
        replays = await both_ways(client, bypass, "POST", "/jobs", files=TABLE, headers=again)
        assert [comparable(r) for r in replays] == 2 * [comparable(first)]
        other = {"file": ("t.csv", b"a,b\n3,4\n")}
        reused = await both_ways(client, bypass, "POST", "/jobs", files=other, headers=again)
        assert reused[0].status_code == 422
        assert comparable(reused[0]) == comparable(reused[1])

    run_both_ways(settings, scenario)


def test_a_spent_submit_budget_is_the_same_429_either_way(
    settings: Settings, make_key: MakeKey
) -> None:
    auth = {"Authorization": f"Bearer {make_key()}"}
    cases = [{"files": TABLE}, {"files": TABLE, "headers": {"Idempotency-Key": ""}}]

    async def scenario(client: httpx.AsyncClient, bypass: Bypass) -> None:
        await both_ways(client, bypass, "POST", "/jobs", files=TABLE, headers=auth)
        for options in cases:
            headers = {**auth, **options.get("headers", {})}
            request = {**options, "headers": headers}
            hot, fastapi = await both_ways(client, bypass, "POST", "/jobs", **request)
            assert hot.status_code == 429, hot.text
            assert comparable(hot) == comparable(fastapi)

    run_both_ways(settings.replace(rate_submit_burst=2, rate_submit_per_minute=1), scenario)


def test_an_upload_under_the_disk_floor_is_the_same_507_either_way(
    settings: Settings, make_key: MakeKey, tmp_path: Path
) -> None:
    floor = shutil.disk_usage(tmp_path).free + 2**40
    auth = {"Authorization": f"Bearer {make_key()}"}

    async def scenario(client: httpx.AsyncClient, bypass: Bypass) -> None:
        hot, fastapi = await both_ways(client, bypass, "POST", "/jobs", files=TABLE, headers=auth)
        assert hot.status_code == 507, hot.text
        assert _free_space_masked(hot) == _free_space_masked(fastapi)

    run_both_ways(settings.replace(job_min_free_disk_bytes=floor), scenario)


def _free_space_masked(response: httpx.Response) -> tuple[Any, ...]:
    """The answer with the disk's free space taken out: other tests write to the same disk
    between the two requests (it differed by a few KiB once, in a loaded full run)."""
    status, body, headers = comparable(response)
    masked = re.sub(r'"free_bytes":\d+', '"free_bytes":0', body.decode())
    masked = re.sub(r"disk has [\d,]+ MiB free", "disk has N MiB free", masked)
    return status, masked, [(k, "" if k == "content-length" else v) for k, v in headers]


def _without_the_job(response: httpx.Response) -> tuple[Any, ...]:
    """The answer with what differs from job to job (its id, its times, so its length) taken
    out."""
    job = response.json()
    status, body, headers = comparable(response)
    masked = body.decode().replace(job["id"], "<id>")
    masked = re.sub(r'"(created_at|updated_at)":[^,}]+', r'"\1":0', masked)
    headers = [
        (k, "" if k == "content-length" else v.replace(job["id"], "<id>")) for k, v in headers
    ]
    return status, masked, headers


@contextmanager
def _access_lines() -> Iterator[list[str]]:
    """The access log lines written meanwhile, with their durations and request ids taken out
    (the app's logging, set up as it starts, leaves pytest's capture out)."""
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(  # type: ignore[method-assign]
        re.sub(r"[0-9.]+ms request_id=[0-9a-f]+", "<ms, id>", record.getMessage())
    )
    logger = logging.getLogger("jobcast.access")
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
