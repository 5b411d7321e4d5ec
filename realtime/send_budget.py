"""The text one principal's WebSockets may hold queued in this api process, all together.

Each connection's queue is bounded on its own (JOBCAST_WS_SEND_QUEUE_BYTES), but a principal
may hold many connections: one tenant that never reads on all of them would hold that many full
queues. Its connections share one budget; the one that pushes past it is closed as too slow
(4008) and gives its text back, so the others, and other tenants, go on.

Per process, not across the fleet: the memory it protects is this process's own, and the hot
path stays a few integer operations with no round trip.
"""

from __future__ import annotations


class SendBudget:
    """Characters of frame text held for one principal's connections (or for one connection
    not yet authenticated), and the most allowed."""

    __slots__ = ("held", "limit", "users")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        #: Connections sharing it: the budget is dropped with the last.
        self.users = 0


class SendBudgets:
    """One budget per principal with a connection in this process."""

    __slots__ = ("_by_principal", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._by_principal: dict[str, SendBudget] = {}

    def join(self, principal_id: str) -> SendBudget:
        budget = self._by_principal.get(principal_id)
        if budget is None:
            budget = self._by_principal[principal_id] = SendBudget(self.limit)
        budget.users += 1
        return budget

    def leave(self, principal_id: str, budget: SendBudget) -> None:
        """`budget` is no longer used by one connection: a connection that never joined (it was
        refused before) passes its own, and nothing changes."""
        if self._by_principal.get(principal_id) is not budget:
            return
        budget.users -= 1
        if budget.users <= 0:
            del self._by_principal[principal_id]
