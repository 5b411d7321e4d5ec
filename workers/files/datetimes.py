"""Dates and times of a table as results show them, in every year Arrow reads.

Python's datetime holds years 1 to 9999; Arrow reads `0000-01-01` and dates past 9999 too. A
value is counted in its column's own unit (`time_unit`: int64 ticks, which hold every value of
the column) and written by moving it by whole 400-year cycles, after which the Gregorian calendar
repeats, into datetime's range, then moving the year back.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

#: Ticks of each Arrow time unit in a second.
_TICKS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_EPOCH = dt.datetime(1970, 1, 1)
_DAY_MICROS = 86_400_000_000
#: Days in 400 Gregorian years, after which the calendar repeats.
_CYCLE_DAYS = 146_097


def time_unit(type_: pa.DataType) -> str | None:
    """The unit a datetime column is counted in: its own, in which every value it holds fits."""
    if pa.types.is_timestamp(type_):
        return str(type_.unit)
    if pa.types.is_date32(type_):
        return "s"  # any date32 fits int64 in seconds; not in nanoseconds
    if pa.types.is_date64(type_):
        return "ms"
    return None


def micros(ticks: float, unit: str) -> int:
    """`ticks` of `unit` in whole microseconds, the precision of a datetime in the result."""
    per_second = _TICKS_PER_SECOND[unit]
    if isinstance(ticks, int):
        return ticks * 1_000_000 // per_second  # a value: truncated, as Python's datetime does
    return round(ticks * 1_000_000 / per_second)  # a mean, quantile or histogram edge


def iso_text(micros: int, sep: str = "T") -> str:
    """Microseconds since 1970 in ISO 8601 (`sep` between date and time), in any year."""
    days, rest = divmod(micros, _DAY_MICROS)
    cycles, day = divmod(days, _CYCLE_DAYS)
    stamp = _EPOCH + dt.timedelta(days=day, microseconds=rest)
    return f"{stamp.year + 400 * cycles:04d}{stamp.isoformat(sep)[4:]}"


def column_texts(column: pa.ChunkedArray | pa.Array) -> list[str | None]:
    """A date or timestamp column's values as `str` writes a Python date or datetime (what a
    result holds for them), also where Python has no such date: `2024-05-01`, `0000-01-01
    12:00:00`, `1999-12-31 23:59:59.500000+00:00` (a time zone's values are in UTC)."""
    unit = time_unit(column.type)
    if unit is None:
        raise TypeError(f"not a date or timestamp column: {column.type}")
    ticks = column.cast(pa.timestamp(unit)).cast(pa.int64()).to_pylist()
    dates_only = pa.types.is_date(column.type)
    zone = "+00:00" if getattr(column.type, "tz", None) else ""
    return [
        None
        if t is None
        else iso_text(micros(t, unit), " ")[:10]
        if dates_only
        else iso_text(micros(t, unit), " ") + zone
        for t in ticks
    ]
