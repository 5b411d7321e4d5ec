"""Response models of the probes (`/healthz`, `/readyz`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Alive(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    queues: list[str] = Field(description="Queues at least one live worker consumes.")
