"""Which submit rate the machine sustains without queueing, from short probes at rising rates.

Pure, for `bench/ws.py`: a probe is (submits/s, p50 round trip in ms). Below saturation the
round trip stays near its unloaded value; once tasks queue it climbs with every step. A rate is
sustained while its p50 stays within `factor` times the lowest rate's p50.
"""

from __future__ import annotations

#: How far the p50 may rise over the unloaded one before we call it queueing.
QUEUEING_FACTOR = 2.0


def sustained(probe: tuple[float, float], first: tuple[float, float], factor: float) -> bool:
    return probe[1] <= first[1] * factor


def sustained_rate(probes: list[tuple[float, float]], factor: float = QUEUEING_FACTOR) -> float:
    """The highest rate before the first probe that queued (the lowest rate if all did)."""
    if not probes:
        raise ValueError("no probes")
    ordered = sorted(probes)
    best = ordered[0][0]
    for probe in ordered[1:]:
        if not sustained(probe, ordered[0], factor):
            break
        best = probe[0]
    return best
