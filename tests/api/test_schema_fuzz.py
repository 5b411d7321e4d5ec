"""Fuzz the whole OpenAPI schema: no input gets a 5xx or a response that breaks the schema."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck

from tests.api.conftest import MakeKey
from tests.conftest import StartApi, StartWorker

#: Examples per operation: enough to reach every validator, bounded so the suite stays fast.
EXAMPLES_PER_OPERATION = 25
GENEROUS_LIMITS = {
    "JOBCAST_RATE_SUBMIT_PER_MINUTE": "100000",
    "JOBCAST_RATE_SUBMIT_BURST": "100000",
    "JOBCAST_RATE_READ_PER_MINUTE": "100000",
    "JOBCAST_RATE_READ_BURST": "100000",
    "JOBCAST_RATE_ANONYMOUS_PER_MINUTE": "100000",
    "JOBCAST_RATE_ANONYMOUS_BURST": "100000",
}


@pytest.mark.slow
def test_no_operation_answers_5xx_or_breaks_its_schema(
    start_api: StartApi, start_worker: StartWorker, make_key: MakeKey
) -> None:
    # The whole system is up, so /readyz is 200 and submitted work has somewhere to go.
    start_worker(queues="files,orders")
    _, url = start_api(env=GENEROUS_LIMITS)
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    headers = {"Authorization": f"Bearer {make_key('fuzzer', admin=True)}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=url, headers=headers)

        check()
