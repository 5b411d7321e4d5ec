"""FastAPI dependencies, as `Annotated` aliases the routes declare.

Each is `async def` though it never awaits: FastAPI runs a plain `def` dependency in its thread
pool, a thread hop per dependency per request (a third of an authenticated read's time).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import Depends, Query, Request
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from api.state import AppState
from api.task_sender import TaskSender
from jobcast.replication import ReplicaCheck
from jobcast.settings import Settings


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.jobcast
    return state


async def get_state(request: Request) -> AppState:
    return app_state(request)


async def get_settings_dep(state: Annotated[AppState, Depends(get_state)]) -> Settings:
    return state.settings


async def get_redis(state: Annotated[AppState, Depends(get_state)]) -> aioredis.Redis:
    return state.redis


async def get_task_sender(state: Annotated[AppState, Depends(get_state)]) -> TaskSender:
    return state.tasks


async def get_replicas(state: Annotated[AppState, Depends(get_state)]) -> ReplicaCheck:
    return state.replicas


StateDep = Annotated[AppState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
RedisDep = Annotated[aioredis.Redis, Depends(get_redis)]
TaskSenderDep = Annotated[TaskSender, Depends(get_task_sender)]
ReplicasDep = Annotated[ReplicaCheck, Depends(get_replicas)]


def cursor_query(pattern: str) -> tuple[Any, ...]:
    """A list's `cursor` parameter (`Annotated[str | None, *cursor_query(PATTERN)]`): shaped as
    `pattern` (in the schema too), else a 422 saying what to send; `Query(pattern=)` answered
    with the regex itself."""
    shape = re.compile(pattern)

    def check(value: str | None) -> str | None:
        if value is not None and not shape.fullmatch(value):
            raise PydanticCustomError(
                "cursor_invalid",
                "not a cursor of this list: pass back the `next_cursor` a page of it gave",
            )
        return value

    return Query(json_schema_extra={"pattern": pattern}), AfterValidator(check)
