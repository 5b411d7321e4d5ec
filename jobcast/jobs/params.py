"""What a client may ask a file job to do: the validated `params` part of `POST /jobs`.

Plain pydantic (no web framework), so the workers validate the same model they are sent.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Metric = Literal["count", "sum", "mean", "min", "max"]


class JobParams(BaseModel):
    """`operation` plus its options; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    operation: Literal["profile", "aggregate", "convert"] = "profile"
    group_by: list[str] = Field(default_factory=list, max_length=32)
    metrics: dict[str, list[Metric]] = Field(
        default_factory=dict, description="column -> metrics, for `aggregate`"
    )
    to: Literal["parquet", "csv"] | None = Field(default=None, description="for `convert`")

    @model_validator(mode="after")
    def _options_fit_operation(self) -> JobParams:
        if self.operation == "aggregate" and not (self.group_by or self.metrics):
            raise ValueError("aggregate needs `group_by` columns and/or `metrics`")
        if self.operation == "convert" and self.to is None:
            raise ValueError("convert needs `to`: parquet or csv")
        if self.operation != "aggregate" and (self.group_by or self.metrics):
            raise ValueError("`group_by` and `metrics` only apply to aggregate")
        if self.operation != "convert" and self.to is not None:
            raise ValueError("`to` only applies to convert")
        return self
