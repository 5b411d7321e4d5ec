"""Bytes and extension-typed Parquet columns convert to CSV as text a consumer can read back
(bytes base64, UUIDs canonical), and a profile's `top` shows bytes as the CSV does."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobcast.jobs.params import JobParams
from tests.workers.files.support import SMALL_BATCHES
from workers.files.errors import FileJobError
from workers.files.runner import Hooks, run_job

TO_CSV = JobParams(operation="convert", to="csv")
RAW = [b"\xff\x00", b"ok", None, b"", b"ok"]
UNQUOTED = [b"\xff\x00", b"ok", None, b"ok"]


def run(path: Path, params: JobParams) -> Any:
    return run_job(path, params, SMALL_BATCHES, Hooks(), path.parent / "out.csv")


def written(tmp_path: Path) -> pd.DataFrame:
    return pd.read_csv(tmp_path / "out.csv", keep_default_na=False, na_values=[""], dtype=str)


def decoded(cell: Any) -> bytes | None:
    return None if pd.isna(cell) else base64.b64decode(cell, validate=True)


@pytest.mark.parametrize("kind", [pa.binary(), pa.large_binary()])
def test_bytes_that_are_not_utf8_convert_to_csv_as_base64_of_the_bytes_pandas_reads(
    tmp_path: Path, kind: pa.DataType
) -> None:
    path = tmp_path / "raw.parquet"
    pq.write_table(pa.table({"k": [1, 2, 3, 4], "b": pa.array(UNQUOTED, kind)}), path)

    result = run(path, TO_CSV)

    assert result["rows"] == 4
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines == ["k,b", "1,/wA=", "2,b2s=", "3,", "4,b2s="]
    assert [decoded(cell) for cell in written(tmp_path)["b"]] == pd.read_parquet(path)["b"].tolist()


def test_empty_bytes_are_an_empty_string_quoted_as_any_empty_string(tmp_path: Path) -> None:
    path = tmp_path / "raw.parquet"
    pq.write_table(pa.table({"k": [1, 2, 3, 4, 5], "b": pa.array(RAW, pa.binary())}), path)

    run(path, TO_CSV)

    # A run of rows with an empty string is written in pyarrow's style, every text quoted.
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines == ["k,b", '1,"/wA="', '2,"b2s="', "3,", '4,""', '5,"b2s="']


def test_fixed_size_and_categorical_bytes_are_base64_too(tmp_path: Path) -> None:
    path = tmp_path / "raw.parquet"
    codes = pa.array([b"\x01\x02", None, b"\xfe\xff"], pa.binary(2))
    labels = pa.array([b"\xff", b"ok", b"\xff"]).dictionary_encode()
    pq.write_table(pa.table({"f": codes, "c": labels}), path)

    run(path, TO_CSV)

    back = written(tmp_path)
    assert [decoded(cell) for cell in back["f"]] == codes.to_pylist()
    assert [decoded(cell) for cell in back["c"]] == [b"\xff", b"ok", b"\xff"]


def test_bytes_in_a_column_and_in_a_nested_value_are_written_alike(tmp_path: Path) -> None:
    path = tmp_path / "raw.parquet"
    pq.write_table(pa.table({"b": [b"\xff\x00"], "s": [{"b": b"\xff\x00"}]}), path)

    run(path, TO_CSV)

    back = written(tmp_path)
    assert back["s"][0] == '{"b":"' + back["b"][0] + '"}'


def test_uuids_convert_to_csv_in_the_canonical_text_pandas_writes(tmp_path: Path) -> None:
    path = tmp_path / "ids.parquet"
    ids = [uuid.UUID("12345678-1234-5678-1234-567812345678"), None, uuid.uuid4()]
    storage = pa.array([None if u is None else u.bytes for u in ids], pa.binary(16))
    column = pa.ExtensionArray.from_storage(pa.uuid(), storage)
    pq.write_table(pa.table({"k": [1, 2, 3], "id": column}), path)

    run(path, TO_CSV)

    pandas_text = (tmp_path / "pandas.csv").open("w")
    pd.read_parquet(path).to_csv(pandas_text, index=False)
    pandas_text.close()
    assert (tmp_path / "out.csv").read_text() == (tmp_path / "pandas.csv").read_text()
    assert written(tmp_path)["id"][0] == "12345678-1234-5678-1234-567812345678"


def test_other_arrow_extension_types_convert_as_their_stored_values(tmp_path: Path) -> None:
    path = tmp_path / "ext.parquet"
    flags = pa.ExtensionArray.from_storage(pa.bool8(), pa.array([1, 0, None], pa.int8()))
    texts = pa.ExtensionArray.from_storage(pa.json_(), pa.array(['{"a":1}', None, "[1]"]))
    tensor = pa.fixed_shape_tensor(pa.int32(), [2])
    cells = pa.array([[1, 2], None, [3, 4]], pa.list_(pa.int32(), 2))
    shapes = pa.ExtensionArray.from_storage(tensor, cells)
    pq.write_table(pa.table({"flag": flags, "doc": texts, "t": shapes}), path)

    run(path, TO_CSV)

    assert (tmp_path / "out.csv").read_text().splitlines() == [
        "flag,doc,t",
        '1,"{""a"":1}","[1,2]"',
        "0,,",
        ',"[1]","[3,4]"',
    ]


class _Money(pa.ExtensionType):
    """A writer's own extension type: its int64 storage means nothing without it."""

    def __init__(self) -> None:
        super().__init__(pa.int64(), "example.money")

    def __arrow_ext_serialize__(self) -> bytes:
        return b""

    @classmethod
    def __arrow_ext_deserialize__(cls, storage_type: pa.DataType, serialized: bytes) -> _Money:
        return cls()


