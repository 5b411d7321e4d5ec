"""A Redis error in one short line: what /readyz (which answers anyone) says, and what the logs
and a job's transient error say, instead of redis-py's kilobytes of client reprs."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
import redis.sentinel
from kombu.exceptions import OperationalError
from redis.asyncio.sentinel import MasterNotFoundError

from jobcast.redis_clients import SENTINEL_HINT, redis_problem


def no_master(answers: list[BaseException], sync: bool = False) -> Exception:
    # As redis-py's discover_master words it: each sentinel's client (its repr) and its error.
    make = redis.Redis if sync else aioredis.Redis
    sentinels = [make(host="10.0.0.5", port=26379 + i, password="pw") for i in range(3)]
    said = [f"{s} - {answer!r}" for s, answer in zip(sentinels, answers, strict=True)]
    kind = redis.sentinel.MasterNotFoundError if sync else MasterNotFoundError
    return kind(f"No master found for 'jobcast' : {', '.join(said)}")


def test_no_primary_behind_sentinel_is_said_with_its_cause_and_where_to_look() -> None:
    refusal = no_master([redis.AuthenticationError("invalid password")] * 3)
    assert len(str(refusal)) > 1000  # what the probe used to answer

    said = redis_problem(refusal)

    assert said == (
        f"No master found for 'jobcast' (a sentinel refused the password; {SENTINEL_HINT})"
    )


def test_for_the_log_each_sentinel_is_named_with_its_answer_and_no_client_internals() -> None:
    refused = redis.ConnectionError("Error 111 connecting to 10.0.0.5:26380.")
    for sync in (False, True):  # the api's async clients and the workers' sync ones
        failure = no_master([redis.AuthenticationError("x"), refused, redis.TimeoutError()], sync)

        said = redis_problem(failure, where=True)

        # redis-py 8 words each answer as its repr ("network:ConnectionError"): said plainly.
        assert said == (
            "No master found for 'jobcast' (a sentinel refused the password; sentinels said: "
            "10.0.0.5:26379 refused the password, 10.0.0.5:26380 unreachable, "
            f"10.0.0.5:26381 timed out; {SENTINEL_HINT})"
        )
        assert "ConnectionPool" not in said
        assert len(said) < 400


def test_a_broker_error_raised_from_a_redis_one_is_told_as_that_one() -> None:
    # kombu raises OperationalError(str(exc)) from the Redis error: the same kilobytes.
    refusal = no_master([redis.AuthenticationError("x")] * 3, sync=True)
    try:
        raise OperationalError(str(refusal)) from refusal
    except OperationalError as raised:
        said = redis_problem(raised, where=True)
    assert said == redis_problem(refusal, where=True)
    assert said.startswith("No master found for 'jobcast' (a sentinel refused the password;")


def test_no_sentinel_answering_at_all_still_says_where_to_look() -> None:
    assert redis_problem(MasterNotFoundError("No master found for 'jobcast'"), where=True) == (
        f"No master found for 'jobcast' ({SENTINEL_HINT})"
    )


def test_other_errors_keep_their_first_line_only_and_at_most_200_characters() -> None:
    refused = redis.ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
    assert redis_problem(refused) == "Error 111 connecting to 127.0.0.1:6390. Connection refused."
    assert redis_problem(refused, where=True) == redis_problem(refused)
    long = redis_problem(redis.ResponseError("x" * 500 + "\nsecond line"))
    assert len(long) == 200
    assert long.endswith("…")
    assert redis_problem(redis.TimeoutError()) == "TimeoutError"
