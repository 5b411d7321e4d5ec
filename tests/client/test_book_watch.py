"""`jobcast market book --watch`'s reads against its events, with a scripted client: which
books are shown when a change lands before the event subscription is confirmed."""

from __future__ import annotations

import threading
from collections.abc import Generator

import pytest

from jobcast.client import StreamOptions
from jobcast.client_cli.market import _book_snapshots
from jobcast.schemas import BookDepth, Level


def book(*asks: str) -> BookDepth:
    return BookDepth(symbol="SOL-USD", bids=[], asks=[Level(price=p, quantity=7) for p in asks])


class ScriptedClient:
    """Answers each book read with the next book of `books`; its event stream confirms the
    subscription and then never sends an event, as when the change came before it."""

    def __init__(self, *books: BookDepth) -> None:
        self.books = list(books)
        self.reads = 0

    def book(self, symbol: str, depth: int) -> BookDepth:
        self.reads += 1
        return self.books[min(self.reads, len(self.books)) - 1]

    def events(self, *channels: str, options: StreamOptions) -> Generator[object, None, None]:
        assert options.on_subscribed is not None
        options.on_subscribed(channels[0])
        threading.Event().wait()  # no event ever
        yield from ()


def next_within(snapshots: Generator[BookDepth, None, None], seconds: float) -> BookDepth:
    got: list[BookDepth] = []
    reader = threading.Thread(target=lambda: got.append(next(snapshots)), daemon=True)
    reader.start()
    reader.join(seconds)
    if not got:
        pytest.fail(f"no book within {seconds} s")
    return got[0]


def test_a_change_before_the_subscription_is_read_once_it_is_confirmed() -> None:
    # The order landed between the first read and the subscription: no event will tell of it.
    client = ScriptedClient(book(), book("60000.5"))
    snapshots = _book_snapshots(client, "SOL-USD", 10)  # type: ignore[arg-type]
    assert next_within(snapshots, 5) == book()
    assert next_within(snapshots, 5) == book("60000.5")


def test_an_unchanged_book_is_not_shown_again() -> None:
    client = ScriptedClient(book("1"))
    snapshots = _book_snapshots(client, "SOL-USD", 10)  # type: ignore[arg-type]
    assert next_within(snapshots, 5) == book("1")
    reader = threading.Thread(target=lambda: next(snapshots), daemon=True)
    reader.start()
    reader.join(1.0)
    assert reader.is_alive(), "the same book was shown twice"
    assert client.reads == 2  # the first read, and the one after the subscription
