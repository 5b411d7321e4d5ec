"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
import logging
import time

import redis.asyncio as aioredis
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RedisDep, SettingsDep
from api.openapi_errors import errors
from api.redis_memory import read_memory
from celeryconfig import QUEUES
from jobcast.redis_clients import redis_problem
from jobcast.redis_durability import eviction_problem
from jobcast.rediskeys import WORKERS_KEY
from jobcast.schemas.health import Alive, Ready
from jobcast.worker_registry import live_age, live_queues

router = APIRouter(tags=["health"])
log = logging.getLogger("jobcast.api")

#: Seconds the probe waits for Redis: a prober gives up after a few (behind Sentinel with a wrong
#: password, each sentinel's timeout in turn took the answer to 10.8 s).
READY_WITHIN = 3.0


@router.get("/healthz", summary="Liveness probe")
async def healthz() -> Alive:
    """The process is alive and serving."""
    return Alive(status="ok")


@router.get(
    "/readyz", summary="Readiness probe", response_model=Ready, responses=errors("not_ready")
)
async def readyz(redis: RedisDep, settings: SettingsDep) -> JSONResponse:
    """Redis answers, does not evict keys, is not near its maxmemory, and every queue has a live
    worker consuming it."""
    try:
        async with asyncio.timeout(READY_WITHIN):
            await _ping_now(redis)
            entries: dict[str, str] = await redis.hgetall(WORKERS_KEY)  # type: ignore[assignment]
            memory = await read_memory(redis)
    except TimeoutError:
        return _not_ready(f"Redis does not answer within {READY_WITHIN:g} s")
    except (aioredis.RedisError, OSError) as exc:
        # The log names each sentinel and its answer; anyone may call the probe.
        log.warning("not ready: Redis does not answer: %s", redis_problem(exc, where=True))
        return _not_ready(f"Redis does not answer: {redis_problem(exc)}")
    # A policy set after the start (CONFIG SET) is seen here only. Under one, "full" never comes:
    # Redis drops keys to stay below maxmemory, so the pressure figure would say nothing.
    evicting = None if settings.redis_eviction_accepted else eviction_problem(memory.policy)
    if evicting:
        return _not_ready(evicting)
    pressure = memory.pressure(settings.redis_memory_pressure_ratio)
    if pressure:
        return _not_ready(pressure)
    consumed = live_queues(entries, time.time(), live_age(settings.worker_heartbeat_interval))
    missing = [q for q in QUEUES if q not in consumed]
    if missing:
        return _not_ready(f"no live worker consumes queue(s): {', '.join(missing)}")
    return JSONResponse(Ready(status="ready", queues=sorted(consumed)).model_dump())


async def healthz_head() -> Alive:
    # An endpoint of its own: the hot path (api/hot_path.py) serves GET /healthz by endpoint.
    return await healthz()


# Load balancers and uptime checks probe with HEAD: answered as GET, and uvicorn sends no body.
# Out of the schema, where a second operation per path would only repeat the GET's.
router.add_api_route("/healthz", healthz_head, methods=["HEAD"], include_in_schema=False)
router.add_api_route(
    "/readyz", readyz, methods=["HEAD"], response_model=Ready, include_in_schema=False
)


async def _ping_now(redis: aioredis.Redis) -> None:
    try:
        await redis.ping()
    except aioredis.ConnectionError:
        # A pooled connection that Redis closed as it went fails its next command with
        # "Connection closed by server": how that connection ended, not whether Redis answers
        # now. Its idle fellows went the same way, so drop them and ask once on a new one, whose
        # error (refused, no primary) is the probe's reason; a Redis that restarted is ready.
        await redis.connection_pool.disconnect(inuse_connections=False)
        await redis.ping()


def _not_ready(reason: str) -> JSONResponse:
    return JSONResponse(
        status_code=503,
        content={"error": {"code": "not_ready", "message": reason, "details": None}},
    )
