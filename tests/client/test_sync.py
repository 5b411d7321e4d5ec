"""`Client` is `AsyncClient` for code without asyncio: the same methods, called the same way,
with the same help."""

from __future__ import annotations

import inspect
import pydoc

import pytest

from jobcast.client import AsyncClient, Client, StreamOptions

#: The sync names of the async client's own: closing, and its context manager.
SYNC_NAME = {"aclose": "close", "__aenter__": "__enter__", "__aexit__": "__exit__"}
#: The sync client's own: Ctrl-C reaches a sync caller as a signal, an async one as a cancel.
SYNC_ONLY = {"ctrl_c_recorded"}


def public_methods(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, callable) if not name.startswith("_")}


def test_the_sync_client_has_every_method_of_the_async_one() -> None:
    expected = {SYNC_NAME.get(name, name) for name in public_methods(AsyncClient)}
    assert public_methods(Client) == expected | SYNC_ONLY


@pytest.mark.parametrize("name", sorted(public_methods(AsyncClient) | {"__init__"}))
def test_each_sync_method_takes_the_arguments_of_the_async_one(name: str) -> None:
    # Names, kinds, defaults and annotations; only what is returned differs (a value, not a
    # coroutine; a generator, not an async one).
    async_params = inspect.signature(getattr(AsyncClient, name)).parameters
    sync_params = inspect.signature(getattr(Client, SYNC_NAME.get(name, name))).parameters
    assert list(sync_params.values()) == list(async_params.values())


@pytest.mark.parametrize("name", sorted(public_methods(Client)))
def test_help_on_each_method_of_either_client_says_what_it_does(name: str) -> None:
    async_name = {sync: aio for aio, sync in SYNC_NAME.items()}.get(name, name)
    twin = () if name in SYNC_ONLY else (getattr(AsyncClient, async_name),)
    for method in (getattr(Client, name), *twin):
        assert method.__doc__, f"{method.__qualname__} has no docstring"
        assert "See `AsyncClient`" not in method.__doc__


def test_help_on_the_sync_client_shows_the_order_options() -> None:
    text = pydoc.render_doc(Client.place, renderer=pydoc.plaintext)
    for option in ("type", "time_in_force", "client_order_id", "self_trade_prevention"):
        assert f"{option}: " in text


def test_help_on_stream_options_explains_each_field() -> None:
    text = pydoc.render_doc(StreamOptions, renderer=pydoc.plaintext)
    for field in ("idle_timeout", "max_backoff", "max_failures", "on_subscribed"):
        assert f"{field}:" in text
    # The callback's two arguments, by name.
    assert "on_reconnect(failures, pause)" in text
