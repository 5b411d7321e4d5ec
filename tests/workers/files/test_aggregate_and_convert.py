"""Aggregate agrees with pandas groupby; convert produces a downloadable artifact."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import redis

from jobcast.jobs.params import JobParams
from tests.conftest import StartWorker
from tests.workers.files.support import SMALL_BATCHES, JobsClient, await_terminal, mixed_frame
from workers.files.runner import Hooks, run_job

LIMITS = replace(SMALL_BATCHES, max_columns=100, max_groups=3)


def test_aggregate_matches_pandas_groupby_across_batches(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    frame = mixed_frame(20_000)
    frame.to_csv(path, index=False)
    params = JobParams(
        operation="aggregate",
        group_by=["fruit"],
        metrics={"price": ["count", "sum", "mean", "min", "max"]},
    )
    limits = replace(LIMITS, max_groups=10)

    result = run_job(path, params, limits, Hooks(), tmp_path / "out")

    expected = (
        pd.read_csv(path).groupby("fruit")["price"].agg(["count", "sum", "mean", "min", "max"])
    )
    assert result["groups"] == len(expected)
    # Every group once, none missing or extra, then each metric as pandas has it.
    assert sorted(row["fruit"] for row in result["table"]) == sorted(expected.index)
    for row in result["table"]:
        want = expected.loc[row["fruit"]]
        for metric in ("count", "sum", "mean", "min", "max"):
            assert row[f"price_{metric}"] == pytest.approx(want[metric], rel=1e-9), metric


def test_aggregate_groups_by_a_parquet_categorical_as_pandas(tmp_path: Path) -> None:
    # A pandas categorical is a dictionary column in Parquet, each row group with its own
    # dictionary: sorting the groups failed internal_error.
    path = tmp_path / "cat.parquet"
    frame = pd.DataFrame({"fruit": pd.Categorical(mixed_frame(6_000)["fruit"]), "n": range(6_000)})
    frame.to_parquet(path, row_group_size=1_000)
    params = JobParams(
        operation="aggregate", group_by=["fruit"], metrics={"n": ["sum", "max"], "fruit": ["min"]}
    )

    result = run_job(path, params, replace(LIMITS, max_groups=10), Hooks(), tmp_path / "out")

    expected = frame.groupby("fruit", observed=True)["n"].agg(["sum", "max"])
    assert [row["fruit"] for row in result["table"]] == sorted(expected.index)
    for row in result["table"]:
        assert (row["n_sum"], row["n_max"]) == tuple(expected.loc[row["fruit"]])
        assert row["fruit_min"] == row["fruit"]


@pytest.mark.parametrize("ordered", [True, False])
def test_categorical_groups_come_in_category_order_and_convert_keeps_the_categories(
    tmp_path: Path, ordered: bool
) -> None:
    # pandas sorts a categorical key's groups by its categories: they came alphabetically, and
    # a convert wrote the categories in the order the values came, the unused one dropped.
    path = tmp_path / "size.parquet"
    sizes = ["high", "low", "medium", "low", "high", None] * 50
    categories = ["low", "medium", "high", "unused"]
    frame = pd.DataFrame(
        {
            "size": pd.Categorical(sizes, categories=categories, ordered=ordered),
            "team": ["b", "a", "a", "b", "a", "a"] * 50,
            "n": range(300),
        }
    )
    frame.to_parquet(path, row_group_size=40)
    for keys in (["size"], ["team", "size"]):
        params = JobParams(
            operation="aggregate", group_by=keys, metrics={"n": ["sum"]}, dropna=False
        )

        limits = replace(LIMITS, max_groups=10)
        table = run_job(path, params, limits, Hooks(), tmp_path / "out")["table"]

        expected = frame.groupby(keys, observed=True, dropna=False)["n"].sum().reset_index()
        expected = expected.astype(object).where(expected.notna(), None)
        assert [list(row.values()) for row in table] == expected.values.tolist(), keys

    run_job(path, JobParams(operation="convert", to="parquet"), LIMITS, Hooks(), tmp_path / "o.pq")
    converted = pd.read_parquet(tmp_path / "o.pq")["size"]
    assert (list(converted.cat.categories), converted.cat.ordered) == (categories, ordered)


def test_a_parquet_files_index_is_converted_first_and_grouped_by(tmp_path: Path) -> None:
    # A pandas index (time series' dates) was dropped by convert and unknown to group_by.
    path = tmp_path / "idx.parquet"
    days = pd.date_range("2024-01-01", periods=6, name="day")
    frame = pd.DataFrame({"v": [1, 2, 3, 4, 5, 6]}, index=days.repeat(1))
    frame.to_parquet(path)

    run_job(path, JobParams(operation="convert", to="csv"), LIMITS, Hooks(), tmp_path / "o.csv")
    converted = pd.read_csv(tmp_path / "o.csv", parse_dates=["day"])
    pd.testing.assert_frame_equal(converted, frame.reset_index(), check_dtype=False)
    run_job(path, JobParams(operation="convert", to="parquet"), LIMITS, Hooks(), tmp_path / "o.pq")
    assert pq.read_table(tmp_path / "o.pq").column_names == ["day", "v"]
    params = JobParams(operation="aggregate", group_by=["day"], metrics={"v": ["sum"]})
    grouped = run_job(path, params, replace(LIMITS, max_groups=10), Hooks(), tmp_path / "out")
    assert [row["v_sum"] for row in grouped["table"]] == frame.groupby("day")["v"].sum().tolist()
    profiled = run_job(path, JobParams(), LIMITS, Hooks(), tmp_path / "out")
    assert [c["name"] for c in profiled["profile"]] == ["v"]  # as describe(): no index


#: pandas frames whose index is named as one of their columns, and the levels `reset_index`
#: can make columns (the others cannot be: their name is taken).
INDEX_NAMED_AS_A_COLUMN = {
    "one level": (pd.Index([10, 20, 20], name="id"), []),
    "second of two levels": (
        pd.MultiIndex.from_arrays([["x", "y", "y"], [10, 20, 20]], names=["day", "id"]),
        ["day"],
    ),
}


@pytest.mark.parametrize(
    ("index", "resettable"), INDEX_NAMED_AS_A_COLUMN.values(), ids=INDEX_NAMED_AS_A_COLUMN.keys()
)
def test_an_index_named_as_a_column_is_converted_as_pandas_writes_it(
    tmp_path: Path, index: pd.Index, resettable: list[str]
) -> None:
    # pyarrow stores it as `__index_level_N__`, its name in the metadata: a convert wrote that.
    path = tmp_path / "clash.parquet"
    pd.DataFrame({"id": [1, 2, 2], "v": ["a", "b", "c"]}, index=index).to_parquet(path)
    assert [n for n in pq.read_schema(path).names if n.startswith("__index_level_")]
    frame = pd.read_parquet(path)

    run_job(path, JobParams(operation="convert", to="csv"), LIMITS, Hooks(), tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text() == frame.to_csv()  # the header: `id,id,v`
    run_job(path, JobParams(operation="convert", to="parquet"), LIMITS, Hooks(), tmp_path / "o.pq")
    expected = frame.reset_index(level=resettable) if resettable else frame
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o.pq"), expected)


def test_group_by_a_name_of_a_column_and_of_the_index_takes_the_column(tmp_path: Path) -> None:
    # pandas' groupby refuses such a name as ambiguous; it is the column, as `frame[name]` and
    # the profile have it, and the index is grouped by under the name it is stored under.
    path = tmp_path / "clash.parquet"
    index = pd.Index([10, 20, 20], name="id")
    pd.DataFrame({"id": [1, 1, 2], "v": [3, 4, 5]}, index=index).to_parquet(path)
    frame = pd.read_parquet(path)
    with pytest.raises(ValueError, match="ambiguous"):
        frame.groupby("id")

    def grouped(key: str) -> list[tuple[int, int]]:
        params = JobParams(operation="aggregate", group_by=[key], metrics={"v": ["sum"]})
        table = run_job(path, params, LIMITS, Hooks(), tmp_path / "out")["table"]
        return [(row[key], row["v_sum"]) for row in table]

    assert grouped("id") == list(frame.groupby(frame["id"])["v"].sum().items())
    assert grouped("__index_level_0__") == list(frame.groupby(level="id")["v"].sum().items())


def test_aggregate_with_more_groups_than_allowed_fails(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    mixed_frame(1000).to_csv(path, index=False)
    params = JobParams(operation="aggregate", group_by=["qty"], metrics={"price": ["sum"]})

    with pytest.raises(Exception, match="groups") as failure:
        run_job(path, params, LIMITS, Hooks(), tmp_path / "out")
    assert getattr(failure.value, "code", None) == "too_many_groups"


def test_convert_job_artifact_downloads_as_parquet_with_every_row(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    start_worker(queues="files")
    path = tmp_path / "t.csv"
    mixed_frame(5000).to_csv(path, index=False)

    job_id = jobs.submit_ok(path, params=json.dumps({"operation": "convert", "to": "parquet"}))
    assert await_terminal(redis_client, job_id)["type"] == "job.succeeded"
    download = jobs.http.get(f"/jobs/{job_id}/artifact")

    assert download.status_code == 200
    table = pq.read_table(io.BytesIO(download.content))
    assert table.num_rows == 5000
    assert table.column_names == list(pd.read_csv(path).columns)
    assert jobs.result(job_id)["artifact_bytes"] == len(download.content)


def test_aggregate_drops_missing_keys_and_sums_nothing_to_zero_as_pandas(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("k,v\na,1\nb,\n,5\na,2\nb,\nc,3.5\n")
    frame = pd.read_csv(path)
    params = JobParams(
        operation="aggregate", group_by=["k"], metrics={"v": ["count", "sum", "mean", "min", "max"]}
    )

    result = run_job(path, params, LIMITS, Hooks(), tmp_path / "out")

    expected = frame.groupby("k")["v"].agg(["count", "sum", "mean", "min", "max"])
    assert [row["k"] for row in result["table"]] == list(expected.index)
    b = next(row for row in result["table"] if row["k"] == "b")
    assert (b["v_sum"], expected.loc["b", "sum"]) == (0, 0)  # pandas' min_count=0
    assert b["v_mean"] is None
    assert pd.isna(expected.loc["b", "mean"])
    for row in result["table"]:
        assert row["v_count"] == expected.loc[row["k"], "count"]


def test_aggregate_dropna_false_and_min_count_follow_pandas(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("k,v\na,1\nb,\n,5\na,2\n")
    frame = pd.read_csv(path)
    params = JobParams(
        operation="aggregate", group_by=["k"], metrics={"v": ["sum"]}, dropna=False, min_count=1
    )

    result = run_job(path, params, LIMITS, Hooks(), tmp_path / "out")

    expected = frame.groupby("k", dropna=False)["v"].sum(min_count=1)
    got = [(row["k"], row["v_sum"]) for row in result["table"]]
    assert got == [("a", 3), ("b", None), (None, 5)]
    assert [None if pd.isna(k) else k for k in expected.index] == [k for k, _ in got]
    assert pd.isna(expected["b"])


def test_converted_csv_reads_back_with_pandas_types(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    frame = pd.DataFrame(
        {
            "whole": [807.0, 2.0, None],
            "part": [1.5, -0.1, 1e20],
            "n": [1, 2, 3],
            "s": ["a", "b", "c"],
        }
    )
    frame.to_parquet(path, index=False)
    out = tmp_path / "out.csv"

    run_job(path, JobParams(operation="convert", to="csv"), LIMITS, Hooks(), out)

    back = pd.read_csv(out)
    assert back.dtypes.to_dict() == pd.read_parquet(path).dtypes.to_dict() | {"s": back["s"].dtype}
    pd.testing.assert_frame_equal(back.drop(columns="s"), frame.drop(columns="s"))


def test_converted_csv_quotes_only_the_values_that_need_it(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    plain = pd.DataFrame({"city": ["Paris", None], "n": [1, 2], "x": [2.0, 0.5]})
    tricky = pd.DataFrame({"city": ["a,b", ""], "n": [3, 4], "x": [1.0, None]})
    # Two row groups, read as two batches: one needs no quotes, the other does.
    with pq.ParquetWriter(path, pa.Schema.from_pandas(plain, preserve_index=False)) as writer:
        for frame in (plain, tricky):
            writer.write_table(pa.Table.from_pandas(frame, preserve_index=False))
    out = tmp_path / "out.csv"

    run_job(path, JobParams(operation="convert", to="csv"), LIMITS, Hooks(), out)

    lines = out.read_text().splitlines()
    assert lines[:4] == ["city,n,x", "Paris,1,2.0", ",2,0.5", '"a,b",3,"1.0"']
    back = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert back["city"].tolist()[2] == "a,b"
    # The empty string stays one (quoted), the missing city stays missing (bare).
    assert lines[4].startswith('"",')
    assert pd.read_csv(out)["city"].isna().tolist() == [False, True, False, True]


def test_ids_past_int64_keep_every_digit_in_groups_and_converted_files(tmp_path: Path) -> None:
    # As float64 (pyarrow's inference) the first two IDs are one number: their groups merged.
    body = b"id,v\n12345678901234567890,1\n12345678901234567891,2\n12345678901234567890,5\n1,3\n"
    path = tmp_path / "ids.csv"
    path.write_bytes(body)
    params = JobParams(operation="aggregate", group_by=["id"], metrics={"v": ["sum"]})

    table = run_job(path, params, LIMITS, Hooks(), tmp_path / "out")["table"]
    run_job(
        path,
        JobParams(operation="convert", to="parquet"),
        LIMITS,
        Hooks(),
        tmp_path / "ids.parquet",
    )
    run_job(path, JobParams(operation="convert", to="csv"), LIMITS, Hooks(), tmp_path / "ids.out")

    expected = pd.read_csv(io.BytesIO(body)).groupby("id")["v"].sum()
    assert {row["id"]: row["v_sum"] for row in table} == expected.to_dict()
    converted = pq.read_table(tmp_path / "ids.parquet")
    assert converted.schema.field("id").type == pa.uint64()
    assert converted.equals(pa.Table.from_pandas(pd.read_csv(io.BytesIO(body))))
    assert (tmp_path / "ids.out").read_bytes() == body


def test_aggregate_job_means_epoch_milliseconds_as_pandas_and_sums_past_int64_exactly(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # Group a's milliseconds sum past 2^53; its `big` values past int64, where pandas wraps.
    start_worker(queues="files")
    path = tmp_path / "epoch_ms.csv"
    rows = [f"a,{1_700_000_000_000 + i},{2**63 - 1}" for i in range(6000)]
    path.write_text("\n".join(["g,ts_ms,big", *rows, "b,1700000000000,1"]) + "\n")
    params = {"operation": "aggregate", "group_by": ["g"]}
    params["metrics"] = {"ts_ms": ["mean"], "big": ["sum"]}

    job_id = jobs.submit_ok(path, params=json.dumps(params))
    assert await_terminal(redis_client, job_id)["type"] == "job.succeeded"
    table = jobs.result(job_id)["table"]

    expected = pd.read_csv(path).groupby("g")["ts_ms"].mean()
    assert {row["g"]: row["ts_ms_mean"] for row in table} == expected.to_dict()
    assert [row["big_sum"] for row in table] == [6000 * (2**63 - 1), 1]


def test_a_convert_leaves_an_excel_sep_line_out_of_the_converted_table(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("sep=;\r\nStadt;Betrag\r\nKöln;2,5\r\nBonn;1,25\r\n".encode("cp1252"))

    run_job(path, JobParams(operation="convert", to="csv"), LIMITS, Hooks(), tmp_path / "o.csv")

    converted = pd.read_csv(tmp_path / "o.csv")
    expected = pd.read_csv(path, sep=";", skiprows=1, decimal=",", encoding="cp1252")
    pd.testing.assert_frame_equal(converted, expected)
