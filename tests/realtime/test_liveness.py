"""When the hub pings its pub/sub connection, and when it gives it up for dead (on a fake clock)."""

from __future__ import annotations

from realtime.liveness import Liveness


def test_quiet_connection_is_pinged_after_the_interval() -> None:
    liveness = Liveness(interval=5, timeout=2, heard_at=100)
    assert not liveness.ping_due(104.9)
    assert liveness.wait(104) == 1
    assert liveness.ping_due(105)


def test_unanswered_ping_makes_the_connection_dead_after_the_timeout() -> None:
    liveness = Liveness(interval=5, timeout=2, heard_at=100)
    liveness.pinged(105)
    assert not liveness.ping_due(106)  # one ping outstanding at a time
    assert liveness.wait(106) == 1
    assert not liveness.dead(106.9)
    assert liveness.dead(107)


def test_anything_heard_answers_the_ping_and_restarts_the_interval() -> None:
    liveness = Liveness(interval=5, timeout=2, heard_at=100)
    liveness.pinged(105)
    liveness.heard(106)
    assert not liveness.dead(108)
    assert not liveness.ping_due(110.9)
    assert liveness.ping_due(111)


def test_wait_is_never_negative() -> None:
    assert Liveness(interval=5, timeout=2, heard_at=100).wait(200) == 0
