"""The order in which a benchmark's sides run in each of its alternated rounds.

Pure, so `make test` checks it quickly: the first side goes first in even rounds and last in
odd ones, so a busy moment or a warm-up (heaps growing, first-touch pages) hits every side alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def in_turn(round_: int, sides: Sequence[T]) -> list[T]:
    """`sides` in their order in even rounds, reversed in odd ones."""
    return list(sides) if round_ % 2 == 0 else list(reversed(sides))
