"""The exactly-once bookkeeping of the event stream (pure, no I/O)."""

from __future__ import annotations

from jobcast.client.resume import ResumeState


def event(channel: str, seq: str, type_: str = "job.progress") -> dict[str, object]:
    return {"channel": channel, "seq": seq, "type": type_, "ts": 1.0, "data": {"n": seq}}


def test_a_replayed_event_is_dropped_and_the_resume_point_advances() -> None:
    state = ResumeState(("job.j1",), since=None)
    state.bind("p_1")
    assert state.accept(event("job.j1", "10-0")) is not None
    assert state.accept(event("job.j1", "11-0")) is not None
    assert state.accept(event("job.j1", "10-0")) is None  # sent again after a reconnect
    assert state.accept(event("job.j1", "11-0")) is None
    assert state.since_for("job.j1") == "11-0"


def test_user_me_events_carry_the_principal_channel_and_map_back() -> None:
    state = ResumeState(("user.me",), since="5-0")
    state.bind("p_abc")
    got = state.accept(event("user.p_abc", "6-0", "order.filled"))
    assert got is not None
    assert got.channel == "user.me"
    assert state.accept(event("user.p_abc", "4-0")) is None  # before `since`
    assert state.since_for("user.me") == "6-0"


def test_resync_is_handed_on_and_clears_the_floor() -> None:
    state = ResumeState(("job.j1",), since="9-0")
    state.bind("p_1")
    resync = state.accept({"type": "resync", "channel": "job.j1", "reason": "since_too_old"})
    assert resync is not None
    assert resync.type == "resync"
    assert resync.data == {"reason": "since_too_old"}
    snapshot = {
        "type": "snapshot",
        "channel": "job.j1",
        "seq": "3-0",
        "data": {"status": "running"},
    }
    got = state.accept(snapshot)
    assert got is not None
    assert not got.is_event
    assert state.since_for("job.j1") == "3-0"


def test_control_messages_are_not_handed_on() -> None:
    state = ResumeState(("monitor",))
    state.bind("p_1")
    for kind in ("subscribed", "heartbeat", "pong", "auth.ok"):
        assert state.accept({"type": kind, "channel": "monitor"}) is None


def test_a_drop_before_the_first_event_resumes_from_the_seq_subscribed_names() -> None:
    state = ResumeState(("user.me", "market.X"))
    state.bind("p_1")
    assert state.accept({"type": "subscribed", "channel": "user.me", "seq": "5-0"}) is None
    assert state.since_for("user.me") == "5-0"
    # A server without the field leaves the channel starting from "now", as before.
    state.accept({"type": "subscribed", "channel": "market.X"})
    assert state.since_for("market.X") is None


def test_subscribed_on_a_resume_keeps_the_seq_already_handed_on() -> None:
    state = ResumeState(("user.me",))
    state.bind("p_1")
    state.accept({"type": "job.progress", "channel": "user.p_1", "seq": "9-0", "data": {}})
    state.accept({"type": "subscribed", "channel": "user.me", "seq": "12-0"})
    assert state.since_for("user.me") == "9-0"


def test_a_start_at_the_seq_subscribed_names_is_handed_on() -> None:
    state = ResumeState(("job.j1",))
    state.bind("p_1")
    state.accept({"type": "subscribed", "channel": "job.j1", "seq": "7-0"})
    snapshot = {"type": "snapshot", "channel": "job.j1", "seq": "7-0", "data": {"status": "x"}}
    got = state.accept(snapshot)
    assert got is not None
    assert got.data == {"status": "x"}
    assert state.accept(event("job.j1", "7-0")) is None  # the event the snapshot already holds
    assert state.accept(event("job.j1", "8-0")) is not None
