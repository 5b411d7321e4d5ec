"""`jobcast.events.EVENT_TYPES`, the list the docs name event types from, is what the code
publishes: every event type written in the source is in it, and each of it is published."""

from __future__ import annotations

import re
from pathlib import Path

from jobcast.events import EVENT_TYPES
from jobcast.orders.enums import OrderStatus

ROOT = Path(__file__).resolve().parents[2]
#: The packages that publish (the client and CLI only read events).
PUBLISHERS = ("api", "jobcast", "workers", "realtime")
READERS = ("jobcast/client", "jobcast/client_cli")
#: Text of that shape that is no event type.
NOT_EVENTS = {
    "chat.history": "a frame sent to one subscriber, not a committed event",
    "monitor.admin": "a channel",
    "user.me": "a channel",
}
NAMED = re.compile(r"""["']((?:job|order|market|chat|monitor|user)\.[a-z_]+)["']""")


def named_in_source() -> set[str]:
    found = set()
    for package in PUBLISHERS:
        for path in (ROOT / package).rglob("*.py"):
            if not str(path.relative_to(ROOT)).startswith(READERS):
                found.update(NAMED.findall(path.read_text()))
    return found - set(NOT_EVENTS)


def test_every_event_type_the_code_publishes_is_listed_and_no_other() -> None:
    # Written as `f"order.{order.status}"` (`workers.orders.step`): one per status an order
    # moves to, `open` only through `order.accepted`.
    orders = {f"order.{s}" for s in OrderStatus if s is not OrderStatus.OPEN}

    published = named_in_source() | orders

    assert sorted(published - set(EVENT_TYPES)) == []  # a new type the docs would not name
    assert sorted(set(EVENT_TYPES) - published) == []  # a listed one nothing publishes
    assert "job.requeued" in EVENT_TYPES
