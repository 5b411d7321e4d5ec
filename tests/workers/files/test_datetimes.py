"""Dates and times as a profile writes them: a zone's values keep their zone."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from workers.files.datetimes import clock_text, ticks_text, time_zone, zoned_text
from workers.files.profile import ColumnProfile

NEW_YEAR_PARIS = int(dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))).timestamp())


def test_a_named_zone_writes_local_time_with_its_offset_at_that_instant() -> None:
    paris = time_zone(pa.timestamp("s", tz="Europe/Paris"))
    assert paris is not None
    assert zoned_text(NEW_YEAR_PARIS * 1_000_000, paris) == "2024-01-01T00:00:00+01:00"
    summer = NEW_YEAR_PARIS + 182 * 86_400
    assert zoned_text(summer * 1_000_000, paris) == "2024-07-01T01:00:00+02:00"


def test_utc_and_fixed_offsets_are_written_with_their_offset() -> None:
    writes = ticks_text(pa.timestamp("s", tz="UTC"))
    assert writes is not None
    assert writes(0) == "1970-01-01T00:00:00+00:00"
    minus_five = ticks_text(pa.timestamp("ms", tz="-05:00"))
    assert minus_five is not None
    assert minus_five(0) == "1969-12-31T19:00:00-05:00"


def test_naive_timestamps_keep_no_offset_and_an_unknown_zone_is_utc() -> None:
    naive = ticks_text(pa.timestamp("s"))
    assert naive is not None
    assert naive(0) == "1970-01-01T00:00:00"
    assert time_zone(pa.timestamp("s", tz="Mars/Olympus")) == dt.UTC


def test_past_pythons_last_year_a_zoned_value_is_written_in_utc() -> None:
    paris = time_zone(pa.timestamp("s", tz="Europe/Paris"))
    assert paris is not None
    last = int(dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.UTC).timestamp()) * 1_000_000
    assert zoned_text(last, paris) == "9999-12-31T23:30:00+00:00"


def test_a_zoned_column_profile_is_in_its_zone_as_pandas_shows_it() -> None:
    values = pa.array(
        [NEW_YEAR_PARIS, None, NEW_YEAR_PARIS + 3600], pa.timestamp("s", "Europe/Paris")
    )
    column = ColumnProfile("ts", values.type, distinct_limit=100, quantile_values=100)
    column.update(values)

    summary = column.summary()

    assert summary["min"] == "2024-01-01T00:00:00+01:00"
    assert summary["max"] == "2024-01-01T01:00:00+01:00"
    assert summary["50%"] == "2024-01-01T00:30:00+01:00"
    assert summary["top"][0] == {"value": "2024-01-01T00:00:00+01:00", "count": 1}
    assert summary["histogram"]["edges"][0] == "2024-01-01T00:00:00+01:00"


def test_a_time_of_day_is_written_as_the_aggregate_writes_it() -> None:
    assert clock_text(8 * 3_600_000_000 + 15 * 60_000_000) == "08:15:00"
    assert clock_text(250_000) == "00:00:00.250000"
    seconds = ticks_text(pa.time32("s"))
    assert seconds is not None
    assert seconds(22 * 3600 + 15 * 60) == "22:15:00"


def test_a_time_of_day_column_is_profiled_as_times_with_counts_and_bounds() -> None:
    # It was `other` (meant for nested values): no distinct count, no top values, no bounds.
    values = pa.array([8 * 3600, 9 * 3600 + 1800, 8 * 3600, None], pa.time32("s"))
    column = ColumnProfile("start", values.type, distinct_limit=100, quantile_values=100)
    column.update(values)

    summary = column.summary()

    assert summary["type"] == "time"
    assert (summary["count"], summary["nulls"], summary["distinct"]) == (3, 1, 2)
    assert summary["top"] == [
        {"value": "08:00:00", "count": 2},
        {"value": "09:30:00", "count": 1},
    ]
    assert (summary["min"], summary["50%"], summary["max"]) == ("08:00:00", "08:00:00", "09:30:00")
    assert summary["mean"] == "08:30:00"
    assert summary["std"] is None
    assert summary["histogram"]["edges"][-1] == "09:30:00"
