"""A short soak (bench/soak.py): 20 faults of every kind under a mixed load of file jobs, orders
and WebSocket clients; nothing accepted is lost, doubled, stuck or wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soak import Plan, run_soak
from bench.soak_load import LIGHT
from bench.soak_stack import FAULTS


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_twenty_faults_of_every_kind_lose_double_and_strand_nothing(tmp_path: Path) -> None:
    # Faults overlap the recoveries (each still timed from its own fault), so 20 fit in minutes
    plan = Plan(faults=20, seed=7, shape=LIGHT, pause=(0.5, 1.5), wait_recovery=False)
    report = run_soak(plan, tmp_path, say=print)
    shown = "\n".join(report.lines())
    print(shown)

    assert set(report.faults) == set(FAULTS), shown
    assert sum(report.faults.values()) >= 20
    assert report.totals() == {"lost": 0, "duplicated": 0, "stuck": 0, "wrong": 0}, shown
    assert report.jobs.accepted > 20, shown
    assert report.orders.accepted > 100, shown
    assert report.ws.events > 0, shown
    assert report.ws.sessions > report.ws.clients, shown  # they dropped and resumed
