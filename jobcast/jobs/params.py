"""What a client may ask a file job to do: the validated `params` part of `POST /jobs`.

Plain pydantic (no web framework), so the workers validate the same model they are sent.
"""

from __future__ import annotations

import codecs
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

Metric = Literal["count", "sum", "mean", "min", "max"]

#: Largest `min_count`: more values than any group of a stored file holds (a sum is over at
#: most its rows); Arrow compares it with 64-bit counts, which a bigger number would not fit.
MAX_MIN_COUNT = 10**12
#: Codecs Python calls text encodings that no table is written in: domain names (`idna`,
#: `punycode`) and `undefined`, which decodes nothing.
NOT_FILE_ENCODINGS = frozenset({"idna", "punycode", "undefined"})
NAME_AN_ENCODING = "name a Python codec such as utf-8, cp1252, latin-1 or utf-16"
#: Validation context of params being submitted (the api's POST /jobs, the client's check
#: before an upload, the worker before it runs them): only then do the rules a later version
#: added apply. A stored job's params are read as they were accepted, so a job submitted
#: before such a rule still shows (it is not a 500 in GET /jobs/{id} nor an error in a client).
SUBMITTED = {"submitted": True}


def _written_as(kind: str, what: str) -> WrapValidator:
    """Strict JSON types, as orders take them (`"no"` is not false, `"3"` not 3), refused with
    what to write instead of one pydantic error per member of a union."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            if not all(_of_the_wrong_type(err["type"]) for err in exc.errors()):
                raise  # the right type out of bounds (`min_count: -1`) keeps its own message
            raise PydanticCustomError(kind, f"write {what}") from None

    return WrapValidator(validate)


def _of_the_wrong_type(error_type: str) -> bool:
    return error_type.endswith("_type") or error_type == "none_required"


def _sheet_index_from_zero(schema: dict[str, Any]) -> None:
    # The schema states the rule of a submit, as `min_count`'s maximum does.
    for member in schema["anyOf"]:
        if member.get("type") == "integer":
            member["minimum"] = 0


Flag = Annotated[bool, Strict(), _written_as("bool_type", "true or false (a JSON boolean)")]
Count = Annotated[
    int, Strict(), _written_as("int_type", 'a whole number as a JSON number, e.g. 2 (not "2")')
]
#: A sheet's name, or its index as a JSON number ("2" names a sheet called 2).
Sheet = Annotated[
    StrictStr | StrictInt | None,
    _written_as(
        "sheet_type", 'the sheet\'s name as a string, e.g. "Sales", or its 0-based index, e.g. 0'
    ),
]


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
    group_by: list[str] = Field(
        default_factory=list, max_length=32, json_schema_extra={"uniqueItems": True}
    )
    metrics: dict[str, list[Metric]] = Field(
        default_factory=dict, description="column -> metrics, for `aggregate`"
    )
    to: Literal["parquet", "csv"] | None = Field(default=None, description="for `convert`")
    dropna: Flag = Field(
        default=True, description="aggregate: drop rows whose group key is missing (as pandas)"
    )
    min_count: Count = Field(
        default=0,
        ge=0,
        json_schema_extra={"maximum": MAX_MIN_COUNT},
        description="aggregate: a sum over fewer values is null (pandas' min_count)",
    )
    header: Flag = Field(default=True, description="the first line names the columns (as pandas)")
    sheet: Sheet = Field(
        default=None,
        description="spreadsheets: sheet name or 0-based index (default: the first)",
        json_schema_extra=_sheet_index_from_zero,
    )
    # A name Python does not know, or a codec that is not a text encoding, is refused here
    # (`_a_text_encoding`), before the file is sent: the worker would fail the job only after.
    encoding: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$",
        description="text encoding, a Python codec name such as `cp1252`; default detected",
    )
    decimal: Literal[".", ","] | None = Field(
        default=None, description="decimal separator of numbers; default detected"
    )

    @field_validator("group_by")
    @classmethod
    def _each_key_once(cls, group_by: list[str], info: ValidationInfo) -> list[str]:
        # A result cannot hold two key columns of one name (Arrow fails on the duplicate).
        repeated = sorted({c for c in group_by if group_by.count(c) > 1})
        if repeated and _submitted(info):
            raise ValueError(
                f"names {', '.join(map(repr, repeated))} more than once; name each column once"
            )
        return group_by

    @field_validator("min_count")
    @classmethod
    def _bounded(cls, min_count: int, info: ValidationInfo) -> int:
        if min_count > MAX_MIN_COUNT and _submitted(info):
            raise ValueError(f"must be at most {MAX_MIN_COUNT:,}")
        return min_count

    @field_validator("sheet")
    @classmethod
    def _index_from_zero(cls, sheet: str | int | None, info: ValidationInfo) -> str | int | None:
        if isinstance(sheet, int) and sheet < 0 and _submitted(info):
            raise ValueError("a sheet index counts from 0 (the first sheet); write 0 or more")
        return sheet

    @field_validator("encoding")
    @classmethod
    def _a_text_encoding(cls, name: str | None, info: ValidationInfo) -> str | None:
        if name is None or not _submitted(info):
            return name
        try:
            codec = codecs.lookup(name)
        except LookupError:
            raise ValueError(f"unknown encoding {name!r}; {NAME_AN_ENCODING}") from None
        if not _decodes_files(codec):
            raise ValueError(f"{name!r} is not a text encoding; {NAME_AN_ENCODING}")
        return name

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


def _submitted(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("submitted"))


def _decodes_files(codec: codecs.CodecInfo) -> bool:
    """False for a codec that does not turn a file's bytes into text (`base64`, `zlib`, `idna`)."""
    # `_is_text_encoding` is how Python itself (str.encode, open) refuses base64 or zlib.
    return codec._is_text_encoding and codec.name not in NOT_FILE_ENCODINGS
