"""Decimal columns (Parquet's decimal128 and decimal256) as a result writes them.

A result's JSON number is an int or a float64: a whole-number decimal (`decimal(20, 0)`, IDs
past 2^53) is an int with every digit, any other the float64 nearest it, whose shortest text
is the decimal's own digits up to `FLOAT_DIGITS` significant ones (`decimal(12, 2)`).

Arrow's cast of a decimal to float64 is not that nearest float64: it missed ~13 % of random
`decimal(12, 2)` values by an ulp (2504125731.74 became 2504125731.7400002), noise in a
profile's figures where pandas' `float(Decimal)` has none. `decimal_floats` rounds correctly
where it is cheap, which covers money and every decimal a float64 tells apart.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Significant digits of any decimal that come back from its nearest float64 (`DBL_DIG`): two
#: such decimals never share one, so the float64 stands for the decimal exactly.
FLOAT_DIGITS = 15
#: Digits of any decimal whose unscaled integer fits an int64.
_INT64_DIGITS = 18
#: 10^scale is a float64 exactly up to here, so one division rounds the quotient once.
_EXACT_POWERS = 22


def decimal_number(value: Decimal, scale: int) -> int | float:
    """`value`, of a decimal column of `scale`, as a JSON number: whole ones of a whole-number
    column as ints with every digit, the others as the float64 nearest them."""
    if scale <= 0 and value == value.to_integral_value():
        return int(value)
    return float(value)


def holds_in_float(type_: pa.DataType) -> bool:
    """Whether each value of this decimal type is told apart by its nearest float64."""
    return bool(type_.precision <= FLOAT_DIGITS)


def between_exactly(low: float, high: float, t: float) -> Decimal:
    """The quantile at `t` from `low` to `high`, two values of a decimal column that
    `holds_in_float` as their float64s, interpolated in decimal: the float64 interpolation adds
    noise (`0.1`, `0.2` at 0.5 made `0.15000000000000002`), and this is the value exactly."""
    first, last = Decimal(repr(low)), Decimal(repr(high))
    return first + (last - first) * Decimal(t)


def decimal_floats(values: pa.Array) -> pa.Array:
    """Each decimal's float64 (nulls stay null): the nearest, as `float(Decimal)` rounds it,
    up to 15 digits and for whole numbers up to 18; past them Arrow's, within an ulp of it."""
    type_ = values.type
    if holds_in_float(type_) and 0 <= type_.scale <= _EXACT_POWERS:
        # The unscaled integer and 10^scale are float64 exactly: one division, rounded once.
        return _floats(_unscaled(values).astype(np.float64) / 10.0**type_.scale, values)
    if type_.scale == 0 and type_.precision <= _INT64_DIGITS:
        return _floats(_unscaled(values).astype(np.float64), values)  # rounded once
    # Arrow's text-to-float64 rounds to the nearest, but through text took 16 times as long.
    return values.cast(pa.float64())


def _floats(floats: np.ndarray, values: pa.Array) -> pa.Array:
    mask = pc.is_null(values).to_numpy(zero_copy_only=False) if values.null_count else None
    return pa.array(floats, pa.float64(), mask=mask)


def _unscaled(values: pa.Array) -> np.ndarray:
    """The decimals' unscaled integers, which fit an int64 (at most 18 digits): the low word of
    each little-endian two's complement value. A null's slot holds anything."""
    width = values.type.byte_width
    word = np.int64 if width >= 8 else np.dtype(f"<i{width}")
    step = max(1, width // 8)
    words = np.frombuffer(values.buffers()[1], dtype=word)
    start = values.offset * step
    return words[start : start + len(values) * step : step]
