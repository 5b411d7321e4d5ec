"""Request and response models of the data-items API (the seed's `/data/`)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from jobcast.schemas.text import ShortVisibleText, VisibleText

Tag = ShortVisibleText


def within_float(value: Any) -> Any:
    """A JSON integer past a float's range (400 digits) was "Input should be a valid number":
    it is one, too large to keep."""
    if type(value) is int and abs(value) > sys.float_info.max:
        raise ValueError(f"is too large: at most {sys.float_info.max:.4g}")
    return value


class DataCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "sensor-7", "value": 21.5, "tags": ["lab"]}]},
    )

    name: VisibleText = Field(
        min_length=1, max_length=200, description="1 to 200 characters, no control characters."
    )
    # Strict: a number, not `true` or `"1"` taken for one.
    value: float = Field(
        ge=0, allow_inf_nan=False, strict=True, description="A finite number, 0 or more."
    )
    tags: list[Tag] = Field(default_factory=list, max_length=20, description="Up to 20 tags.")

    _value_within_float = field_validator("value", mode="before")(within_float)


def _fields_optional_but_not_null(schema: dict[str, Any]) -> None:
    """Document a PATCH body truthfully: any subset of the fields, at least one, none null."""
    schema["minProperties"] = 1
    for prop in schema["properties"].values():
        variants = prop.pop("anyOf", [])
        prop.update(next((v for v in variants if v.get("type") != "null"), {}))
        prop.pop("default", None)
    schema["examples"] = [{"value": 22.0}]


class DataUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_fields_optional_but_not_null)

    name: VisibleText | None = Field(default=None, min_length=1, max_length=200)
    value: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)
    tags: list[Tag] | None = Field(default=None, max_length=20)

    _value_within_float = field_validator("value", mode="before")(within_float)

    @field_validator("name", "value", "tags")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Per field, so the error names it (`body.name`); a model check named only `body`.
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep it as it is")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> DataUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one of name, value, tags")
        return self


class DataItem(BaseModel):
    id: str = Field(description="96-bit random hex, made by the server.")
    name: str
    value: float
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class DataPage(BaseModel):
    items: list[DataItem]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
