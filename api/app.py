"""The FastAPI application factory: `uvicorn --factory api.app:create_app`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import metrics, startup, webapp
from api.auth import check_key_before_body_errors
from api.docs import install_docs
from api.errors import install_error_handlers
from api.gc_tuning import tuned_garbage_collector
from api.hot_path import HotPath
from api.middleware import FrontDoorMiddleware
from api.openapi import DESCRIPTION, TAGS, custom_openapi
from api.routes import admin, data, health, jobs, market, me, orders, ws
from api.state import AppState, create_redis
from api.task_sender import TaskSender
from jobcast import orphan_watch
from jobcast.filemodes import keep_new_files_private
from jobcast.logs import configure_logging
from jobcast.settings import Settings, get_settings
from realtime import redact, socket_lines
from realtime.lifecycle import running_realtime

#: Served by `api.hot_path` ahead of FastAPI's routing and dependency solving: the probe, the
#: reads of one owned record, and the upload (both its paths), whose dependencies are simple
#: enough for it.
HOT_ENDPOINTS = (health.healthz, jobs.get_job, jobs.submit_job, data.get_item)
#: Longest the shutdown waits for cut requests to finish their clean-up before closing Redis.
UNWIND_SECONDS = 1.0


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_json, settings.log_level)
    startup.warn_of_unknown_variables()
    startup.refusals_in_one_line()
    settings = startup.with_key_secret(settings)
    startup.exit_if_credentials_refused(settings)
    keep_new_files_private()  # uploads under the data dir are other people's data
    redact.install()
    socket_lines.install()
    orphan_watch.start()  # started by `jobcast up`: a stop bounded even if it is killed

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = AppState(settings, create_redis(settings), TaskSender(settings))
        app.state.jobcast = state
        checked: asyncio.Task[bool] | None = None
        try:
            await startup.durability_checked(state.redis, settings)
            checked = await startup.cluster_checked(state.redis, settings)
            # The push layer: one Redis pub/sub connection per api process, plus the monitor.
            async with running_realtime(settings, state.key_cache) as realtime:
                app.state.realtime = realtime
                # Last: everything alive now lives as long as the process (see the module).
                with tuned_garbage_collector():
                    yield
        finally:
            # uvicorn sends the shutdown as soon as it has cancelled the requests its grace cut
            # short, not once they have unwound: their clean-up (a stalled upload's quota and
            # partial file) still needs Redis, and closing it under them turned the client's
            # 503 shutting_down into redis_unavailable and left the quota held.
            await metrics.IN_FLIGHT.drained(UNWIND_SECONDS)
            if checked is not None and not checked.done():
                checked.cancel()
            await state.tasks.aclose()
            await state.script_lane.aclose()
            await state.redis.aclose(close_connection_pool=True)
            startup.exit_if_refused(checked)

    app = FastAPI(
        title="Jobcast",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        # No 307 to the other slash form: it had no body, its address came from the Host header
        # (a forged one pointed elsewhere), and a POST's body was sent again. The 404 names it.
        redirect_slashes=False,
        # FastAPI's OpenTelemetry bridge looks for a configured provider on every request (~4 us
        # of an 80 us /healthz); Jobcast reports through its access log and Prometheus instead.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.openapi = lambda: custom_openapi(app)  # type: ignore[method-assign]
    install_docs(app)
    install_error_handlers(app)
    check_key_before_body_errors(app)
    install_middleware(app, settings)
    # Busiest first: a request is matched against each route in turn (~1.5 us each), and no
    # two routers' paths overlap, so the order changes nothing else.
    app.include_router(health.router)
    app.include_router(jobs.router)
    app.include_router(orders.router)
    app.include_router(market.router)
    app.include_router(data.router)
    app.include_router(ws.router)
    app.include_router(me.router)
    app.include_router(metrics.router)
    app.include_router(admin.router)
    webapp.install(app)  # the browser app at `/`, its assets under /static/
    app.add_middleware(ws.WebSocketShortcut)  # WebSockets skip the HTTP middleware
    app.add_middleware(startup.LifespanRefusals)  # outermost
    return app


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """The front door (request context, header caps, CORS, JSON body cap), in one layer, and
    just inside it the hot path."""
    app.add_middleware(HotPath, api=app, endpoints=HOT_ENDPOINTS)
    app.add_middleware(
        FrontDoorMiddleware,
        max_json_body_bytes=settings.max_json_body_bytes,
        cors=cors_options(settings),
        log_probes=settings.log_probes,
    )


def cors_options(settings: Settings) -> dict[str, Any]:
    # Credentials only with an explicit allowlist: "*" together with credentials would let any
    # site act with a user's cookies.
    return {
        "allow_origins": settings.cors_origins,
        "allow_origin_regex": settings.cors_origin_regex,
        "allow_credentials": "*" not in settings.cors_origins,
        "allow_methods": ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        "allow_headers": [
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "X-API-Key",
            "X-Request-ID",
        ],
        "expose_headers": [
            "X-Process-Time",
            "X-Request-ID",
            "Retry-After",
            "Location",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        ],
    }
