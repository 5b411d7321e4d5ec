"""The api app served in the test process (httpx over ASGI) against the test's real Redis:
for route logic and validation, without the cost of a uvicorn process."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable

import httpx

from api.app import create_app
from jobcast.settings import Settings

#: Seconds a scenario may take before it fails with every task's stack (a hang is a bug).
SCENARIO_TIMEOUT = 30.0

Scenario = Callable[[httpx.AsyncClient], Awaitable[None]]


def run_in_process(settings: Settings, scenario: Scenario) -> None:
    """Start the app (its lifespan too), run `scenario` with a client, stop it."""

    async def serve() -> None:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
                await scenario(client)

    async def guarded() -> None:
        task = asyncio.ensure_future(serve())
        done, _ = await asyncio.wait([task], timeout=SCENARIO_TIMEOUT)
        if not done:
            stacks = io.StringIO()
            for other in asyncio.all_tasks():
                other.print_stack(limit=10, file=stacks)
            task.cancel()
            raise AssertionError(f"in-process scenario hung; tasks:\n{stacks.getvalue()}")
        task.result()

    asyncio.run(guarded())
