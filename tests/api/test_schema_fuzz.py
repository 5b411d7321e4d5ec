"""Fuzz the whole OpenAPI schema: no input gets a 5xx or a response that breaks the schema.

Three passes: valid inputs per operation; invalid ones (each must be refused with a 4xx in the
documented error shape); and chains of linked calls (create, then read, change, cancel or
delete what was created), where most bugs that single calls cannot reach live.

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
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.openapi_errors import ORDER_RULES
from tests.api.conftest import MakeKey
from tests.conftest import StartApi, StartWorker

#: Examples per operation: enough to reach every validator, bounded so the suite stays fast
#: (valid, invalid and linked calls together send fewer requests than 25 valid ones did).
EXAMPLES_PER_OPERATION = 15
#: Invalid examples per operation (only operations that take input can have them).
NEGATIVE_EXAMPLES_PER_OPERATION = 5
#: Scenarios of linked calls, and the most calls in one.
STATEFUL_SCENARIOS = 10
STATEFUL_STEPS = 5
#: Multipart uploads and generated bodies are slow to build; a large input space is expected.
SLOW_GENERATION = [HealthCheck.too_slow, HealthCheck.data_too_large]
GENEROUS_LIMITS = {
    f"JOBCAST_RATE_{budget}_{kind}": "10000000"
    for budget in ("SUBMIT", "READ", "ANONYMOUS")
    for kind in ("PER_MINUTE", "BURST")
}
#: Operations whose validity depends on configuration or state the schema cannot carry, and
#: the codes of the rules a schema-valid request may still break there: a code alone, or
#: "code:field" for a rule only that field can break.
#: A binary part cannot be declared non-empty, a reused key depends on earlier calls (those of
#: `/jobs` and of its seed alias share one principal's keys), and an encoding is any codec name
#: Python knows, which no schema lists.
SUBMIT_RULES = {"empty_file", "idempotency_key_reused", "invalid_params:params.encoding"}
RULE_DECIDED = {
    ("POST", "/orders"): {*ORDER_RULES, "validation_error"},
    ("POST", "/jobs"): SUBMIT_RULES,
    ("POST", "/tasks/process-file/"): SUBMIT_RULES,
}


def names_one_of(rules: set[str]) -> Any:
    def names_its_rule(ctx: Any, response: schemathesis.Response, case: Any) -> None:
        if response.status_code != 422:
            return
        error = response.json()["error"]
        details = error["details"] if isinstance(error["details"], list) else []
        fields = {detail["field"] for detail in details}
        broken = {error["code"]} if not fields else {f"{error['code']}:{f}" for f in fields}
        assert error["code"] in rules or broken <= rules, response.text

    return names_its_rule


@pytest.mark.slow
@pytest.mark.timeout(300)
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
        _fuzz(operation, url, headers, *checks_for(operation))
        if takes_input(operation):
            _fuzz(operation, url, headers, [], [], GenerationMode.NEGATIVE)
    _run_linked_calls(schema, headers)


def checks_for(operation: Any) -> tuple[list[Any], list[Any]]:
    """(checks left out, checks added) for valid input to `operation`."""
    rules = RULE_DECIDED.get((operation.method.upper(), operation.path))
    if rules:
        return [positive_data_acceptance], [names_one_of(rules)]
    return [], []


def takes_input(operation: Any) -> bool:
    return bool(operation.body or operation.query or operation.path_parameters or operation.headers)


def _fuzz(
    operation: Any,
    url: str,
    headers: dict[str, str],
    excluded: list[Any],
    extra: list[Any],
    mode: GenerationMode = GenerationMode.POSITIVE,
) -> None:
    positive = mode == GenerationMode.POSITIVE
    examples = EXAMPLES_PER_OPERATION if positive else NEGATIVE_EXAMPLES_PER_OPERATION

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=SLOW_GENERATION,
    )
    def check(case: schemathesis.Case) -> None:
        # Always a valid key: an invalid case is refused for its input, not for a bad key.
        case.call_and_validate(
            base_url=url, headers=headers, excluded_checks=excluded, additional_checks=extra
        )

    check()


def _run_linked_calls(schema: Any, headers: dict[str, str]) -> None:
    """Chains of calls along the links inferred from the schema (an id from a create answer
    used by the read, change, cancel and delete of that record)."""

    class LinkedCalls(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(
            self, response: Any, case: schemathesis.Case, *_: Any, **kw: Any
        ) -> None:
            # The machine mixes invalid cases in; they are refused for their input, not a rule.
            negative = case.meta is not None and case.meta.generation.mode.is_negative
            excluded, extra = ([], []) if negative else checks_for(case.operation)
            case.validate_response(response, excluded_checks=excluded, additional_checks=extra)

    LinkedCalls.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=SLOW_GENERATION,
        )
    )
