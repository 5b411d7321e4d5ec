"""Fuzz every operation that takes a path id or a JSON body with the shapes attackers use:
ids of Redis keys of another type, exponents, huge and tiny numbers, control characters,
traversal, very long strings. Whatever comes in, the answer is a 4xx in the one error shape or
a success, never a 5xx."""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st

from jobcast import rediskeys
from tests.api.conftest import MakeKey
from tests.conftest import StartApi

#: Examples per operation: every parameter sees several edge shapes, and the test stays near
#: 20 s on a loaded 2-core machine.
EXAMPLES_PER_OPERATION = 8
GENEROUS_LIMITS = {
    f"JOBCAST_RATE_{budget}_{kind}": "10000000"
    for budget in ("SUBMIT", "READ", "ANONYMOUS", "ORDERS")
    for kind in ("PER_MINUTE", "BURST")
}
#: Ids naming Redis keys of another type, numbers with exponents, control characters, traversal.
EDGE_SHAPES = ["owner:x", "owner:p_0123456789abcdef", "o_1:2", "j_x", rediskeys.data_item_key("x")]
EDGE_SHAPES += ["1e28", "1e-999999999", "-0", "NaN", "Infinity", "0" * 40, " ", ""]
EDGE_SHAPES += ["../../etc/passwd", "%0a", "a\nb\rc", "\x00", "\u202e", "😀" * 50, "a" * 5000]
EDGE_STRINGS = st.sampled_from(EDGE_SHAPES) | st.text(max_size=40)
EDGE_VALUES = (
    EDGE_STRINGS
    | st.sampled_from([1e28, -1e28, 1e-300, 0, -1, 2**63, 10**30, True, None, [], {}])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers()
)


def edged(value: Any, draw: st.DrawFn) -> Any:
    """`value` (a generated JSON body) with some of its values swapped for edge shapes."""
    if isinstance(value, dict):
        swap = {k: draw(st.booleans()) for k in value}
        return {k: draw(EDGE_VALUES) if swap[k] else edged(v, draw) for k, v in value.items()}
    if isinstance(value, list):
        return [edged(item, draw) for item in value]
    return value


@st.composite
def edge_cases(draw: st.DrawFn, operation: Any) -> schemathesis.Case:
    case: schemathesis.Case = draw(operation.as_strategy())
    if case.path_parameters:
        case.path_parameters = {name: draw(EDGE_STRINGS) for name in case.path_parameters}
    if isinstance(case.body, dict):
        case.body = edged(case.body, draw)
    return case


def takes_edges(operation: Any) -> bool:
    """Operations with a path id or a JSON body (uploads are multipart: not this test's)."""
    if (operation.method.upper(), operation.path) in (("POST", "/jobs"), ("POST", "/ws/ticket")):
        return False
    return "{" in operation.path or operation.method.upper() in ("POST", "PATCH", "PUT")


@pytest.mark.slow
def test_edge_shaped_ids_and_bodies_never_get_a_5xx(start_api: StartApi, make_key: MakeKey) -> None:
    _, url = start_api(env=GENEROUS_LIMITS)
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    headers = {"Authorization": f"Bearer {make_key('edge-fuzzer', admin=True)}"}
    operations = [r.ok() for r in schema.get_all_operations() if takes_edges(r.ok())]
    assert len(operations) >= 8

    for operation in operations:
        _fuzz(operation, url, headers)


def _fuzz(operation: Any, url: str, headers: dict[str, str]) -> None:
    @hypothesis.given(case=edge_cases(operation))
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=url, headers=headers)
        where = f"{case.method} {case.formatted_path} {case.body!r:.300}"
        assert response.status_code < 500, f"{where}: {response.text[:500]}"
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["code"], where
            assert error["message"], where

    check()
