"""Cancelling the event stream, as Ctrl-C does through the sync client: the cancel is never
lost, whatever the stream was reading when it came."""

from __future__ import annotations

import asyncio

import pytest

from jobcast.client.stream import _next


class _Peer:
    """A connection whose next message is a future the test settles."""

    def __init__(self, message: asyncio.Future[str]) -> None:
        self.message = message

    def recv(self) -> asyncio.Future[str]:
        return self.message


def test_a_cancel_that_comes_as_a_message_arrives_is_not_lost() -> None:
    # On Python 3.11 `asyncio.wait_for` returned the message and dropped the cancel; a heartbeat
    # is no event, so the stream read on, and `jobcast watch` went on after Ctrl-C.
    async def cancelled_as_a_heartbeat_arrives() -> None:
        message = asyncio.get_running_loop().create_future()
        reading = asyncio.create_task(_next(_Peer(message), within=30))
        await asyncio.sleep(0)  # reading waits for the message
        message.set_result('{"type": "heartbeat"}')
        reading.cancel()  # in the same turn of the loop
        with pytest.raises(asyncio.CancelledError):
            await reading

    asyncio.run(cancelled_as_a_heartbeat_arrives())
