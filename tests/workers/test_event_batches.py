"""Task events for Flower go out in batches: one flush per interval, not one per event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workers.event_batches import FLUSH_SECONDS, Consumer


class FakeHub:
    """The event loop's timer, recorded instead of run."""

    def __init__(self) -> None:
        self.later: list[tuple[float, Callable[[], Any]]] = []

    def call_later(self, delay: float, callback: Callable[[], Any], *args: Any) -> None:
        self.later.append((delay, callback))


def test_events_buffered_together_are_flushed_once_after_the_interval() -> None:
    consumer = Consumer.__new__(Consumer)  # no broker: only the flush's scheduling is tested
    consumer.hub = FakeHub()
    flushes: list[int] = []
    consumer._flush_events = lambda: flushes.append(1)  # type: ignore[method-assign]

    for _ in range(5):  # received, started, succeeded, ... within one interval
        consumer.on_send_event_buffered()
    assert [delay for delay, _ in consumer.hub.later] == [FLUSH_SECONDS]
    assert flushes == []  # not on the next tick: when the interval ends

    consumer.hub.later[0][1]()
    assert flushes == [1]
    consumer.on_send_event_buffered()  # the next event starts the next batch
    assert len(consumer.hub.later) == 2
