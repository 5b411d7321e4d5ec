"""A message left next in a lower priority of the files queue for a whole aging interval moves up
one priority per aging run, to be the next taken there; one a worker took meanwhile is not
touched. Aging runs on the first reconciler sweep a whole aging interval after its last run."""

from __future__ import annotations

import itertools

import redis

from jobcast.rediskeys import priority_queue
from workers.queue_aging import AgingCadence, promote_waited

QUEUE = "aging-test"


def lists(client: redis.Redis) -> dict[int, list[str]]:
    """Each priority's messages, next taken first (kombu's BRPOP takes from the right)."""
    return {p: client.lrange(priority_queue(QUEUE, p), 0, -1)[::-1] for p in (0, 3, 6, 9)}


def test_a_message_next_for_a_whole_sweep_climbs_one_priority_a_sweep(
    redis_client: redis.Redis,
) -> None:
    for message in ("a1", "a2", "a3"):
        redis_client.lpush(priority_queue(QUEUE, 9), message)  # as kombu queues it
    redis_client.lpush(priority_queue(QUEUE, 0), "b1")

    heads, moved = promote_waited(redis_client, {}, QUEUE)  # a first sweep only looks
    assert moved == 0
    heads, moved = promote_waited(redis_client, heads, QUEUE)
    assert moved == 1
    assert lists(redis_client) == {0: ["b1"], 3: [], 6: ["a1"], 9: ["a2", "a3"]}

    heads, moved = promote_waited(redis_client, heads, QUEUE)
    assert moved == 2
    assert lists(redis_client) == {0: ["b1"], 3: ["a1"], 6: ["a2"], 9: ["a3"]}

    # Next sweep a1 is the next message of priority 0, ahead of b1, queued there before it.
    heads, _ = promote_waited(redis_client, heads, QUEUE)
    assert lists(redis_client)[0] == ["a1", "b1"]

    # A message taken by a worker between two sweeps is not the one seen: nothing moves.
    redis_client.rpop(priority_queue(QUEUE, 3))  # a2, taken
    redis_client.lpush(priority_queue(QUEUE, 3), "c1")
    _, moved = promote_waited(redis_client, heads, QUEUE)
    # a3, still next at 6 since the sweep before, goes ahead of c1; c1 stays.
    assert moved == 1
    assert lists(redis_client) == {0: ["a1", "b1"], 3: ["a3", "c1"], 6: [], 9: []}
    redis_client.delete(*(priority_queue(QUEUE, p) for p in (0, 3, 6, 9)))


def test_aging_runs_once_its_own_interval_passed_however_often_sweeps_come() -> None:
    aging = AgingCadence(30.0)
    # Sweeps every 10 s, each a little late (a sweep's own time): aging at the first sweep, then
    # at the first one a whole 30 s after its last run, never at the ones between
    sweeps = [n * 10.1 for n in range(10)]
    ran = [t for t in sweeps if aging.due(t)]
    assert ran == [0.0, sweeps[3], sweeps[6], sweeps[9]]
    assert all(b - a >= 30.0 for a, b in itertools.pairwise(ran))


def test_aging_runs_every_sweep_when_sweeps_come_slower_than_its_interval() -> None:
    aging = AgingCadence(30.0)
    assert [aging.due(t) for t in (0.0, 60.0, 120.0)] == [True, True, True]
