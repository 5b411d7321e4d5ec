"""Dates and times of a table as results show them, in every year Arrow reads.

Python's datetime holds years 1 to 9999; Arrow reads `0000-01-01` and dates past 9999 too. A
value is counted in its column's own unit (`time_unit`: int64 ticks, which hold every value of
the column) and written by moving it by whole 400-year cycles, after which the Gregorian calendar
repeats, into datetime's range, then moving the year back.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable

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


#: A fixed offset as Arrow names a zone: `+01:00`, `-0530`.
_OFFSET = re.compile(r"^([+-])(\d\d):?(\d\d)$")


def time_zone(type_: pa.DataType) -> dt.tzinfo | None:
    """The zone of a timezone-aware timestamp column (named, `Europe/Paris`, or an offset,
    `+02:00`); None for naive ones. A name this system does not know is taken as UTC, in
    which the values are stored: the instant stays true."""
    name = getattr(type_, "tz", None) if pa.types.is_timestamp(type_) else None
    if not name:
        return None
    offset = _OFFSET.match(name)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        minutes = int(offset.group(2)) * 60 + int(offset.group(3))
        return dt.timezone(sign * dt.timedelta(minutes=minutes))
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def zoned_text(micros: int, zone: dt.tzinfo) -> str:
    """Microseconds since 1970 (UTC) as ISO 8601 in `zone`, with its offset at that instant
    (`2024-01-01T00:00:00+01:00`, `...+00:00` for UTC), as pandas and an aggregate show it.
    Where Python's datetime ends (years 1 and 9999, whose local time may cross it) in UTC."""
    try:
        stamp = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=micros)
        return stamp.astimezone(zone).isoformat()
    except OverflowError:
        return iso_text(micros) + "+00:00"


def clock_unit(type_: pa.DataType) -> str | None:
    """The unit a time-of-day column (`08:15:00`: Arrow's time32 and time64) is counted in."""
    return str(type_.unit) if pa.types.is_time(type_) else None


def clock_text(micros: int) -> str:
    """Microseconds since midnight as a time of day, `08:15:00` (`.250000` past the second),
    as `str` writes a Python time and so an aggregate's min and max."""
    seconds, fraction = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return dt.time(hour % 24, minute, second, fraction).isoformat()


def ticks_text(type_: pa.DataType) -> Callable[[float], str] | None:
    """How a profile writes a date, timestamp or time-of-day column's value, mean, quantile or
    edge, given in the column's ticks (`time_unit`, `clock_unit`); None for other columns."""
    clock = clock_unit(type_)
    if clock is not None:
        return lambda ticks: clock_text(micros(ticks, clock))
    unit = time_unit(type_)
    if unit is None:
        return None
    zone = time_zone(type_)
    if zone is None:
        return lambda ticks: iso_text(micros(ticks, unit))
    return lambda ticks: zoned_text(micros(ticks, unit), zone)


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
