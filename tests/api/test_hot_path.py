"""The hot path answers its routes exactly as FastAPI would, and takes no route it cannot."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import redis
from fastapi import Depends, FastAPI, Request
from fastapi.routing import iter_route_contexts

from api.app import HOT_ENDPOINTS, create_app
from api.hot_path import HotPath, NotHotError
from jobcast.jobs.records import decode_record, encode_fields
from jobcast.jobs.views import public_view
from jobcast.rediskeys import job_key
from jobcast.schemas.health import Alive
from jobcast.schemas.jobs import Job
from jobcast.settings import Settings
from tests.api.both_ways import Bypass, both_ways, comparable, run_both_ways
from tests.api.conftest import MakeKey


def test_hot_routes_answer_byte_for_byte_as_fastapi(settings: Settings, make_key: MakeKey) -> None:
    mine, theirs = make_key("me"), make_key("other")

    async def scenario(client: httpx.AsyncClient, bypass: Bypass) -> None:
        job = await _submit(client, mine)
        other = await _submit(client, theirs)
        item = await client.post("/data/", json={"name": "n", "value": 1}, headers=_as(mine))
        cases: list[tuple[str, dict[str, Any], int]] = [
            ("/healthz", {}, 200),
            (f"/jobs/{job}", _as(mine), 200),
            (f"/jobs/{other}", _as(mine), 404),  # someone else's
            ("/jobs/j_000000000000000000000000", _as(mine), 404),
            ("/jobs/not-an-id", _as(mine), 404),
            (f"/jobs/{job}", {}, 401),
            (f"/jobs/{job}", _as("jc_wrong"), 401),
            (f"/jobs/{job}", {"X-API-Key": mine}, 200),
            (f"/jobs/{job}", {"Origin": "https://elsewhere.example", **_as(mine)}, 200),
            (f"/data/{item.json()['id']}", _as(mine), 200),
            (f"/data/{item.json()['id']}", _as(theirs), 404),
        ]
        for path, headers, status in cases:
            hot, fastapi = await both_ways(client, bypass, "GET", path, headers=headers)
            assert hot.status_code == status, (path, hot.text)
            assert comparable(hot) == comparable(fastapi), path

    run_both_ways(settings, scenario)


#: A job's record as its states leave it (`jobcast.jobs.records.transition`), with odd values:
#: every field the view shows goes through the route's rendering.
PROGRESS = {
    "phase": "scan",
    "bytes_done": 2**70,
    "bytes_total": 9007199254740993,
    "rows": 0,
    "percent": 40,
    "eta_seconds": 1e16,
}
JOB_STATES: dict[str, dict[str, Any]] = {
    "queued": {},
    "running": {
        "status": "running",
        "attempt": 1,
        "started_at": 1764633600.5,
        "progress": PROGRESS,
    },
    "running, no estimate yet": {
        "status": "running",
        "started_at": "1764633600",
        "progress": {**PROGRESS, "percent": 0.1 + 0.2, "eta_seconds": None},
    },
    "retrying": {
        "status": "retrying",
        "progress": PROGRESS,
        "error": {"code": "transient_error", "message": "x"},
    },
    "succeeded": {
        "status": "succeeded",
        "attempt": 2,
        "progress": {**PROGRESS, "percent": 100.0, "eta_seconds": 0},
        "result": {"operation": "profile", "rows": 1},
        "finished_at": 1764633601.25,
    },
    "failed": {
        "status": "failed",
        "progress": PROGRESS,
        "error": {
            "code": "ragged_rows",
            "message": 'line 3 of /srv/x/y.csv: «é» "q"\n\u001f\u2028',
        },
        "finished_at": 1e-7,
    },
    "failed, internal": {
        "status": "failed",
        "error": {"code": "internal_error", "message": "boom"},
    },
    "cancelled": {"status": "cancelled", "progress": PROGRESS, "finished_at": 1764633602},
    "a newer status": {"status": "paused"},
    "unicode file": {"filename": "données \U0001f600 \u202e\t.csv", "size": 10**30},
    "convert, params of an old version": {
        "operation": "convert",
        "params": {"operation": "convert", "to": "csv"},
    },
    "aggregate": {
        "operation": "aggregate",
        "params": {"operation": "aggregate", "group_by": ["ville é"], "metrics": {'n"': ["sum"]}},
    },
}


def test_jobs_in_every_state_answer_byte_for_byte_as_fastapi(
    settings: Settings, make_key: MakeKey, redis_client: redis.Redis
) -> None:
    key = make_key("me")

    async def scenario(client: httpx.AsyncClient, bypass: Bypass) -> None:
        for state, fields in JOB_STATES.items():
            job = await _submit(client, key)
            if fields:
                redis_client.hset(job_key(job), mapping=encode_fields(fields))
            hot, fastapi = await both_ways(client, bypass, "GET", f"/jobs/{job}", headers=_as(key))
            assert hot.status_code == 200, (state, hot.text)
            assert comparable(hot) == comparable(fastapi), state
            assert hot.content == _as_the_model_renders(redis_client, job), state

    run_both_ways(settings, scenario)


def _as_the_model_renders(client: redis.Redis, job_id: str) -> bytes:
    """The `Job` JSON as pydantic writes it from the record (what FastAPI sends for a `Job`)."""
    raw: dict[str, str] = client.hgetall(job_key(job_id))  # type: ignore[assignment]
    raw.pop("result", None)
    view = Job.model_validate(public_view(decode_record(raw)))
    return view.model_dump_json(by_alias=True).encode()


def test_a_hot_route_takes_no_other_routes_requests(settings: Settings) -> None:
    app = create_app(settings)
    hot = HotPath(app.router, app, HOT_ENDPOINTS).routes
    for context in iter_route_contexts(app.routes):
        if context.endpoint in HOT_ENDPOINTS or not context.path_format:
            continue
        sample, methods = re.sub(r"{[^}]+}", "x", context.path_format), context.methods or set()
        taken = [h.route.path for h in hot if h.regex.match(sample) and h.methods & methods]
        assert not taken, context.path_format


def test_a_spent_budget_is_the_same_429_either_way(settings: Settings, make_key: MakeKey) -> None:
    settings = settings.replace(rate_read_burst=2, rate_read_per_minute=1)
    key = make_key()

    async def scenario(client: httpx.AsyncClient, bypass: Bypass) -> None:
        job = await _submit(client, key)  # a submit: the read budget is still whole
        await both_ways(
            client, bypass, "GET", f"/jobs/{job}", headers=_as(key)
        )  # spends both reads
        hot, fastapi = await both_ways(client, bypass, "GET", f"/jobs/{job}", headers=_as(key))
        assert hot.status_code == 429
        assert comparable(hot) == comparable(fastapi)

    run_both_ways(settings, scenario)


def test_a_hot_request_is_counted_under_its_route(settings: Settings) -> None:
    async def scenario(client: httpx.AsyncClient, bypass: Bypass) -> None:
        await client.get("/healthz")
        metrics = (await client.get("/metrics")).text
        assert 'route="/healthz",status="200"' in metrics

    run_both_ways(settings, scenario)


def test_only_what_fastapi_need_not_solve_can_be_hot() -> None:
    async def query(limit: int = 5) -> Alive:  # a query parameter: FastAPI's to validate
        return Alive(status="ok")

    def sync_dependency(request: Request) -> None:
        pass

    async def threaded(dependency: None = Depends(sync_dependency)) -> Alive:
        return Alive(status="ok")

    async def untyped() -> dict[str, str]:
        return {"status": "ok"}

    for endpoint in (query, threaded):
        app = FastAPI()
        app.get("/x")(endpoint)
        with pytest.raises(NotHotError):
            HotPath(app.router, app, [endpoint])
    app = FastAPI()
    app.get("/x", response_model=None)(untyped)
    with pytest.raises(NotHotError):
        HotPath(app.router, app, [untyped])


async def _submit(client: httpx.AsyncClient, key: str) -> str:
    files = {"file": ("t.csv", b"a,b\n1,2\n")}
    response = await client.post("/jobs", files=files, headers=_as(key))
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


def _as(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
