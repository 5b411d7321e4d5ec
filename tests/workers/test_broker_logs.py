"""What a worker logs when it cannot reach its broker: one short line saying why and where."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import redis
from redis.sentinel import MasterNotFoundError

from jobcast.redis_clients import SENTINEL_HINT, sync_client
from tests.conftest import launch_worker
from tests.support.processes import wait_for
from tests.support.sentinel import sentinel_group
from workers.broker_logs import CONSUMER_LOGGER, CondensedBrokerError

#: The longest line a broker error may log: three sentinels' addresses and answers, the hint.
LONGEST_LINE = 800


def test_a_worker_whose_sentinels_have_gone_says_so_in_one_short_line(tmp_path: Path) -> None:
    # Celery's consumer logged "Cannot connect to sentinel://…: <MasterNotFoundError>", whose
    # text is each sentinel's client repr (~3 KB each): a 9 KB line at every reconnect attempt.
    with sentinel_group(tmp_path) as group:
        settings = group.settings(tmp_path / "data")
        client = sync_client(settings, timeout=5, connect_timeout=1)
        worker = launch_worker(settings, tmp_path, client, queues="orders")
        client.close()
        try:
            for server in group.procs.values():
                server.stop()
            wait_for(lambda: "No master found" in worker.output(), 60, "no master", worker)
            said = [line for line in worker.output().splitlines() if "No master found" in line]
        finally:
            worker.kill()
    assert all(len(line) <= LONGEST_LINE for line in said), max(said, key=len)[:LONGEST_LINE]
    line = said[0]
    assert "ERROR/MainProcess] consumer: Cannot connect to sentinel://" in line, line
    assert SENTINEL_HINT in line, line
    assert "retry" in line.lower(), line
    for sentinel in group.servers.sentinels:
        assert f"127.0.0.1:{sentinel.port} " in line, line
    assert "redis.sentinel.SentinelManagedConnection" not in worker.output()


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
