"""One principal's sockets in a process share one text budget: a tenant that never reads on
many sockets is bounded as a whole, and the budget is given back as frames are written."""

from __future__ import annotations

import asyncio

from realtime.connection import ClientConnection
from realtime.send_budget import SendBudget, SendBudgets
from tests.realtime.test_connection import HeldSocket, started_writing


def sharing(budget: SendBudget, queue_chars: int = 100) -> tuple[ClientConnection, HeldSocket]:
    socket = HeldSocket()
    conn = ClientConnection(socket, 100, queue_chars)  # type: ignore[arg-type]
    conn.share(budget)
    return conn, socket


def test_sockets_of_one_principal_share_its_budget() -> None:
    async def run() -> tuple[bool, bool, int]:
        budget = SendBudget(150)
        first, _ = sharing(budget)
        second, _ = sharing(budget)
        first.push("a" * 100)
        second.push("b" * 51)  # under its own 100, over the principal's 150
        return first.overflowed, second.overflowed, budget.held

    # The socket that pushes past the budget is the one closed; its text is given back.
    assert asyncio.run(run()) == (False, True, 100)


def test_a_frame_being_written_counts_until_it_is() -> None:
    async def run() -> tuple[bool, int]:
        budget = SendBudget(150)
        first, socket = sharing(budget)
        second, _ = sharing(budget)
        first.push("a" * 100)
        await started_writing()
        second.push("b" * 60)
        socket.open.set()
        await first.drained()
        return second.overflowed, budget.held

    assert asyncio.run(run()) == (True, 0)


def test_written_frames_give_the_principal_its_room_back() -> None:
    async def run() -> tuple[bool, int]:
        budget = SendBudget(150)
        first, socket = sharing(budget)
        second, _ = sharing(budget)
        socket.open.set()
        for _ in range(10):  # 1,000 characters through the first, never more than 100 held
            first.push("a" * 100)
            await first.drained()
        second.push("b" * 100)
        return first.overflowed or second.overflowed, budget.held

    assert asyncio.run(run()) == (False, 100)


def test_a_stopped_socket_gives_back_what_it_held() -> None:
    async def run() -> int:
        budget = SendBudget(150)
        conn, _ = sharing(budget)
        conn.push("a" * 40)
        conn.push("b" * 40)
        await started_writing()
        conn.stop()
        conn.stop()  # again, as a session's cleanup does after a close
        return budget.held

    assert asyncio.run(run()) == 0


def test_what_a_socket_queued_before_authenticating_moves_to_its_principal() -> None:
    async def run() -> tuple[bool, int]:
        budget = SendBudget(150)
        budget.held = 100
        socket = HeldSocket()
        conn = ClientConnection(socket, 100, 100)  # type: ignore[arg-type]
        conn.push("a" * 60)
        conn.share(budget)  # 160 held: over
        return conn.overflowed, budget.held

    assert asyncio.run(run()) == (True, 100)


def test_text_held_outside_the_queue_counts_until_released() -> None:
    async def run() -> tuple[bool, bool, int]:
        budget = SendBudget(150)
        conn, _ = sharing(budget)
        kept = conn.hold(90)
        conn.release(90)
        conn.push("a" * 100)
        refused = not conn.hold(60)
        return kept, refused and conn.overflowed, budget.held

    assert asyncio.run(run()) == (True, True, 0)


def test_release_after_a_stop_takes_nothing_twice() -> None:
    async def run() -> int:
        budget = SendBudget(150)
        other, _ = sharing(budget)
        other.push("o" * 50)
        conn, _ = sharing(budget)
        conn.hold(90)
        conn.stop()
        conn.release(90)  # a feed flushing its buffer after the session stopped the socket
        return budget.held

    assert asyncio.run(run()) == 50


def test_a_principal_budget_lives_while_one_of_its_sockets_does() -> None:
    budgets = SendBudgets(150)
    first = budgets.join("p1")
    assert budgets.join("p1") is first
    assert budgets.join("p2") is not first
    budgets.leave("p1", first)
    budgets.leave("p1", SendBudget(150))  # a socket refused before it joined: no change
    assert budgets.join("p1") is first
    for _ in range(3):
        budgets.leave("p1", first)
    assert budgets.join("p1") is not first
    assert first.limit == 150
