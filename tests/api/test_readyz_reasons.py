"""What /readyz, which answers anyone, says of a Redis error: one short line, no internals."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
from redis.asyncio.sentinel import MasterNotFoundError

from api.routes.health import SENTINEL_HINT, redis_problem


def sentinel_refusal() -> MasterNotFoundError:
    # As redis-py's discover_master words it: each sentinel's client (its repr) and its error.
    sentinels = [aioredis.Redis(host="10.0.0.5", port=26379 + i, password="pw") for i in range(3)]
    errors = [f"{s} - {redis.AuthenticationError('invalid password')!r}" for s in sentinels]
    return MasterNotFoundError(f"No master found for 'jobcast' : {', '.join(errors)}")


def test_no_primary_behind_sentinel_is_said_with_its_cause_and_where_to_look() -> None:
    refusal = sentinel_refusal()
    assert len(str(refusal)) > 1000  # what the probe used to answer

    said = redis_problem(refusal)

    assert said == (
        f"No master found for 'jobcast' (a sentinel refused the password; {SENTINEL_HINT})"
    )


def test_other_errors_keep_their_first_line_only_and_at_most_200_characters() -> None:
    refused = redis.ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
    assert redis_problem(refused) == "Error 111 connecting to 127.0.0.1:6390. Connection refused."
    long = redis_problem(redis.ResponseError("x" * 500 + "\nsecond line"))
    assert len(long) == 200
    assert long.endswith("…")
    assert redis_problem(redis.TimeoutError()) == "TimeoutError"
