"""The per-connection budget of refused frames, on a clock of the test's own."""

from __future__ import annotations

from realtime.refusals import RefusalBudget


def test_the_burst_is_allowed_at_once_and_the_next_refused() -> None:
    budget = RefusalBudget(per_minute=60, burst=3, now=0.0)
    assert [budget.spend(0.0) for _ in range(4)] == [True, True, True, False]


def test_the_budget_refills_at_its_rate_up_to_the_burst() -> None:
    budget = RefusalBudget(per_minute=60, burst=3, now=0.0)
    for _ in range(3):
        budget.spend(0.0)
    assert budget.spend(0.5) is False  # half a refusal back: not enough
    assert budget.spend(1.0) is True
    assert [budget.spend(100.0) for _ in range(4)] == [True, True, True, False]
