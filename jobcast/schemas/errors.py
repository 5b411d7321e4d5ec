"""The one error shape of the API: `{"error": {"code", "message", "details"}}` on every 4xx/5xx."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    """One error: also how `POST /orders/batch` reports each rejected order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"code": "not_found", "message": "No job with that id.", "details": None}]
        }
    )

    code: str = Field(description="Stable machine-readable code, e.g. `not_found`, `rate_limited`.")
    message: str = Field(description="What went wrong and what to do about it.")
    details: Any = Field(default=None, description="Field errors, limits, or a request id.")


class ErrorResponse(BaseModel):
    """The body of every 4xx and 5xx answer."""

    error: ErrorDetail
