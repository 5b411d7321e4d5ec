"""A short soak (bench/soak.py): each fault kind once (`SOAK_FAULTS=20`, as `make soak` sets,
for more) under a mixed load of file jobs, orders and WebSocket clients; nothing accepted is
lost, doubled, stuck or wrong."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.soak import Plan, run_soak
from bench.soak_load import LIGHT
from bench.soak_stack import FAULTS

#: Faults in the soak: every kind once in `make test` (each is what a fault kind proves; more
#: faults of each are `make soak`'s, or bench/soak.py's 100).
FAULT_COUNT = int(os.environ.get("SOAK_FAULTS", len(FAULTS)))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_faults_of_every_kind_lose_double_and_strand_nothing(tmp_path: Path) -> None:
    # Faults overlap the recoveries (each still timed from its own fault), so 20 fit in minutes
    plan = Plan(faults=FAULT_COUNT, seed=7, shape=LIGHT, pause=(0.5, 1.5), wait_recovery=False)
    report = run_soak(plan, tmp_path, say=print)
    shown = "\n".join(report.lines())
    print(shown)

    assert set(report.faults) == set(FAULTS), shown
    assert sum(report.faults.values()) >= FAULT_COUNT
    assert report.totals() == {"lost": 0, "duplicated": 0, "stuck": 0, "wrong": 0}, shown
    # Under load around every fault (20 faults: over 20 jobs and 80 orders)
    assert report.jobs.accepted > FAULT_COUNT, shown
    assert report.orders.accepted > 4 * FAULT_COUNT, shown
    assert report.ws.events > 0, shown
    assert report.ws.sessions > report.ws.clients, shown  # they dropped and resumed
