"""The front-door references: bare Starlette apps served under the api's own uvicorn flags.

`static_app` answers a constant JSON body (the ceiling of the server stack alone);
`redis_app` answers `GET /jobs/{id}` with one async Redis `HGETALL` of the job's record — what a
competent minimal service does, with none of our auth, rate limit, ownership or logging.
"""

from __future__ import annotations

import os

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jobcast import rediskeys


def static_app() -> Starlette:
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/healthz", healthz)])


def redis_app() -> Starlette:
    client = aioredis.Redis.from_url(os.environ["JOBCAST_REDIS_URL"], decode_responses=True)

    async def get_job(request: Request) -> JSONResponse:
        record = await client.hgetall(rediskeys.job_key(request.path_params["job_id"]))
        if not record:
            return JSONResponse({"detail": "not found"}, status_code=404)
        return JSONResponse(record)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/jobs/{job_id}", get_job), Route("/healthz", healthz)])