@pytest.fixture
def money_type() -> Iterator[_Money]:
    pa.register_extension_type(_Money())
    yield _Money()
    pa.unregister_extension_type("example.money")


def test_an_extension_type_of_another_writer_fails_naming_the_column(
    tmp_path: Path, money_type: _Money
) -> None:
    path = tmp_path / "money.parquet"
    cents = pa.ExtensionArray.from_storage(money_type, pa.array([150, None]))
    pq.write_table(pa.table({"k": [1, 2], "price": cents}), path)

    with pytest.raises(FileJobError) as failure:
        run(path, TO_CSV)

    assert failure.value.code == "unsupported_type"
    assert "Column 'price'" in failure.value.message
    assert "'example.money'" in failure.value.message
    assert "Convert to Parquet" in failure.value.message


def test_profile_top_shows_bytes_as_the_csv_convert_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "raw.parquet"
    pq.write_table(pa.table({"b": pa.array(RAW, pa.binary())}), path)

    (column,) = run(path, JobParams())["profile"]
    run(path, TO_CSV)

    counts = pd.read_parquet(path)["b"].value_counts()
    csv_text = dict(zip(RAW, (tmp_path / "out.csv").read_text().splitlines()[1:], strict=True))
    top = [(entry["value"], entry["count"]) for entry in column["top"]]
    assert top == [(csv_text[raw].strip('"'), int(n)) for raw, n in counts.items()]
    assert top[0] == ("b2s=", 2)


def test_an_aggregate_shows_bytes_keys_and_extremes_as_the_csv_convert_writes_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "raw.parquet"
    pq.write_table(pa.table({"k": pa.array(UNQUOTED, pa.binary()), "v": [1, 2, 3, 4]}), path)
    params = JobParams.model_validate(
        {"operation": "aggregate", "group_by": ["k"], "metrics": {"v": ["sum"], "k": ["max"]}}
    )

    table = run(path, params)["table"]

    # pandas' groupby on the bytes, then each key written as the convert writes bytes.
    frame = pd.read_parquet(path).groupby("k", sort=True)["v"].sum()
    assert [(row["k"], row["v_sum"]) for row in table] == [
        (base64.b64encode(key).decode(), int(total)) for key, total in frame.items()
    ]
    assert [row["k_max"] for row in table] == [row["k"] for row in table]


def test_a_uuid_column_profiles_as_the_text_pandas_describes(tmp_path: Path) -> None:
    # It profiled as `other`, with no top or freq, where pandas describes its UUID objects.
    path = tmp_path / "ids.parquet"
    common, rare = uuid.UUID(int=7), uuid.UUID(int=2**127 + 5)
    ids = [rare, common, None, *[uuid.UUID(int=n) for n in range(300)], common, None, common]
    storage = pa.array([None if u is None else u.bytes for u in ids], pa.binary(16))
    column = pa.ExtensionArray.from_storage(pa.uuid(), storage)
    pq.write_table(pa.table({"id": column}), path, row_group_size=50)

    (profiled,) = run(path, JobParams())["profile"]

    described = pd.read_parquet(path)["id"].describe()
    assert profiled["type"] == "string"
    assert (profiled["count"], profiled["nulls"]) == (described["count"], 2)
    assert (profiled["distinct"], profiled["freq"]) == (described["unique"], described["freq"])
    assert profiled["top"][0]["value"] == str(described["top"]) == str(common)
    assert profiled["top"][1]["value"] == str(rare)  # ties in first-seen order, as pandas
