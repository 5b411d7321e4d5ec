"""Fuzz the whole OpenAPI schema: no input gets a 5xx or a response that breaks the schema.

Where a schema cannot say everything — an order's tick size, lot and notional limits are per
symbol; an Idempotency-Key already used with another upload — a schema-valid request may break a
business rule. There a 422 is right, as long as it names the rule; every other operation must
accept what its schema admits.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.openapi_errors import ORDER_RULES
from tests.api.conftest import MakeKey
from tests.conftest import StartApi, StartWorker

#: Examples per operation: enough to reach every validator, bounded so the suite stays fast.
EXAMPLES_PER_OPERATION = 25
GENEROUS_LIMITS = {
    f"JOBCAST_RATE_{budget}_{kind}": "10000000"
    for budget in ("SUBMIT", "READ", "ANONYMOUS")
    for kind in ("PER_MINUTE", "BURST")
}
#: Operations whose validity depends on configuration or state the schema cannot carry, and
#: the codes of the rules a schema-valid request may still break there.
RULE_DECIDED = {
    ("POST", "/orders"): {*ORDER_RULES, "validation_error"},
    ("POST", "/jobs"): {"idempotency_key_reused"},
}


def names_one_of(codes: set[str]) -> Any:
    def names_its_rule(ctx: Any, response: schemathesis.Response, case: Any) -> None:
        if response.status_code == 422:
            assert response.json()["error"]["code"] in codes, response.text

    return names_its_rule


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
    assert len(operations) >= 20

    for operation in operations:
        rules = RULE_DECIDED.get((operation.method.upper(), operation.path))
        if rules:
            _fuzz(operation, url, headers, [positive_data_acceptance], [names_one_of(rules)])
        else:
            _fuzz(operation, url, headers, [], [])


def _fuzz(
    operation: Any, url: str, headers: dict[str, str], excluded: list[Any], extra: list[Any]
) -> None:
    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=url, headers=headers, excluded_checks=excluded, additional_checks=extra
        )

    check()
