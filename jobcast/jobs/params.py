"""What a client may ask a file job to do: the validated `params` part of `POST /jobs`.

Plain pydantic (no web framework), so the workers validate the same model they are sent.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Metric = Literal["count", "sum", "mean", "min", "max"]


def _one_variant_per_operation(schema: dict[str, Any]) -> None:
    """Document the rules across fields (the validator below) as one variant per operation, so
    a client or a schema fuzzer sees which options go with which operation."""
    props = schema.pop("properties")
    schema.pop("additionalProperties", None)
    none: dict[str, Any] = {
        "group_by": {"type": "array", "maxItems": 0},
        "metrics": {"type": "object", "maxProperties": 0},
        "to": {"type": "null"},
        "dropna": {"type": "boolean", "const": True},
        "min_count": {"type": "integer", "const": 0},
    }

    # How to read the file: the same options for every operation.
    reading = {name: props[name] for name in ("header", "sheet", "encoding", "decimal")}

    def variant(operation: str, required: list[str], **own: Any) -> dict[str, Any]:
        properties = {**none, **reading, **own, "operation": {"type": "string", "const": operation}}
        return {
            "type": "object",
            "title": operation,
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }

    aggregate = variant(
        "aggregate",
        ["operation"],
        group_by=props["group_by"],
        metrics=props["metrics"],
        dropna=props["dropna"],
        min_count=props["min_count"],
    )
    aggregate["anyOf"] = [
        {"required": ["group_by"], "properties": {"group_by": {"minItems": 1}}},
        {"required": ["metrics"], "properties": {"metrics": {"minProperties": 1}}},
    ]
    to = {**props["to"]["anyOf"][0], "description": props["to"].get("description")}
    schema["oneOf"] = [
        variant("profile", []),
        aggregate,
        variant("convert", ["operation", "to"], to=to),
    ]


class JobParams(BaseModel):
    """`operation` plus its options; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_variant_per_operation)

    operation: Literal["profile", "aggregate", "convert"] = "profile"
    group_by: list[str] = Field(default_factory=list, max_length=32)
    metrics: dict[str, list[Metric]] = Field(
        default_factory=dict, description="column -> metrics, for `aggregate`"
    )
    to: Literal["parquet", "csv"] | None = Field(default=None, description="for `convert`")
    dropna: bool = Field(
        default=True, description="aggregate: drop rows whose group key is missing (as pandas)"
    )
    min_count: int = Field(
        default=0,
        ge=0,
        description="aggregate: a sum over fewer values is null (pandas' min_count)",
    )
    header: bool = Field(default=True, description="the first line names the columns (as pandas)")
    sheet: str | int | None = Field(
        default=None, description="spreadsheets: sheet name or 0-based index (default: the first)"
    )
    # A codec name is checked by the worker (an unknown one fails the job as invalid_encoding).
    encoding: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$",
        description="text encoding, a Python codec name such as `cp1252`; default detected",
    )
    decimal: Literal[".", ","] | None = Field(
        default=None, description="decimal separator of numbers; default detected"
    )

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
        if self.operation != "aggregate" and (not self.dropna or self.min_count):
            raise ValueError("`dropna` and `min_count` only apply to aggregate")
        return self
