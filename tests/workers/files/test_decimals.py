"""Decimals as a result writes them, on their own: the float64 nearest each, and JSON numbers."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pyarrow as pa
import pytest

from workers.files.decimals import between_exactly, decimal_floats, decimal_number


def random_decimals(count: int, digits: int, scale: int) -> list[Decimal | None]:
    rng = random.Random(7)
    values: list[Decimal | None] = [
        Decimal(rng.randint(-(10**digits) + 1, 10**digits - 1)).scaleb(-scale) for _ in range(count)
    ]
    values[::97] = [None] * len(values[::97])
    return values


@pytest.mark.parametrize(
    "type_",
    [
        pa.decimal128(12, 2),  # money: Arrow's own cast missed ~13 % of these by an ulp
        pa.decimal128(15, 0),
        pa.decimal256(10, 4),
        pa.decimal128(18, 0),  # whole numbers an int64 holds
    ],
)
def test_each_decimal_becomes_its_nearest_float_as_python_rounds_it(type_: pa.DataType) -> None:
    values = random_decimals(20_000, type_.precision, type_.scale)
    array = pa.array(values, type_)
    expected = [None if v is None else float(v) for v in values]
    assert decimal_floats(array).to_pylist() == expected
    # A slice (a batch of a longer column) starts where it starts.
    assert decimal_floats(array.slice(333, 1000)).to_pylist() == expected[333:1333]


@pytest.mark.parametrize(
    "type_", [pa.decimal128(20, 0), pa.decimal128(26, 6), pa.decimal128(5, -2)]
)
def test_a_wider_decimal_becomes_a_float_within_an_ulp(type_: pa.DataType) -> None:
    values = [v for v in random_decimals(20_000, type_.precision, type_.scale) if v is not None]
    floats = decimal_floats(pa.array(values, type_)).to_pylist()
    for value, got in zip(values, floats, strict=True):
        assert abs(got - float(value)) <= math.ulp(float(value)), value


def test_a_money_value_reads_as_its_own_digits() -> None:
    floats = decimal_floats(pa.array([Decimal("2504125731.74")], pa.decimal128(12, 2)))
    assert repr(floats[0].as_py()) == "2504125731.74"


def test_whole_decimals_are_ints_with_every_digit_and_others_floats() -> None:
    assert decimal_number(Decimal("12345678901234567891"), 0) == 12345678901234567891
    assert type(decimal_number(Decimal("12345678901234567891"), 0)) is int
    assert decimal_number(Decimal("123E+2"), -2) == 12300
    assert decimal_number(Decimal("1234567890.12"), 2) == 1234567890.12
    # A quantile between two whole values need not be whole: never cut to an int.
    assert decimal_number(Decimal("10.5"), 0) == 10.5


def test_a_quantile_between_two_decimals_is_interpolated_exactly() -> None:
    assert 0.1 + (0.2 - 0.1) * 0.5 != 0.15  # what the float64 interpolation writes
    assert between_exactly(0.1, 0.2, 0.5) == Decimal("0.15")
    assert between_exactly(2504125731.74, 2504125731.75, 0.25) == Decimal("2504125731.7425")
    assert between_exactly(-3.0, -3.0, 0.75) == Decimal(-3)
