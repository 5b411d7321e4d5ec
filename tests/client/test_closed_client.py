"""A `Client` used after `close()` (an `AsyncClient` after `aclose()`): ClientClosedError saying
so, as a closed file raises ValueError, and no warning about a coroutine never awaited; closing
again does nothing."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from jobcast.client import AsyncClient, Client, ClientClosedError, JobcastError
from tests.client.conftest import ClientStack


def closed_error(call: Callable[[], Any]) -> ClientClosedError:
    with pytest.raises(ClientClosedError) as raised:
        call()
    # Without its traceback: the frames held the coroutine the client never ran, whose warning
    # would come only once they are collected.
    return raised.value.with_traceback(None)


def never_awaited(warned: list[warnings.WarningMessage]) -> list[str]:
    """The RuntimeWarnings among `warned` (a coroutine never awaited): what a closed client's
    call left, not a ResourceWarning of another test's socket collected meanwhile."""
    return [str(w.message) for w in warned if issubclass(w.category, RuntimeWarning)]


def test_a_closed_client_says_it_is_closed_without_a_warning(stack: ClientStack) -> None:
    client = Client(stack.url, stack.key)
    assert client.me().id == stack.principal_id  # it worked while open
    client.close()
    gc.collect()  # earlier tests' garbage (an unclosed socket's ResourceWarning) goes first
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        error = closed_error(client.me)
        closed_error(lambda: next(client.jobs()))
        client.close()  # again: nothing to do
        gc.collect()
    assert error.code == "client_closed"
    assert "client is closed" in error.message
    assert isinstance(error, JobcastError)
    assert isinstance(error, ValueError)
    assert never_awaited(warned) == []


def test_a_closed_async_client_says_it_is_closed_without_a_warning(stack: ClientStack) -> None:
    # It raised httpx's RuntimeError, which no `except JobcastError` caught.
    async def use_after_close() -> list[ClientClosedError]:
        client = AsyncClient(stack.url, stack.key)
        assert (await client.me()).id == stack.principal_id
        await client.aclose()
        raised = []
        for call in (client.me, lambda: anext(aiter(client.jobs()))):
            with pytest.raises(ClientClosedError) as closed:
                await call()
            raised.append(closed.value.with_traceback(None))
        with pytest.raises(ClientClosedError):
            client.events("user.me")
        await client.aclose()  # again: nothing to do
        return raised

    gc.collect()
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        raised = asyncio.run(use_after_close())
        gc.collect()
    assert [error.code for error in raised] == ["client_closed", "client_closed"]
    assert all("client is closed" in error.message for error in raised)
    assert never_awaited(warned) == []
