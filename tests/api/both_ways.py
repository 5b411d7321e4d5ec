"""Requests answered twice by the app in process: once by the hot path (`api.hot_path`), once
by FastAPI (an overridden dependency leaves every request to FastAPI), to compare the answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from api.app import create_app
from jobcast.settings import Settings

#: Headers that differ between any two requests (time, id, the budget as it is spent).
VARYING = {"x-process-time", "x-request-id", "ratelimit-remaining", "ratelimit-reset"}

Bypass = Callable[[bool], None]
Scenario = Callable[[httpx.AsyncClient, Bypass], Awaitable[None]]


def run_both_ways(settings: Settings, scenario: Scenario) -> None:
    """Run `scenario` against the app in process, with a switch that sends requests to
    FastAPI instead of the hot path."""

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
    client: httpx.AsyncClient, bypass: Bypass, method: str, path: str, **options: Any
) -> tuple[httpx.Response, httpx.Response]:
    """(the hot path's answer, FastAPI's) to the same request, sent once each."""
    bypass(False)
    hot = await client.request(method, path, **options)
    bypass(True)
    fastapi = await client.request(method, path, **options)
    bypass(False)
    return hot, fastapi
