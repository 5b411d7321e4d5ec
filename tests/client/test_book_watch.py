"""`jobcast market book --watch`'s reads against its events, with a scripted client: which
books are shown when a change lands before the event subscription is confirmed, and what a
piped watch prints of an empty one."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator

import pytest

from jobcast.client import StreamOptions
from jobcast.client_cli.market import _book_snapshots, _watch_book
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


def test_a_piped_watch_prints_nothing_for_an_empty_book_and_says_so_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Piped, an empty book was printed as its header alone, as if the output had been cut off,
    # while `market book` without --watch printed nothing on stdout and said why on stderr.
    client = ScriptedClient(book(), book("60000.5"))  # empty, then a level once subscribed
    watcher = threading.Thread(target=_watch_book, args=(client, "SOL-USD", 10, False), daemon=True)
    watcher.start()
    out, err = "", ""
    deadline = time.monotonic() + 5
    while "60000.5" not in out and time.monotonic() < deadline:
        time.sleep(0.05)
        got = capsys.readouterr()
        out, err = out + got.out, err + got.err
    assert "60000.5" in out, "the book with a level was never printed"
    assert out.count("SOL-USD book") == 1, out  # only the book with the level
    assert "no orders rest" not in out
    assert err == "no orders rest on either side of SOL-USD\n"
