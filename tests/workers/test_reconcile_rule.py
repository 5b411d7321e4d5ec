"""When the reconciler takes work for stuck, from the registry and the broker (no Redis)."""

from __future__ import annotations

import json

import pytest

from jobcast.settings import Settings
from jobcast.worker_registry import hold_grace, live_holds
from workers.broker_messages import Held, held_messages
from workers.reconcile import Bounds, Stuck, stuck_among

NOW = 1_000_000.0
#: Heartbeats every 2 s (the default): a live worker lists a message it took 8 s ago at latest.
BOUNDS = Bounds.of(hold_grace(2.0), after=120.0)


def job(job_id: str, idle: float) -> Stuck:
    return Stuck("job", job_id, "running", NOW - idle, "p_alice")


def worker(holds: list[str], reported_ago: float) -> str:
    return json.dumps({"queues": ["files"], "holds": holds, "pid": 1, "ts": NOW - reported_ago})


def held(task_id: str, taken_ago: float, due_in: float | None = None) -> Held:
    return Held(task_id, task_id, NOW - taken_ago, 0.0 if due_in is None else NOW + due_in)


def stuck(candidates: list[Stuck], messages: list[Held], workers: dict[str, str]) -> list[str]:
    alive = live_holds(workers, NOW, max_age=6.0)
    return [s.key for s in stuck_among(candidates, set(), messages, alive, NOW, BOUNDS)]


def test_grace_is_the_live_heartbeats_and_one_more() -> None:
    assert hold_grace(2.0) == 8.0
    assert (BOUNDS.grace, BOUNDS.after) == (8.0, 120.0)
    assert Bounds.of(8.0, after=1.0) == Bounds(grace=1.0, after=1.0)  # never past `after`


def test_a_ten_second_sweep_resends_a_dead_workers_job_within_half_a_minute() -> None:
    # What README offers a small cluster: JOBCAST_RECONCILE_INTERVAL=10, aging unchanged.
    tuned = Settings(_env_file=None, reconcile_interval=10.0)  # type: ignore[call-arg]
    # Idle past the grace, then found by two sweeps in a row
    grace = hold_grace(tuned.worker_heartbeat_interval)
    assert grace + 2 * tuned.reconcile_interval <= 30.0
    # Sweeping that often leaves queue aging at the pace it has with 30 s sweeps
    assert tuned.queue_aging_interval == Settings(_env_file=None).queue_aging_interval == 30.0  # type: ignore[call-arg]


def test_message_a_dead_worker_holds_is_stuck_once_past_the_grace() -> None:
    # The worker listing it last reported 30 s ago: dead; a live worker holds something else
    workers = {"dead#1": worker(["j_1"], 30), "live#2": worker(["j_other"], 1)}

    assert stuck([job("j_1", idle=10)], [held("j_1", taken_ago=60)], workers) == ["j_1"]


@pytest.mark.parametrize(
    ("idle", "taken_ago", "reported_by_live"),
    [
        (5, 60, False),  # its job had an event within the grace: its worker may be alive
        (10, 5, False),  # taken within the grace: its worker may not have reported it yet
        (10, 60, True),  # a live worker lists it: a slow task
    ],
)
def test_held_message_is_left_alone_within_the_grace_or_when_a_live_worker_lists_it(
    idle: float, taken_ago: float, reported_by_live: bool
) -> None:
    workers = {"live#2": worker(["j_1"] if reported_by_live else [], 1)}

    assert stuck([job("j_1", idle)], [held("j_1", taken_ago)], workers) == []


def test_countdown_retry_a_dead_worker_holds_waits_until_it_is_due() -> None:
    workers = {"dead#1": worker(["j_1"], 600)}
    assert stuck([job("j_1", 600)], [held("j_1", 600, due_in=60)], workers) == []
    assert stuck([job("j_1", 600)], [held("j_1", 600, due_in=-60)], workers) == ["j_1"]


def test_work_with_no_message_anywhere_waits_for_the_slow_bound() -> None:
    assert stuck([job("j_lost", idle=10)], [], {}) == []
    assert stuck([job("j_lost", idle=121)], [], {}) == ["j_lost"]


def test_dead_workers_message_beside_a_live_one_is_not_stuck() -> None:
    candidates = [job("j_1", idle=60), Stuck("symbol", "BTC-USD", "unmatched", NOW - 60)]
    messages = [held("j_1", 60), Held("symbol:BTC-USD", "t_dead", NOW - 60, 0.0)]

    # Only dead workers hold them: both stuck
    assert stuck(candidates, messages, {}) == ["j_1", "BTC-USD"]
    # A resend waits in a queue, or a live worker took another message for the symbol
    retaken = [*messages, Held("symbol:BTC-USD", "t_new", NOW - 60, 0.0)]
    waiting, alive = {"j_1"}, {"t_new"}
    found = stuck_among(candidates, waiting, retaken, alive, NOW, BOUNDS)
    assert found == []


def test_held_messages_reads_kombus_unacked_hash_and_index() -> None:
    payload = {"headers": {"id": "j_1", "task": "jobcast.files.run", "eta": None}, "body": ""}
    unacked = {"tag-1": json.dumps([payload, "", "files"])}

    assert held_messages(unacked, {"tag-1": NOW}) == [Held("j_1", "j_1", NOW, 0.0)]
    assert held_messages(unacked, {}) == [Held("j_1", "j_1", 0.0, 0.0)]  # index lost: long ago
