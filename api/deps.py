"""FastAPI dependencies, as `Annotated` aliases the routes declare.

Each is `async def` though it never awaits: FastAPI runs a plain `def` dependency in its thread
pool, a thread hop per dependency per request (a third of an authenticated read's time).
"""

from __future__ import annotations

from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, Request

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
