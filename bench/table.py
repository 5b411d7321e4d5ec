"""The one table `make bench` prints: figure, Jobcast, reference, ratio, goal, met?

Pure functions only (no processes, no clocks), so `make test` can check them quickly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    """A bound on one number of a row: `value >= bound` (at_least) or `value <= bound`."""

    bound: float
    at_least: bool
    text: str

    def met(self, value: float) -> bool | None:
        """None when the value could not be measured (NaN): neither met nor missed."""
        if math.isnan(value):
            return None
        return value >= self.bound if self.at_least else value <= self.bound


def at_least(bound: float, text: str) -> Goal:
    return Goal(bound, True, text)


def at_most(bound: float, text: str) -> Goal:
    return Goal(bound, False, text)


@dataclass(frozen=True)
class Row:
    """One figure. `judged` is what the goal is checked against (a ratio, a difference, or a
    latency), `ratio_text` how it is shown; a row without a goal is context for another."""

    figure: str
    jobcast: str
    reference: str
    ratio_text: str
    judged: float
    goal: Goal | None = None

    @property
    def met(self) -> str:
        if self.goal is None:
            return "—"
        verdict = self.goal.met(self.judged)
        return "n/a" if verdict is None else ("yes" if verdict else "NO")


def ratio(ours: float, reference: float) -> float:
    """ours / reference, NaN when either side is missing or the reference is zero."""
    if math.isnan(ours) or math.isnan(reference) or reference == 0:
        return math.nan
    return ours / reference


def times(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}x"


def ratio_row(
    figure: str, ours: float, ref: float, unit: str, ref_name: str, goal: Goal | None
) -> Row:
    """A row whose goal is on ours / reference (both "higher is better" figures)."""
    value = ratio(ours, ref)
    return Row(
        figure, number(ours, unit), f"{ref_name}: {number(ref, unit)}", times(value), value, goal
    )


def number(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    digits = 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 2)
    return f"{value:,.{digits}f} {unit}".rstrip()


HEADER = ("figure", "Jobcast", "reference", "ratio", "goal", "met?")


def render(rows: list[Row]) -> str:
    """A Markdown table (readable in a terminal, pasteable into bench/RESULTS.md)."""
    cells = [HEADER] + [
        (r.figure, r.jobcast, r.reference, r.ratio_text, r.goal.text if r.goal else "—", r.met)
        for r in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def summary(rows: list[Row]) -> str:
    judged = [r for r in rows if r.goal is not None]
    met = sum(r.met == "yes" for r in judged)
    missed = [r.figure for r in judged if r.met == "NO"]
    unmeasured = [r.figure for r in judged if r.met == "n/a"]
    text = f"{met} of {len(judged)} goals met"
    if missed:
        text += "; missed: " + "; ".join(missed)
    if unmeasured:
        text += "; not measured: " + "; ".join(unmeasured)
    return text
