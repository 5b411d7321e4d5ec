"""What a worker logs when it cannot reach its broker: one short line saying why and where."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from celery.worker.consumer.consumer import CONNECTION_ERROR, CONNECTION_FAILOVER
from redis.sentinel import MasterNotFoundError

from jobcast.redis_clients import SENTINEL_HINT, sync_client
from tests.conftest import launch_worker
from tests.support.processes import Proc, wait_for
from tests.support.sentinel import RunningGroup, sentinel_group
from workers.broker_logs import CONSUMER_LOGGER, CondensedBrokerError, PrefetchNoteAtDebug

#: The longest line a broker error may log: three sentinels' addresses and answers, the hint.
LONGEST_LINE = 800


def test_a_worker_whose_sentinels_have_gone_says_so_in_one_short_line(tmp_path: Path) -> None:
    # Celery's consumer logged "Cannot connect to sentinel://…: <MasterNotFoundError>", whose
    # text is each sentinel's client repr (~3 KB each): a 9 KB line at every reconnect attempt.
    with sentinel_group(tmp_path) as group, worker_on(group, tmp_path) as worker:
        for server in group.procs.values():
            server.stop()
        wait_for(lambda: "(attempt 2)" in worker.output(), 60, "two attempts", worker)
        said = attempts_told(worker.output())
    assert all(len(line) <= LONGEST_LINE for line in said), max(said, key=len)[:LONGEST_LINE]
    line = said[-1]  # the first attempt may still have been told of the primary's address
    assert "ERROR/MainProcess] consumer: Cannot reach the primary through 3 sentinels" in line
    assert "No master found" in line, line
    assert SENTINEL_HINT in line, line
    assert line.endswith("Trying again in 4.00 seconds... (attempt 2)"), line
    for sentinel in group.servers.sentinels:
        assert f"127.0.0.1:{sentinel.port} " in line, line
    assert "redis.sentinel.SentinelManagedConnection" not in worker.output()


def test_a_worker_whose_primary_died_logs_each_attempt_to_reach_it_once(tmp_path: Path) -> None:
    # kombu takes the broker URL's `sentinel://` entries for failover hosts and tries each in
    # turn, but its Sentinel transport asks every sentinel at each try: Celery logged the same
    # failure once per sentinel, three ERROR lines per attempt, two of them "Will retry using
    # next failover." and each naming a sentinel as if it had failed.
    with sentinel_group(tmp_path) as group, worker_on(group, tmp_path) as worker:
        group.kill_primary()
        back = "INFO/MainProcess] Connected to"
        wait_for(lambda: worker.output().count(back) >= 2, 60, "the worker back", worker)
        said = attempts_told(worker.output())
    assert said, worker.output()[-3000:]
    line = said[0]
    assert "consumer: Cannot reach the primary through 3 sentinels: " in line, line
    assert f"127.0.0.1:{group.servers.primary.port}. Connection refused" in line, line


@contextmanager
def worker_on(group: RunningGroup, workdir: Path) -> Iterator[Proc]:
    """A worker consuming `orders` through the group's sentinels, killed when done."""
    settings = group.settings(workdir / "data")
    client = sync_client(settings, timeout=5, connect_timeout=1)
    worker = launch_worker(settings, workdir, client, queues="orders")
    client.close()
    try:
        yield worker
    finally:
        worker.kill()


def attempts_told(output: str) -> list[str]:
    """The consumer's lines about failed attempts to reach the broker, after checking that there
    is one per attempt, numbered from 1, and that kombu's failover to the next URL is not told."""
    said = [line for line in output.splitlines() if "consumer: Cannot " in line]
    numbers = [re.search(r"\(attempt (\d+)\)$", line) for line in said]
    assert all(numbers), "\n".join(said)
    assert [int(n.group(1)) for n in numbers if n] == list(range(1, len(said) + 1)), said
    assert "failover" not in output, "\n".join(said)
    return said


