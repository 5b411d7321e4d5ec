"""The event stream against a real stack: every event once, in order, across an api restart."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from jobcast.client import Client, Event, StreamOptions
from jobcast.events import read_since
from tests.client.conftest import ClientStack
from tests.client.support import write_table
from tests.support.processes import wait_for

TERMINAL = ("job.succeeded", "job.failed", "job.cancelled")


def test_events_survive_an_api_restart_with_every_event_once_in_order(
    stack: ClientStack, tmp_path: Path
) -> None:
    data = write_table(tmp_path / "data.csv", 150_000)
    got: list[Event] = []
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(data)
        restarted: threading.Thread | None = None
        for event in client.events(f"job.{job.id}", since="0-0"):
            got.append(event)
            if event.type == "job.progress" and restarted is None:
                restarted = stack.crash_api()
            if event.type in TERMINAL:
                break
        assert restarted is not None
        restarted.join()

    committed = read_since(stack.redis, f"job.{job.id}", "0-0")
    assert [e.seq for e in got] == [e["seq"] for e in committed]
    assert got[0].type == "job.queued"
    assert got[-1].type == "job.succeeded"
    assert sum(e.type == "job.progress" for e in got) >= 2


def test_a_lost_since_surfaces_as_resync_then_the_job_starts_afresh(
    stack: ClientStack, tmp_path: Path
) -> None:
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(write_table(tmp_path / "data.csv", 10))
        client.wait(job.id, timeout=60)
        events = client.events(f"job.{job.id}", since="1-0")  # a seq the stream never held
        resync, start = next(events), next(events)
        events.close()
    assert (resync.type, resync.data) == ("resync", {"reason": "since_too_old"})
    assert start.type == "snapshot"
    assert start.data["status"] == "succeeded"


def test_a_since_ahead_of_the_channel_resyncs_as_a_lost_one_does(
    stack: ClientStack, tmp_path: Path
) -> None:
    # The server names why (`since_ahead`) and sends the start itself, as for `since_too_old`:
    # the client hands both on without reconnecting to subscribe anew.
    subscribed: list[str] = []
    options = StreamOptions(on_subscribed=subscribed.append)
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(write_table(tmp_path / "data.csv", 10))
        client.wait(job.id, timeout=60)
        events = client.events(f"job.{job.id}", since="9999999999999-0", options=options)
        resync, start = next(events), next(events)
        events.close()
    assert (resync.type, resync.data) == ("resync", {"reason": "since_ahead"})
    assert (start.type, start.data["status"]) == ("snapshot", "succeeded")
    assert subscribed == [f"job.{job.id}"]


def test_on_subscribed_tells_when_a_channel_is_live(stack: ClientStack, tmp_path: Path) -> None:
    # A change after the confirmation always comes as an event: what a reader of state needs.
    confirmed = threading.Event()
    names: list[str] = []

    def on_subscribed(channel: str) -> None:
        names.append(channel)
        confirmed.set()

    options = StreamOptions(on_subscribed=on_subscribed)
    with Client(stack.url, stack.key) as client:
        events = client.events("user.me", options=options)
        got: list[Event] = []
        reader = threading.Thread(target=lambda: got.append(next(events)), daemon=True)
        reader.start()
        assert confirmed.wait(30)
        client.submit_file(write_table(tmp_path / "one.csv", 3))
        reader.join(30)
        events.close()
    assert names == ["user.me"]
    assert [e.channel for e in got] == ["user.me"]


def close_lines_after(stack: ClientStack, act: Callable[[], object]) -> list[str]:
    """The api's `WebSocket closed` lines for the sockets closed while `act` ran."""
    assert stack.api is not None
    api = stack.api
    before = len(api.output())
    act()
    wait_for(lambda: "WebSocket closed" in api.output()[before:], 10, "a close line", api)
    return [line for line in api.output()[before:].splitlines() if "WebSocket closed" in line]


def test_a_stream_the_client_is_done_with_closes_normally(
    stack: ClientStack, tmp_path: Path
) -> None:
    # README's close codes: 1011 is the server failing. A client leaving on its own is 1000.
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(write_table(tmp_path / "data.csv", 10))
        waited = close_lines_after(stack, lambda: client.wait(job.id, timeout=60))

        def first_event() -> None:
            for _ in client.events(f"job.{job.id}"):
                break

        left = close_lines_after(stack, first_event)
    for line in (*waited, *left):
        assert "code=1000 " in line, line
