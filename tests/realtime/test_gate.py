"""The line of an address's unauthenticated sockets (realtime/gate.py), as pure logic; the
sockets themselves are in test_ws_edges.py."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any, cast

import pytest

from jobcast.settings import Settings
from realtime import gate
from realtime.runtime import Realtime

ADDRESS = "203.0.113.7"


def realtime(limit: int) -> Realtime:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, redis_url="redis://127.0.0.1:1/0", ws_max_unauthenticated_per_address=limit
    )
    return Realtime(settings=settings, redis=cast(Any, None), hub=cast(Any, None))


def test_the_oldest_socket_not_being_checked_gives_its_place_up() -> None:
    rt, evicted = realtime(2), []
    with ExitStack() as stack:
        first = stack.enter_context(gate.unauthenticated(rt, ADDRESS, evicted.append))
        stack.enter_context(gate.unauthenticated(rt, ADDRESS, lambda _: None))
        first.checking = True  # its key arrived: too late to take its place
        stack.enter_context(gate.unauthenticated(rt, ADDRESS, lambda _: None))
        assert evicted == []
        assert len(rt.unauthenticated[ADDRESS]) == 2
    assert rt.unauthenticated == {}


def test_an_evicted_socket_hears_why() -> None:
    rt, evicted = realtime(1), []
    with (
        gate.unauthenticated(rt, ADDRESS, evicted.append),
        gate.unauthenticated(rt, ADDRESS, lambda _: None),
    ):
        pass
    assert [(e.code, e.close_code) for e in evicted] == [("too_many_unauthenticated", 4029)]
    assert rt.unauthenticated == {}


def test_a_new_socket_is_refused_when_every_place_is_being_checked() -> None:
    rt = realtime(1)
    with gate.unauthenticated(rt, ADDRESS, lambda _: None) as checked:
        checked.checking = True
        with (
            pytest.raises(gate.RefusedError) as refused,
            gate.unauthenticated(rt, ADDRESS, lambda _: None),
        ):
            pass
        assert refused.value.code == "too_many_unauthenticated"
        assert len(rt.unauthenticated[ADDRESS]) == 1
    assert rt.unauthenticated == {}


def test_addresses_have_lines_of_their_own() -> None:
    rt, evicted = realtime(1), []
    with (
        gate.unauthenticated(rt, ADDRESS, evicted.append),
        gate.unauthenticated(rt, "198.51.100.1", evicted.append),
    ):
        assert evicted == []
