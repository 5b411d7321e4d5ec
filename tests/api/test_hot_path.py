"""The hot path answers its routes exactly as FastAPI would, and takes no route it cannot."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.routing import iter_route_contexts

from api.app import HOT_ENDPOINTS, create_app
from api.hot_path import HotPath, NotHotError
from jobcast.schemas.health import Alive
from jobcast.settings import Settings
from tests.api.conftest import MakeKey

#: Headers that differ between any two requests (time, id, the budget as it is spent).
VARYING = {"x-process-time", "x-request-id", "ratelimit-remaining", "ratelimit-reset"}

Scenario = Callable[[httpx.AsyncClient, Callable[[bool], None]], Awaitable[None]]


def run_both_ways(settings: Settings, scenario: Scenario) -> None:
    """Run `scenario` against the app in process, with a switch that sends requests to
    FastAPI instead of the hot path (an overridden dependency leaves them to FastAPI)."""

    async def serve() -> None:
        app = create_app(settings)

        def bypass(on: bool) -> None:
            app.dependency_overrides.clear()
            if on:
                app.dependency_overrides[_unused] = _unused

        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
                await scenario(client, bypass)

    asyncio.run(serve())


def _unused() -> None:  # pragma: no cover - never called
    pass


def comparable(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = [(k, "" if k in VARYING else v) for k, v in response.headers.multi_items()]
    return response.status_code, response.content, headers


async def both_ways(
    client: httpx.AsyncClient, bypass: Callable[[bool], None], path: str, **options: Any
) -> tuple[httpx.Response, httpx.Response]:
    bypass(False)
    hot = await client.get(path, **options)
    bypass(True)
    fastapi = await client.get(path, **options)
    bypass(False)
    return hot, fastapi


def test_hot_routes_answer_byte_for_byte_as_fastapi(settings: Settings, make_key: MakeKey) -> None:
    mine, theirs = make_key("me"), make_key("other")

    async def scenario(client: httpx.AsyncClient, bypass: Callable[[bool], None]) -> None:
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
            hot, fastapi = await both_ways(client, bypass, path, headers=headers)
            assert hot.status_code == status, (path, hot.text)
            assert comparable(hot) == comparable(fastapi), path

    run_both_ways(settings, scenario)


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

    async def scenario(client: httpx.AsyncClient, bypass: Callable[[bool], None]) -> None:
        job = await _submit(client, key)  # a submit: the read budget is still whole
        await both_ways(client, bypass, f"/jobs/{job}", headers=_as(key))  # spends both reads
        hot, fastapi = await both_ways(client, bypass, f"/jobs/{job}", headers=_as(key))
        assert hot.status_code == 429
        assert comparable(hot) == comparable(fastapi)

    run_both_ways(settings, scenario)


def test_a_hot_request_is_counted_under_its_route(settings: Settings) -> None:
    async def scenario(client: httpx.AsyncClient, bypass: Callable[[bool], None]) -> None:
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