def consumer_record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(CONSUMER_LOGGER, logging.ERROR, __file__, 1, message, args, None)


def test_the_consumer_error_is_one_line_and_other_records_pass_as_they_are(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, "jobcast.worker.broker")
    condensed = CondensedBrokerError()
    refused = "Error 111 connecting to 127.0.0.1:1. Connection refused"
    long = MasterNotFoundError(
        "No master found for 'jobcast' : {<redis.client.Redis(<redis.connection.ConnectionPool("
        f"<redis.connection.Connection(host=127.0.0.1,port=1,db=0)>)>)>: {'x' * 3000}"
    )
    failing = consumer_record(
        "consumer: Cannot connect to %s: %s.\n%s\n", "sentinel://h:1//", long, "Trying again"
    )
    lost = consumer_record(
        "%s (%r)", "consumer: Connection to broker lost.", ConnectionError(refused + ".")
    )
    other = consumer_record("consumer: something else %s", 42)

    assert all(condensed.filter(record) for record in (failing, lost, other))

    assert failing.getMessage() == (
        "consumer: Cannot connect to sentinel://h:1//: No master found for 'jobcast' "
        f"({SENTINEL_HINT}). Trying again"
    )
    assert lost.getMessage() == f"consumer: Connection to broker lost. ({refused})"
    assert other.getMessage() == "consumer: something else 42"
    assert "x" * 3000 in caplog.text  # the whole error, for whoever runs at DEBUG


def test_a_short_redis_error_is_told_as_redis_problem_tells_it() -> None:
    record = consumer_record(
        "%s (%r)", "lost", redis.ConnectionError("Connection closed by server.")
    )
    assert CondensedBrokerError().filter(record)
    assert record.getMessage() == "lost (Connection closed by server)"


def test_a_retry_with_no_limit_counts_its_attempt_without_a_none() -> None:
    # Workers retry the broker forever (celeryconfig), which Celery's line shows as "(3/None)".
    record = consumer_record(
        "consumer: Cannot connect to %s: %s.\n%s\n",
        "redis://h:1/0",
        redis.ConnectionError("Connection refused."),
        "Trying again in 4.00 seconds... (3/None)",
    )
    assert CondensedBrokerError().filter(record)
    assert record.getMessage().endswith("Trying again in 4.00 seconds... (attempt 3)")


def test_behind_sentinel_an_attempt_is_one_line_naming_the_sentinels() -> None:
    refused = redis.ConnectionError("Error 111 connecting to 127.0.0.1:7. Connection refused.")
    tries = [
        consumer_record(CONNECTION_ERROR, f"sentinel://h:{port}/0", refused, step)
        for port, step in [
            (1, CONNECTION_FAILOVER),
            (2, "Trying again in 2.00 seconds... (1/None)"),
        ]
    ]
    behind_sentinel = CondensedBrokerError(sentinels=2)

    assert [behind_sentinel.filter(record) for record in tries] == [False, True]
    assert tries[1].getMessage() == (
        "consumer: Cannot reach the primary through 2 sentinels: Error 111 connecting to "
        "127.0.0.1:7. Connection refused. Trying again in 2.00 seconds... (attempt 1)"
    )
    by_url = consumer_record(CONNECTION_ERROR, "redis://h:1/0", refused, CONNECTION_FAILOVER)
    assert CondensedBrokerError().filter(by_url)  # a failover between URLs of plain Redis


def test_the_prefetch_note_of_a_reconnect_is_kept_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, "jobcast.worker.broker")
    note = consumer_record(
        "Skipping prefetch count reduction after connection restart because per-consumer QoS "
        "(apply_global=False) is in effect and broker-side prefetch updates would not reach "
        "the running consumer."
    )
    other = consumer_record("consumer: Connection to broker lost.")
    at_debug = PrefetchNoteAtDebug()
    assert [at_debug.filter(note), at_debug.filter(other)] == [False, True]
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    assert "Skipping prefetch count reduction" in caplog.text
